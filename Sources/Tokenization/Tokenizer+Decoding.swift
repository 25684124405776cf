extension Tokenizer {
    /// Decodes ids into text as `tokenizers`' `decode(ids, skip_special_tokens=…)` does: the token
    /// strings (added tokens' content included) go through the decoder chain and are joined.
    /// Ids outside the vocabulary are skipped.
    /// - Parameters:
    ///   - ids: the ids.
    ///   - skipSpecialTokens: whether special added tokens are left out.
    /// - Returns: the text (invalid UTF-8 from byte tokens becomes U+FFFD).
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
        if decoderIsByteLevelOnly {
            // The ByteLevel decoder is the lossy UTF-8 reading of the tokens' bytes, which the
            // byte table already holds.
            var bytes: [UInt8] = []
            bytes.reserveCapacity(ids.count * 4)
            for id in ids {
                if skipSpecialTokens, specialIDs.contains(id) { continue }
                if id >= 0, Int(id) < tokenStrings.count, tokenStrings[Int(id)] != nil { bytes += tokenBytes(id) }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if skipSpecialTokens, specialIDs.contains(id) { continue }
            if let t = tokenString(id) { tokens.append(t) }
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decodeChain(tokens).joined()
    }
}
