/// Keeps the `k` largest logits (Fan et al. 2018), as transformers' `TopKLogitsWarper`: every
/// logit below the k-th largest is removed, so ties with the k-th are kept.
public struct TopKProcessor: LogitsProcessor {
    /// How many tokens survive (at least `minTokensToKeep`).
    public let k: Int
    /// `top_k`.
    public var name: String { "top_k" }

    /// Creates the processor.
    /// - Parameters:
    ///   - k: tokens to keep, ≥ 1.
    ///   - minTokensToKeep: a floor on `k`, ≥ 1 (transformers raises `k` to it).
    /// - Throws: `OperatorError.invalidParameter` for values below 1.
    public init(k: Int, minTokensToKeep: Int = 1) throws {
        try OperatorError.require("top_k", k, in: 1..., "≥ 1")
        try OperatorError.require("min_tokens_to_keep", minTokensToKeep, in: 1..., "≥ 1")
        self.k = max(k, minTokensToKeep)
    }

    /// Sets every logit below the k-th largest to `-inf`.
    /// - Parameters:
    ///   - logits: the row to rewrite.
    ///   - context: unused.
    public func process(_ logits: inout [Float], context: LogitsContext) {
        guard k < logits.count else { return }
        let threshold = Distribution.kthLargest(logits, k)
        for i in logits.indices where logits[i] < threshold { logits[i] = -.infinity }
    }
}
