/// OpenAI's presence and frequency penalties: `logit[j] −= count[j] · frequency + (count[j] > 0) ·
/// presence`, where `count[j]` is how often token j was generated so far (the prompt does not
/// count, as in the OpenAI API and vLLM).
public struct OccurrencePenaltyProcessor: LogitsProcessor {
    /// The OpenAI API's documented range for both penalties.
    public static let allowedRange: ClosedRange<Float> = -2...2

    /// Subtracted once from every token generated at least once.
    public let presence: Float
    /// Subtracted per occurrence of a generated token.
    public let frequency: Float
    /// `presence_frequency_penalty`.
    public var name: String { "presence_frequency_penalty" }
    /// It counts the generated tokens.
    public var readsContext: Bool { true }

    /// Creates the processor.
    /// - Parameters:
    ///   - presence: in [-2, 2].
    ///   - frequency: in [-2, 2].
    /// - Throws: `OperatorError.invalidParameter` outside that range.
    public init(presence: Float, frequency: Float) throws {
        try OperatorError.require("presence_penalty", presence, in: Self.allowedRange, "in [-2, 2]")
        try OperatorError.require("frequency_penalty", frequency, in: Self.allowedRange, "in [-2, 2]")
        self.presence = presence
        self.frequency = frequency
    }

    /// Applies both penalties.
    /// - Parameters:
    ///   - logits: the row to rewrite.
    ///   - context: only `context.generated` is counted.
    public func process(_ logits: inout [Float], context: LogitsContext) {
        var counts = [Int](repeating: 0, count: logits.count)
        for token in context.generated where token >= 0 && Int(token) < logits.count { counts[Int(token)] += 1 }
        for i in logits.indices where counts[i] > 0 {
            logits[i] -= Float(counts[i]) * frequency + presence
        }
    }
}
