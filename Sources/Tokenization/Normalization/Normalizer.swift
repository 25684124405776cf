import Foundation

/// A text pattern of `tokenizer.json` (`{"String": "…"}` or `{"Regex": "…"}`), used by Split,
/// Replace normalizers and Replace decoders.
enum TextPattern: Sendable {
    case literal([UInt8])
    case regex(Regex)

    init(json: JSONValue) throws {
        if let s = try json.member("String") {
            self = .literal(Array(try s.string().utf8))
        } else if let r = try json.member("Regex") {
            do {
                self = .regex(try Regex(try r.string()))
            } catch let e as RegexSyntaxError {
                throw r.error("unsupported or invalid regular expression: \(e.message)", code: .unsupported)
            }
        } else {
            throw json.error("expected {\"String\": …} or {\"Regex\": …}")
        }
    }

    /// Non-overlapping matches in `text`, left to right, as `(range, isMatch)` pieces covering the
    /// whole text (the `Pattern::find_matches` contract of `tokenizers`: an empty text gives one
    /// empty non-match).
    func pieces(in text: UnsafeBufferPointer<UInt8>) -> [(Range<Int>, Bool)] {
        if text.isEmpty { return [(0..<0, false)] }
        var out: [(Range<Int>, Bool)] = []
        var previous = 0
        func add(_ m: Range<Int>) {
            if previous != m.lowerBound { out.append((previous..<m.lowerBound, false)) }
            out.append((m, true))
            previous = m.upperBound
        }
        switch self {
        case .literal(let needle):
            if needle.isEmpty {
                // An empty literal is an empty regex: it matches between every two characters.
                var i = 0
                while i <= text.count {
                    add(i..<i)
                    if i == text.count { break }
                    i += scalarLength(leadByte: text[i])
                }
            } else {
                var i = 0
                while i + needle.count <= text.count {
                    if text[i] == needle[0], needle.withUnsafeBufferPointer({ memcmp(text.baseAddress! + i, $0.baseAddress!, needle.count) == 0 }) {
                        add(i..<(i + needle.count))
                        i += needle.count
                    } else {
                        i += 1
                    }
                }
            }
        case .regex(let regex):
            regex.forEachMatch(in: text) { add($0) }
        }
        if previous != text.count { out.append((previous..<text.count, false)) }
        return out
    }

    /// Replaces every match by `content`.
    func replacingAll(in text: [UInt8], with content: [UInt8]) -> [UInt8] {
        text.withUnsafeBufferPointer { buffer in
            var out: [UInt8] = []
            out.reserveCapacity(text.count)
            for (range, isMatch) in pieces(in: buffer) {
                if isMatch { out.append(contentsOf: content) } else { out.append(contentsOf: buffer[range]) }
            }
            return out
        }
    }
}

/// A normalizer of `tokenizer.json`: transforms text before pre-tokenization.
indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd
    case lowercase
    case strip(left: Bool, right: Bool)
    case prepend([UInt8])
    case replace(TextPattern, [UInt8])
    case sequence([Normalizer])

    init(json: JSONValue) throws {
        let type = try json.typeName()
        switch type {
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "Strip": self = .strip(left: try json.bool("strip_left", default: true), right: try json.bool("strip_right", default: true))
        case "Prepend": self = .prepend(Array(try json.string("prepend").utf8))
        case "Replace":
            self = .replace(try TextPattern(json: try json.required("pattern")), Array(try json.string("content").utf8))
        case "Sequence":
            self = .sequence(try json.required("normalizers").array().map { try Normalizer(json: $0) })
        default:
            throw json.unsupported("normalizer", type)
        }
    }

    /// Normalizes UTF-8 text (always valid UTF-8 in and out).
    func apply(_ text: [UInt8]) -> [UInt8] {
        switch self {
        case .nfc: return mapString(text) { $0.precomposedStringWithCanonicalMapping }
        case .nfd: return mapString(text) { $0.decomposedStringWithCanonicalMapping }
        case .nfkc: return mapString(text) { $0.precomposedStringWithCompatibilityMapping }
        case .nfkd: return mapString(text) { $0.decomposedStringWithCompatibilityMapping }
        case .lowercase:
            if text.allSatisfy({ $0 < 0x80 }) { return text.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 } }
            return mapString(text) { $0.lowercased() }
        case .strip(let left, let right):
            return text.withUnsafeBufferPointer { p in
                var start = 0, end = p.count
                if left {
                    while start < end {
                        let (v, n) = decodeScalar(p, start)
                        if !CharacterClass.isWhitespace(v) { break }
                        start += n
                    }
                }
                if right {
                    while end > start {
                        var k = end - 1
                        while k > start, p[k] & 0xC0 == 0x80 { k -= 1 }
                        if !CharacterClass.isWhitespace(decodeScalar(p, k).value) { break }
                        end = k
                    }
                }
                return Array(p[start..<end])
            }
        case .prepend(let prefix):
            return text.isEmpty ? text : prefix + text
        case .replace(let pattern, let content):
            return pattern.replacingAll(in: text, with: content)
        case .sequence(let steps):
            var t = text
            for s in steps { t = s.apply(t) }
            return t
        }
    }

    private func mapString(_ text: [UInt8], _ f: (String) -> String) -> [UInt8] {
        if text.allSatisfy({ $0 < 0x80 }) { return text }
        return Array(f(String(decoding: text, as: UTF8.self)).utf8)
    }
}
