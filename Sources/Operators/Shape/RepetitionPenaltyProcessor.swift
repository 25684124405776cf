/// The CTRL repetition penalty (Keskar et al. 2019) with transformers' sign rule: for every token
/// already in the context (prompt included), a positive logit is divided by the penalty and a
/// negative one multiplied, so a penalty > 1 always makes the token less likely.
public struct RepetitionPenaltyProcessor: LogitsProcessor {
    /// The penalty, > 0; 1 is neutral.
    public let penalty: Float
    /// `repetition_penalty`.
    public var name: String { "repetition_penalty" }
    /// It counts the context's tokens.
    public var readsContext: Bool { true }

    /// Creates the processor.
    /// - Parameter penalty: a positive penalty (CTRL suggests 1.2).
    /// - Throws: `OperatorError.invalidParameter` for a non-positive penalty.
    public init(penalty: Float) throws {
        try OperatorError.require("repetition_penalty", penalty, in: Float.leastNonzeroMagnitude..., "> 0")
        self.penalty = penalty
    }

    /// Penalises each distinct context token once.
    /// - Parameters:
    ///   - logits: the row to rewrite.
    ///   - context: the tokens whose repetition is penalised (all of them).
    public func process(_ logits: inout [Float], context: LogitsContext) {
        var seen = [Bool](repeating: false, count: logits.count)
        for token in context.tokens where token >= 0 && Int(token) < logits.count && !seen[Int(token)] {
            seen[Int(token)] = true
            let x = logits[Int(token)]
            logits[Int(token)] = x < 0 ? x * penalty : x / penalty
        }
    }
}
