import ModelRuntime

/// What DoLa and dynamic focus decoding read of a model in one pass: the final logits after the
/// context, and the LM head over the raw residual stream after each of some layers
/// (`ExitProbe.unnormalizedLogits`, transformers' `lm_head(hidden_states[j])`).
struct LayerReadings {
    /// The final layer's logits.
    var final: [Float]
    /// Per requested depth, in request order, the LM head over the residual stream after it.
    var layers: [[Float]]

    /// The candidate layers a method asks for, checked against the model.
    /// - Parameters:
    ///   - scorer: the node's bound model.
    ///   - parameter: the parameter naming the layers, for errors.
    ///   - candidates: the method's candidates given the layer count and whether the embeddings are tied.
    /// - Returns: the depths, non-empty.
    /// - Throws: `OperatorError` for a model without layers or no candidate below its depth.
    static func depths(of scorer: any TreeScorer, parameter: String, _ candidates: (_ layers: Int, _ tied: Bool) -> [Int]) throws -> [Int] {
        guard let total = scorer.layerCount, let runtime = scorer as? ModelSequenceScorer else {
            throw OperatorError(.unscorableContext, at: "model", "this model has no layers to read")
        }
        let depths = candidates(total, runtime.service.model.config.tiedEmbeddings)
        guard !depths.isEmpty else {
            throw OperatorError(.invalidParameter, at: parameter, "no candidate layer below the model's \(total)")
        }
        return depths
    }

    /// Reads a model after a context.
    /// - Parameters:
    ///   - scorer: the node's bound model.
    ///   - context: the committed tokens.
    ///   - depths: the layers to read (from `depths(of:parameter:_:)`).
    ///   - model: the model's parameter name, for errors.
    /// - Throws: the model's error, or `OperatorError.invalidDistribution` for non-finite final logits.
    init(_ scorer: any TreeScorer, context: [Int32], depths: [Int], model: String) throws {
        var read: [Int: [Float]] = [:]
        let exit = try EarlyExit(depths: depths, of: scorer.layerCount ?? 0) { probe in
            read[probe.depth] = probe.unnormalizedLogits
            return false
        }
        final = try scorer.nextLogits(context: context, exit: exit).logits
        try ScoreOp.requireFinite([final], model: model)
        layers = depths.map { read[$0]! }
    }
}
