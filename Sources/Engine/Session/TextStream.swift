import Tokenization

/// Turns emitted tokens into text as they stream: through the tokenizer's streaming detokenizer,
/// or, when stop strings are matched, from the stop condition's bytes (which hold back a possible
/// stop string), completing UTF-8 characters split across steps.
struct TextStream {
    private var detokenizer: StreamingDetokenizer?
    private let usesBytes: Bool
    private var carry: [UInt8] = []
    /// Everything emitted so far.
    private(set) var all = ""

    init(tokenizer: Tokenizer?, matchesStopStrings: Bool) {
        detokenizer = tokenizer.map { StreamingDetokenizer(tokenizer: $0, skipSpecialTokens: true) }
        usesBytes = matchesStopStrings && tokenizer != nil
    }

    /// The text of newly emitted tokens.
    mutating func append(_ tokens: [Int32], bytes: [UInt8]) -> String {
        var chunk = ""
        if usesBytes {
            carry += bytes
            let complete = Self.completePrefix(carry)
            chunk = String(decoding: carry[..<complete], as: UTF8.self)
            carry.removeFirst(complete)
        } else if detokenizer != nil {
            for token in tokens { chunk += detokenizer!.feed(token) }
        }
        all += chunk
        return chunk
    }

    /// Whatever was held back, at the end of the run.
    mutating func finish() -> String {
        var chunk = ""
        if usesBytes {
            chunk = String(decoding: carry, as: UTF8.self)
            carry = []
        } else if detokenizer != nil {
            chunk = detokenizer!.finish()
        }
        all += chunk
        return chunk
    }

    /// Length of the longest prefix that does not end inside a UTF-8 character.
    static func completePrefix(_ bytes: [UInt8]) -> Int {
        // A character is at most 4 bytes: look back at most 3 for an unfinished lead byte.
        for back in 1...min(3, max(1, bytes.count)) where bytes.count >= back {
            let b = bytes[bytes.count - back]
            if b & 0xC0 == 0x80 { continue }  // continuation byte
            let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            return length > back ? bytes.count - back : bytes.count
        }
        return bytes.count
    }
}
