/// Min-p filtering (Nguyen et al. 2024, "Turning Up the Heat: Min-p Sampling"), as transformers'
/// `MinPLogitsWarper`: a token survives when its probability is at least `minP` times the top
/// token's probability.
public struct MinPProcessor: LogitsProcessor {
    /// The fraction of the top probability a token needs, in [0, 1].
    public let minP: Float
    /// The most probable tokens always kept.
    public let minTokensToKeep: Int
    /// `min_p`.
    public var name: String { "min_p" }

    /// Creates the processor.
    /// - Parameters:
    ///   - minP: in [0, 1].
    ///   - minTokensToKeep: tokens kept whatever their probability, ≥ 1.
    /// - Throws: `OperatorError.invalidParameter` for values outside those ranges.
    public init(minP: Float, minTokensToKeep: Int = 1) throws {
        try OperatorError.require("min_p", minP, in: 0...1, "in [0, 1]")
        try OperatorError.require("min_tokens_to_keep", minTokensToKeep, in: 1..., "≥ 1")
        self.minP = minP
        self.minTokensToKeep = minTokensToKeep
    }

    /// Removes tokens below the scaled threshold.
    /// - Parameters:
    ///   - logits: the row to rewrite.
    ///   - context: unused.
    public func process(_ logits: inout [Float], context: LogitsContext) {
        guard let probabilities = try? Distribution.softmax(logits) else { return }
        EpsilonProcessor.remove(below: minP * (probabilities.max() ?? 0), probabilities: probabilities, from: &logits, keeping: minTokensToKeep)
    }
}
