/// Turns ids into text one id at a time, for streaming generated tokens to a user: never emits
/// half a UTF-8 character, and the concatenation of everything it emits (after `finish()`) equals
/// `tokenizer.decode(allIDs, skipSpecialTokens:)`.
///
/// It decodes a short window — the tokens not yet emitted plus one emitted token of context, so
/// decoders' first-token rules and byte-fallback runs see what a full decode sees — and emits the
/// new text once it no longer ends in an incomplete character.
public struct StreamingDetokenizer: Sendable {
    private let tokenizer: Tokenizer
    private let skipSpecialTokens: Bool
    private var ids: [Int32] = []
    /// Start of the decoding window in `ids`.
    private var windowStart = 0
    /// Length of the text of `ids[windowStart..<emittedEnd]` already emitted, in UTF-8 bytes.
    private var emittedBytes = 0
    /// Ids up to here have been emitted.
    private var emittedEnd = 0

    /// Creates a detokenizer.
    /// - Parameters:
    ///   - tokenizer: the tokenizer whose ids are fed.
    ///   - skipSpecialTokens: whether special added tokens are left out, as in `decode`.
    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Feeds one id.
    /// - Parameter id: the next id.
    /// - Returns: text that became complete with it (often empty while a character is partial).
    public mutating func feed(_ id: Int32) -> String {
        if skipSpecialTokens, tokenizer.isSpecial(id) { return "" }
        if tokenizer.tokenString(id) == nil { return "" }
        ids.append(id)
        // ByteFallback turns a whole run of byte tokens into U+FFFDs when any of it is invalid,
        // so nothing of a run is final until a non-byte token ends it.
        if tokenizer.isFallbackByte(id) { return "" }
        let text = Array(tokenizer.decode(Array(ids[windowStart...])).utf8)
        // A trailing U+FFFD (EF BF BD) may be the start of a character that later tokens complete.
        if text.count >= 3, text[(text.count - 3)...].elementsEqual([0xEF, 0xBF, 0xBD]) { return "" }
        return emit(text)
    }

    /// Emits whatever is still held back (an incomplete character becomes U+FFFD, as in `decode`).
    /// - Returns: the remaining text.
    public mutating func finish() -> String {
        guard emittedEnd < ids.count else { return "" }
        return emit(Array(tokenizer.decode(Array(ids[windowStart...])).utf8))
    }

    private mutating func emit(_ text: [UInt8]) -> String {
        let out = text.count > emittedBytes ? String(decoding: text[emittedBytes...], as: UTF8.self) : ""
        emittedEnd = ids.count
        // Keep the last token as context unless it is a byte-fallback byte, whose run must start
        // the window; then the window holds the whole run from its first byte token.
        var start = ids.count - 1
        while start > windowStart, tokenizer.isFallbackByte(ids[start]) { start -= 1 }
        if start > windowStart {
            windowStart = start
            emittedBytes = tokenizer.decode(Array(ids[windowStart..<emittedEnd])).utf8.count
        } else {
            emittedBytes = text.count
        }
        return out
    }
}

extension Tokenizer {
    /// Whether an id is a `<0xAB>` byte-fallback token that a ByteFallback decoder groups.
    func isFallbackByte(_ id: Int32) -> Bool {
        guard decoder?.containsByteFallback == true, addedByID.indices.contains(Int(id)), addedByID[Int(id)] == nil,
              Int(id) < model.vocabulary.idToToken.count, let t = model.vocabulary.idToToken[Int(id)] else { return false }
        return Decoder.fallbackByte(t) != nil
    }
}
