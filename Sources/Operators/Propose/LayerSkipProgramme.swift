import ModelRuntime

/// CLaSp's in-context layer search (Chen et al. 2025, "CLaSp: In-Context Layer Skip for
/// Self-Speculative Decoding"): the skip set of a self-speculative draft re-chosen from the last
/// committed token by dynamic programming over the layers, with no training and no search history.
///
/// The full model's residual stream of that token after each layer, `x_i`, is the objective.
/// `g[i][j]` is the state after `i` layers with `j` of them skipped that is most similar (cosine) to
/// `x_i`: either layer `i` run on `g[i−1][j]` or skipped from `g[i−1][j−1]`. Every layer's
/// candidates run in one `Model.layerStep` call (the row with no skip is `x_i` itself), so the
/// programme costs about one pass of `count + 1` rows of the token, and the set is read back from
/// `g[L][count]`'s choices.
enum LayerSkipProgramme {
    /// What the programme found.
    struct Result: Equatable {
        /// The layers to skip, `count` of them.
        var skipped: Set<Int>
        /// The cosine similarity of `g[L][count]` to the full model's last state.
        var similarity: Double
        /// `g[L][count]`: the token's residual stream with `skipped` skipped.
        var state: [Float]
    }

    /// Cosine similarity in Double (0 for a zero vector).
    static func cosine(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Double {
        var dot = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            aa += Double(x) * Double(x)
            bb += Double(y) * Double(y)
        }
        return aa > 0 && bb > 0 ? dot / (aa * bb).squareRoot() : 0
    }

    /// Runs the programme for the token at `position` of `sequence`.
    /// - Parameters:
    ///   - model: the model.
    ///   - sequence: a sequence holding positions `0..<position` at full depth.
    ///   - position: the token's position.
    ///   - token: the token.
    ///   - count: layers to skip, in `0..<layerCount`.
    /// - Returns: the set, its similarity and state.
    /// - Throws: the runtime's error.
    static func search(model: Model, sequence: KVSequence, position: Int, token: Int32, count: Int) throws -> Result {
        let total = model.config.layerCount, H = model.config.hiddenSize
        precondition((0..<total).contains(count), "skip \(count) of \(total) layers")
        // previous[j]: g[i − 1][j]; skips[i][j]: whether g[i][j] skipped layer i − 1 (0-based).
        var previous: [ArraySlice<Float>] = [ArraySlice(try model.embedding(of: token))]
        var skips: [[Bool]] = [[false]]
        for layer in 0..<total {
            let i = layer + 1
            let ran = try model.layerStep(layer, states: previous.flatMap { $0 }, position: position, sequence: sequence)
            let run = (0..<previous.count).map { ran[($0 * H)..<(($0 + 1) * H)] }
            let target = run[0]
            var next: [ArraySlice<Float>] = [], skipped: [Bool] = []
            for j in 0...min(i, count) {
                let runCandidate = j < run.count ? run[j] : nil
                let skipCandidate = j >= 1 ? previous[j - 1] : nil
                if let a = runCandidate, let b = skipCandidate, cosine(b, target) > cosine(a, target) {
                    next.append(b); skipped.append(true)
                } else if let a = runCandidate {
                    next.append(a); skipped.append(false)
                } else {
                    next.append(skipCandidate!); skipped.append(true)
                }
            }
            skips.append(skipped)
            previous = next
            if i == total {
                var set = Set<Int>(), j = count
                for k in stride(from: total, through: 1, by: -1) where j > 0 {
                    if skips[k][j] { set.insert(k - 1); j -= 1 }
                }
                return Result(skipped: set, similarity: cosine(previous[count], target), state: Array(previous[count]))
            }
        }
        preconditionFailure("a model has at least one layer")
    }

    /// The programme on a hypothesis's own cache, for its last committed token whose prefix the
    /// cache holds (the pending tree is settled first), charged to the model's usage.
    /// - Parameters:
    ///   - scorer: the hypothesis's scorer of the model.
    ///   - context: the committed tokens.
    ///   - count: layers to skip.
    /// - Returns: the result, `nil` for an empty context.
    /// - Throws: the runtime's error.
    static func search(_ scorer: ModelSequenceScorer, context: [Int32], count: Int) throws -> Result? {
        guard !context.isEmpty else { return nil }
        let position = min(scorer.settledPrefix(of: context), context.count - 1)
        let model = scorer.service.model
        let result = try search(model: model, sequence: scorer.sequence, position: position, token: context[position], count: count)
        scorer.usage.recordLayerSteps(model.config.layerCount, of: model.config.layerCount)
        return result
    }
}
