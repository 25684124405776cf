/// Locally typical sampling (Meister et al. 2023, "Locally Typical Sampling"), as transformers'
/// `TypicalLogitsWarper`: tokens are ranked by how far their surprisal `−log p` lies from the
/// entropy `H` of the distribution, and the nearest are kept until their mass reaches `mass`;
/// tokens tied in distance with the last one kept survive too. Unlike top-p, the most likely token
/// is dropped when it is much more predictable than the distribution is on average.
public struct TypicalProcessor: LogitsProcessor {
    /// The mass of the typical set, in (0, 1).
    public let mass: Float
    /// The tokens nearest the entropy always kept (in typical order, not by probability).
    public let minTokensToKeep: Int
    /// `typical_p`.
    public var name: String { "typical_p" }

    /// Creates the processor.
    /// - Parameters:
    ///   - mass: the mass to keep, in (0, 1) (transformers' range; `LogitsPipeline` reads 1 as off).
    ///   - minTokensToKeep: tokens kept whatever their mass, ≥ 1.
    /// - Throws: `OperatorError.invalidParameter` for values outside those ranges.
    public init(mass: Float, minTokensToKeep: Int = 1) throws {
        try OperatorError.require("typical_p", mass, in: Float.leastNonzeroMagnitude..<1, "in (0, 1)")
        try OperatorError.require("min_tokens_to_keep", minTokensToKeep, in: 1..., "≥ 1")
        self.mass = mass
        self.minTokensToKeep = minTokensToKeep
    }

    /// Removes the tokens outside the typical set.
    /// - Parameters:
    ///   - logits: the row to rewrite.
    ///   - context: unused.
    public func process(_ logits: inout [Float], context: LogitsContext) {
        guard let logProbabilities = try? Distribution.logSoftmax(logits),
              let probabilities = try? Distribution.softmax(logits) else { return }
        let entropy = Float(Distribution.entropy(logProbabilities: logProbabilities))
        // Masked tokens are infinitely far from the entropy: torch sorts them last, where they add
        // no mass, so only the live tokens need sorting.
        let live = logits.indices.filter { logits[$0] > -.infinity }
        var distance = [Float](repeating: .infinity, count: logits.count)
        for i in live { distance[i] = abs(-logProbabilities[i] - entropy) }
        let order = live.sorted { (distance[$0], $0) < (distance[$1], $1) }
        // transformers' cut: the first token at which the float32 cumulative mass is no longer
        // below `mass`. When none is, the cut falls on the last token, whose distance nothing
        // exceeds, so nothing is removed.
        var cumulative = 0.0
        guard let cut = order.firstIndex(where: { i in
            cumulative += Double(probabilities[i])
            return !(Float(cumulative) < mass)
        }) else { return }
        let threshold = distance[order[cut]]
        for i in order.dropFirst(minTokensToKeep) where distance[i] > threshold { logits[i] = -.infinity }
    }
}
