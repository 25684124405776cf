/// Epsilon sampling (Hewitt et al. 2022, "Truncation Sampling as Language Model Desmoothing"), as
/// transformers' `EpsilonLogitsWarper`: a token survives when its probability is at least
/// `epsilon`; the `minTokensToKeep` largest logits survive whatever their probability.
public struct EpsilonProcessor: LogitsProcessor {
    /// The probability floor, in (0, 1).
    public let epsilon: Float
    /// The most probable tokens always kept.
    public let minTokensToKeep: Int
    /// `epsilon_cutoff`.
    public var name: String { "epsilon_cutoff" }

    /// Creates the processor.
    /// - Parameters:
    ///   - epsilon: in (0, 1) (transformers' range; `LogitsPipeline` reads 0 as off).
    ///   - minTokensToKeep: tokens kept whatever their probability, ≥ 1.
    /// - Throws: `OperatorError.invalidParameter` for values outside those ranges.
    public init(epsilon: Float, minTokensToKeep: Int = 1) throws {
        try OperatorError.require("epsilon_cutoff", epsilon, in: Float.leastNonzeroMagnitude..<1, "in (0, 1)")
        try OperatorError.require("min_tokens_to_keep", minTokensToKeep, in: 1..., "≥ 1")
        self.epsilon = epsilon
        self.minTokensToKeep = minTokensToKeep
    }

    /// Removes tokens below `epsilon`.
    /// - Parameters:
    ///   - logits: the row to rewrite.
    ///   - context: unused.
    public func process(_ logits: inout [Float], context: LogitsContext) {
        guard let probabilities = try? Distribution.softmax(logits) else { return }
        Self.remove(below: epsilon, probabilities: probabilities, from: &logits, keeping: minTokensToKeep)
    }

    /// The cut epsilon, eta and min-p share: removes every token whose probability is below
    /// `threshold` unless its logit is among the `minTokensToKeep` largest (ties with the last of
    /// them included, as transformers compares with `torch.topk`'s value).
    /// - Parameters:
    ///   - threshold: the probability a token needs.
    ///   - probabilities: the softmax of `logits`.
    ///   - logits: the row to rewrite.
    ///   - minTokensToKeep: ≥ 1.
    static func remove(below threshold: Float, probabilities: [Float], from logits: inout [Float], keeping minTokensToKeep: Int) {
        let floor = Distribution.kthLargest(logits, min(minTokensToKeep, logits.count))
        for i in logits.indices where probabilities[i] < threshold && logits[i] < floor { logits[i] = -.infinity }
    }
}
