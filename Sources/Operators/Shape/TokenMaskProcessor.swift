/// Removes tokens by id: a fixed list of forbidden tokens (transformers' `SuppressTokensLogitsProcessor`)
/// or, inverted, every token outside an allowed list.
public struct TokenMaskProcessor: LogitsProcessor {
    /// Which tokens the list names.
    public enum Mode: String, Sendable {
        /// The listed tokens are removed.
        case forbid
        /// Only the listed tokens survive.
        case allow
    }

    /// How `tokens` is read.
    public let mode: Mode
    /// The listed tokens.
    public let tokens: Set<Int32>
    /// `mask`.
    public var name: String { "mask" }

    /// Creates the processor.
    /// - Parameters:
    ///   - mode: forbid or allow the listed tokens.
    ///   - tokens: token ids, ≥ 0.
    /// - Throws: `OperatorError.invalidParameter` for a negative id, or an empty allow list (which
    ///   would mask every token).
    public init(_ mode: Mode, tokens: some Sequence<Int32>) throws {
        self.mode = mode
        self.tokens = Set(tokens)
        if let bad = self.tokens.first(where: { $0 < 0 }) {
            throw OperatorError(.invalidParameter, at: "tokens", "token id \(bad) is negative")
        }
        if mode == .allow && self.tokens.isEmpty {
            throw OperatorError(.invalidParameter, at: "tokens", "an empty allow list would mask every token")
        }
    }

    /// Sets removed tokens to `-inf`.
    /// - Parameters:
    ///   - logits: the row to rewrite.
    ///   - context: unused.
    public func process(_ logits: inout [Float], context: LogitsContext) {
        switch mode {
        case .forbid:
            for t in tokens where Int(t) < logits.count { logits[Int(t)] = -.infinity }
        case .allow:
            for i in logits.indices where !tokens.contains(Int32(i)) { logits[i] = -.infinity }
        }
    }
}
