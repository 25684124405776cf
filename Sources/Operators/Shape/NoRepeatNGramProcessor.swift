/// transformers' `no_repeat_ngram_size` (`NoRepeatNGramLogitsProcessor`; Paulus et al. 2018, "A Deep
/// Reinforced Model for Abstractive Summarization"): a token that would complete an n-gram already
/// in the context (prompt included) is removed. The n-grams are those whose first n − 1 tokens are
/// the context's last n − 1; with n = 1 every token already in the context is removed. A context
/// shorter than n − 1 tokens bans nothing, as transformers' `cur_len + 1 < ngram_size` rule.
public struct NoRepeatNGramProcessor: LogitsProcessor {
    /// The n-gram length, ≥ 1.
    public let size: Int
    /// `no_repeat_ngram_size`.
    public var name: String { "no_repeat_ngram_size" }
    /// It reads the context's n-grams.
    public var readsContext: Bool { true }

    /// Creates the processor.
    /// - Parameter size: the n-gram length, ≥ 1.
    /// - Throws: `OperatorError.invalidParameter` for a size below 1.
    public init(size: Int) throws {
        try OperatorError.require("no_repeat_ngram_size", size, in: 1..., "≥ 1 (0 = off)")
        self.size = size
    }

    /// The tokens that would repeat an n-gram of `tokens` after them.
    /// - Parameter tokens: the context.
    /// - Returns: the banned tokens, in the order their n-grams occur (duplicates possible).
    public func banned(after tokens: [Int32]) -> [Int32] {
        let prefixLength = size - 1
        guard tokens.count >= prefixLength + 1 else { return [] }
        let prefix = tokens.suffix(prefixLength)
        var banned: [Int32] = []
        for start in 0 ... (tokens.count - size) where tokens[start ..< start + prefixLength].elementsEqual(prefix) {
            banned.append(tokens[start + prefixLength])
        }
        return banned
    }

    /// Removes every token that would complete a repeated n-gram.
    /// - Parameters:
    ///   - logits: the row to rewrite.
    ///   - context: the tokens before the position.
    public func process(_ logits: inout [Float], context: LogitsContext) {
        for token in banned(after: context.tokens) where token >= 0 && Int(token) < logits.count {
            logits[Int(token)] = -.infinity
        }
    }
}
