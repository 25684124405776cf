/// Reading token bytes from a Hugging Face `tokenizer.json`: only what masks need (token id → the
/// bytes it emits, EOS ids), not encoding. Byte-level BPE vocabularies (GPT-2 style, the
/// `ByteLevel` pre-tokenizer) map each byte to a printable character; SentencePiece-style ones use
/// `▁` for space and `<0xHH>` byte-fallback tokens. Both are decoded here.
extension TokenVocabulary {
    /// Token ids above this are refused: a corrupt id must not size a huge table. 2²² is 16× the
    /// largest vocabularies in use (256k).
    static let maxTokenID = 1 << 22

    /// Special tokens treated as end-of-sequence when `tokenizer_config.json` names none.
    static let conventionalEndTokens: Set<String> = ["<|endoftext|>", "</s>", "<|eot_id|>", "<|end_of_text|>", "<|im_end|>", "<eos>"]

    /// Loads the vocabulary of a `tokenizer.json`.
    /// - Parameters:
    ///   - json: the file's bytes.
    ///   - endOfSequence: EOS token contents (e.g. from `tokenizer_config.json`); `nil` uses the
    ///     conventional names (`<|endoftext|>`, `</s>`, `<|eot_id|>`, …) that are special tokens.
    /// - Returns: the vocabulary; special tokens other than EOS emit no bytes (never allowed).
    /// - Throws: `ConstraintError` (`invalidJSON`) for malformed files or a vocabulary that is not a
    ///   `{token: id}` object.
    public static func load(tokenizerJSON json: [UInt8], endOfSequence: Set<String>? = nil) throws(ConstraintError) -> TokenVocabulary {
        let root = try JSONValue.parse(bytes: json)
        guard case .object(let vocab)? = root["model"]?["vocab"] else {
            throw ConstraintError(.invalidJSON, at: "model.vocab", "tokenizer.json has no model.vocab object (only BPE/WordPiece-style vocabularies are read)")
        }
        var byteLevel = false
        for key in ["pre_tokenizer", "decoder"] {
            if let node = root[key], node.serialized(compact: true).contains("\"ByteLevel\"") { byteLevel = true }
        }
        let decodeByte = Self.byteLevelDecoder()
        var entries: [(Int, [UInt8])] = []
        var maxID = -1
        for (token, idValue) in vocab {
            guard case .number(let text) = idValue, let id = Int(text), id >= 0, id < Self.maxTokenID else {
                throw ConstraintError(.invalidJSON, at: "model.vocab[\(token)]", "token id is not a small non-negative integer")
            }
            maxID = max(maxID, id)
            entries.append((id, byteLevel ? Self.decodeByteLevel(token, decodeByte) : Self.decodeSentencePiece(token)))
        }
        var specials: [(Int, String)] = []
        if case .array(let added)? = root["added_tokens"] {
            for a in added {
                guard case .number(let text)? = a["id"], let id = Int(text), id >= 0, id < Self.maxTokenID,
                      case .string(let content)? = a["content"] else { continue }
                maxID = max(maxID, id)
                specials.append((id, content))
            }
        }
        var table = [[UInt8]](repeating: [], count: maxID + 1)
        for (id, bytes) in entries { table[id] = bytes }
        var eos: Set<Int> = []
        let endNames = endOfSequence ?? conventionalEndTokens
        for (id, content) in specials {
            table[id] = []   // specials are never emitted as text by constrained decoding
            if endNames.contains(content) { eos.insert(id) }
        }
        return TokenVocabulary(tokenBytes: table, endOfSequence: eos)
    }

    /// GPT-2's byte ↔ printable-character table, inverted: printable Latin-1 bytes stand for themselves,
    /// the other 68 bytes are shifted to U+0100 onwards in byte order.
    static func byteLevelDecoder() -> [UInt32: UInt8] {
        var map: [UInt32: UInt8] = [:]
        var next: UInt32 = 256
        for b in 0...255 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable { map[UInt32(b)] = UInt8(b) } else { map[next] = UInt8(b); next += 1 }
        }
        return map
    }

    static func decodeByteLevel(_ token: String, _ map: [UInt32: UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for s in token.unicodeScalars {
            if let b = map[s.value] { out.append(b) } else { out += Array(String(Character(s)).utf8) }
        }
        return out
    }

    static func decodeSentencePiece(_ token: String) -> [UInt8] {
        let u = Array(token.utf8)
        // <0xHH> byte-fallback tokens.
        if u.count == 6, u[0] == UInt8(ascii: "<"), u[1] == UInt8(ascii: "0"), u[2] == UInt8(ascii: "x"), u[5] == UInt8(ascii: ">"),
           let h = Unicode.Scalar(u[3]).hexDigitValue, let l = Unicode.Scalar(u[4]).hexDigitValue {
            return [UInt8(h * 16 + l)]
        }
        return Array(token.replacing("\u{2581}", with: " ").utf8)
    }
}
