/// A decoder of `tokenizer.json`: turns the token strings of ids back into text, step by step
/// over the list of strings as `tokenizers`' `decode_chain` does.
indirect enum Decoder: Sendable {
    case byteLevel
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case replace(TextPattern, [UInt8])
    case metaspace(replacement: Unicode.Scalar, prepend: PrependScheme)
    case sequence([Decoder])

    init(json: JSONValue) throws {
        let type = try json.typeName()
        switch type {
        case "ByteLevel": self = .byteLevel
        case "ByteFallback": self = .byteFallback
        case "Fuse": self = .fuse
        case "Strip":
            let content = try json.string("content")
            guard content.unicodeScalars.count == 1 else { throw try json.required("content").error("expected one character") }
            self = .strip(content: content.unicodeScalars.first!, start: max(0, try json.int("start", default: 0)),
                          stop: max(0, try json.int("stop", default: 0)))
        case "Replace":
            self = .replace(try TextPattern(json: try json.required("pattern")), Array(try json.string("content").utf8))
        case "Metaspace":
            let replacement = try json.string("replacement")
            guard replacement.unicodeScalars.count == 1 else { throw try json.required("replacement").error("expected one character") }
            let scheme = try PrependScheme(metaspace: json)
            self = .metaspace(replacement: replacement.unicodeScalars.first!, prepend: scheme)
        case "Sequence":
            self = .sequence(try json.required("decoders").array().map { try Decoder(json: $0) })
        default:
            throw json.unsupported("decoder", type)
        }
    }

    /// Whether the decoder is just ByteLevel (decoding can then concatenate token bytes).
    var isByteLevelOnly: Bool {
        if case .byteLevel = self { return true }
        return false
    }

    /// Whether the chain decodes GPT-2 byte-alphabet tokens.
    var containsByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .sequence(let s): return s.contains { $0.containsByteLevel }
        default: return false
        }
    }

    var containsByteFallback: Bool {
        switch self {
        case .byteFallback: return true
        case .sequence(let s): return s.contains { $0.containsByteFallback }
        default: return false
        }
    }

    /// Decodes a list of token strings into a list of strings (joined by the caller).
    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for t in tokens {
                if let b = ByteLevelAlphabet.bytes(of: t) { bytes += b } else { bytes += Array(t.utf8) }
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case .byteFallback:
            var out: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let s = String(validating: pending, as: UTF8.self) {
                    out.append(s)
                } else {
                    // `tokenizers` gives one replacement character per byte of an invalid run.
                    out.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count))
                }
                pending.removeAll()
            }
            for t in tokens {
                if let b = Self.fallbackByte(t) { pending.append(b) } else {
                    flush()
                    out.append(t)
                }
            }
            flush()
            return out
        case .fuse:
            return [tokens.joined()]
        case .strip(let content, let start, let stop):
            return tokens.map { token in
                let chars = Array(token.unicodeScalars)
                var startCut = 0
                for (i, c) in chars.enumerated().prefix(start) {
                    if c == content { startCut = i + 1 } else { break }
                }
                var stopCut = chars.count
                for i in 0..<min(stop, chars.count) {
                    let index = chars.count - i - 1
                    if chars[index] == content { stopCut = index } else { break }
                }
                guard startCut < stopCut else { return "" }
                var s = String.UnicodeScalarView()
                s.append(contentsOf: chars[startCut..<stopCut])
                return String(s)
            }
        case .replace(let pattern, let content):
            return tokens.map { String(decoding: pattern.replacingAll(in: Array($0.utf8), with: content), as: UTF8.self) }
        case .metaspace(let replacement, let prepend):
            return tokens.enumerated().map { i, token in
                var s = String.UnicodeScalarView()
                for c in token.unicodeScalars {
                    if c == replacement {
                        // As in `tokenizers`: in the first token the replacement character is dropped.
                        if i == 0 && prepend != .never { continue }
                        s.append(" ")
                    } else {
                        s.append(c)
                    }
                }
                return String(s)
            }
        case .sequence(let steps):
            var t = tokens
            for s in steps { t = s.decodeChain(t) }
            return t
        }
    }

    /// The byte of a `<0xAB>` token.
    static func fallbackByte(_ token: String) -> UInt8? {
        let u = Array(token.utf8)
        guard u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E else { return nil }
        return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
    }

    /// The bytes one token contributes in the middle of a sequence (no first-token rules, no
    /// stripping of a fused text's ends): what constraint masks and n-gram stores match against.
    func middleBytes(_ token: String) -> [UInt8] {
        var pieces: [Either] = [.text(token)]
        middle(&pieces)
        var out: [UInt8] = []
        for p in pieces {
            switch p {
            case .text(let s): out += Array(s.utf8)
            case .bytes(let b): out += b
            }
        }
        return out
    }

    private enum Either {
        case text(String)
        case bytes([UInt8])
    }

    private func middle(_ pieces: inout [Either]) {
        switch self {
        case .byteLevel:
            pieces = pieces.map {
                guard case .text(let t) = $0 else { return $0 }
                return .bytes(ByteLevelAlphabet.bytes(of: t) ?? Array(t.utf8))
            }
        case .byteFallback:
            pieces = pieces.map {
                guard case .text(let t) = $0, let b = Self.fallbackByte(t) else { return $0 }
                return .bytes([b])
            }
        case .fuse, .strip:
            break
        case .replace, .metaspace:
            pieces = pieces.map {
                guard case .text(let t) = $0 else { return $0 }
                if case .metaspace(let replacement, _) = self {
                    return .text(String(String.UnicodeScalarView(t.unicodeScalars.map { $0 == replacement ? " " : $0 })))
                }
                return .text(decodeChain([t]).joined())
            }
        case .sequence(let steps):
            for s in steps { s.middle(&pieces) }
        }
    }
}
