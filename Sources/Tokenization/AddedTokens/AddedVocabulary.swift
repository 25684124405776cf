/// One entry of `added_tokens` in `tokenizer.json`.
struct AddedToken: Sendable {
    var id: Int32
    var content: String
    var singleWord: Bool
    var lstrip: Bool
    var rstrip: Bool
    var normalized: Bool
    var special: Bool

    init(id: Int32, content: String, special: Bool) {
        self.id = id
        self.content = content
        self.special = special
        singleWord = false
        lstrip = false
        rstrip = false
        normalized = false
    }

    init(json: JSONValue) throws {
        let idValue = try json.required("id")
        let id = try idValue.int()
        guard id >= 0, id < Int(Int32.max) else { throw idValue.error("token id out of range") }
        self.id = Int32(id)
        content = try json.string("content")
        singleWord = try json.bool("single_word", default: false)
        lstrip = try json.bool("lstrip", default: false)
        rstrip = try json.bool("rstrip", default: false)
        special = try json.bool("special", default: false)
        normalized = try json.bool("normalized", default: !special)
    }
}

/// Finds added tokens in text the way `tokenizers`' AddedVocabulary does: leftmost-longest
/// matches, skipping `single_word` tokens that touch a word character, and widening `lstrip` /
/// `rstrip` tokens over the whitespace beside them.
struct AddedTokenMatcher: Sendable {
    private struct Pattern {
        var bytes: [UInt8]
        var token: AddedToken
    }
    /// Patterns by first byte, longest first.
    private var byFirstByte: [[Pattern]] = Array(repeating: [], count: 256)
    var isEmpty = true

    init(tokens: [AddedToken], patternOf: (AddedToken) -> [UInt8]) {
        for t in tokens {
            let bytes = patternOf(t)
            guard let first = bytes.first else { continue }
            byFirstByte[Int(first)].append(Pattern(bytes: bytes, token: t))
            isEmpty = false
        }
        for i in 0..<256 { byFirstByte[i].sort { $0.bytes.count > $1.bytes.count } }
    }

    /// Splits `text` into runs of plain text (`id == nil`) and added tokens.
    func split(_ text: [UInt8]) -> [(range: Range<Int>, id: Int32?)] {
        if isEmpty || text.isEmpty { return [(0..<text.count, nil)] }
        return text.withUnsafeBufferPointer { p in
            var out: [(Range<Int>, Int32?)] = []
            var startOffset = 0
            var searchFrom = 0
            while let (found, token) = nextMatch(p, from: searchFrom) {
                searchFrom = found.upperBound
                var start = found.lowerBound, stop = found.upperBound
                if token.singleWord {
                    let startSpace = start == 0 || !endsWithWordCharacter(p, start)
                    let stopSpace = stop == p.count || !startsWithWordCharacter(p, stop)
                    if !startSpace || !stopSpace { continue }
                }
                if token.lstrip {
                    var k = start
                    while k > 0 {
                        var j = k - 1
                        while j > 0, p[j] & 0xC0 == 0x80 { j -= 1 }
                        if !CharacterClass.isWhitespace(decodeScalar(p, j).value) { break }
                        k = j
                    }
                    start = max(k, startOffset)
                }
                if token.rstrip {
                    while stop < p.count {
                        let (v, n) = decodeScalar(p, stop)
                        if !CharacterClass.isWhitespace(v) { break }
                        stop += n
                    }
                }
                if startOffset < start { out.append((startOffset..<start, nil)) }
                out.append((start..<stop, token.id))
                startOffset = stop
            }
            if startOffset != p.count { out.append((startOffset..<p.count, nil)) }
            return out
        }
    }

    private func nextMatch(_ p: UnsafeBufferPointer<UInt8>, from: Int) -> (Range<Int>, AddedToken)? {
        var i = from
        while i < p.count {
            for pattern in byFirstByte[Int(p[i])] where pattern.bytes.count <= p.count - i {
                let matches = pattern.bytes.withUnsafeBufferPointer { memcmp(p.baseAddress! + i, $0.baseAddress!, $0.count) == 0 }
                if matches { return (i..<(i + pattern.bytes.count), pattern.token) }
            }
            i += 1
        }
        return nil
    }

    private func endsWithWordCharacter(_ p: UnsafeBufferPointer<UInt8>, _ end: Int) -> Bool {
        var j = end - 1
        while j > 0, p[j] & 0xC0 == 0x80 { j -= 1 }
        return isWord(decodeScalar(p, j).value)
    }

    private func startsWithWordCharacter(_ p: UnsafeBufferPointer<UInt8>, _ start: Int) -> Bool {
        isWord(decodeScalar(p, start).value)
    }

    /// `tokenizers` calls a character part of a word when it is alphanumeric or `_`.
    private func isWord(_ v: UInt32) -> Bool {
        guard let s = Unicode.Scalar(v) else { return false }
        return s == "_" || CharacterClass.isAlphanumeric(s)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
