/// How a tokenizer built from GGUF metadata encodes: llama.cpp's pipeline, which is not the one
/// `tokenizer.json` describes (its special tokens split text longest first, its SentencePiece
/// merges by score, its pre-tokenizers are named lists of patterns).
struct GGUFEncoding: Sendable {
    enum Mode: Sendable {
        /// `gpt2`: byte-level BPE words from the named pre-tokenizer.
        case bytePairs(LlamaCppPreTokenizer)
        /// `llama`: each text fragment whole, spaces as `▁`, a `▁` in front of a fragment at the
        /// start or after a special token when `addSpacePrefix`.
        case sentencePiece(addSpacePrefix: Bool)
    }

    let mode: Mode
    let partition: SpecialTokenPartition
}

extension Tokenizer {
    /// Token texts llama.cpp treats as control tokens (matched in text, left out of decoded text
    /// without `special`) whatever their `token_type`: its end-of-generation list in
    /// `llama_vocab::impl::load`.
    static let ggufEndOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ]

    /// The `tokenizer.ggml.model` values supported.
    static let ggufModels = ["gpt2", "llama"]

    /// Everything `init(gguf:)` stores, worked out from the metadata.
    struct GGUFParts {
        var model: TokenModel
        var decoder: Decoder
        var tokens: [String]
        var added: [AddedToken]
        var prefix: [Int32] = []
        var suffix: [Int32] = []
        var special: [Int32?] = []
        var encoding: GGUFEncoding
    }

    static func ggufParts(_ m: GGUFTokenizerMetadata) throws -> GGUFParts {
        func error(_ key: String, _ index: Int? = nil, _ message: String, code: TokenizerError.Code = .malformed) -> TokenizerError {
            TokenizerError(code, file: m.file, jsonPath: index.map { "\(key)[\($0)]" } ?? key, message)
        }
        typealias Key = GGUFTokenizerMetadata.Key
        guard Self.ggufModels.contains(m.model) else {
            throw error(Key.model, nil, "tokenizer model '\(m.model)' is not supported (supported: \(Self.ggufModels.joined(separator: ", "))); pass a tokenizer.json directory with --tokenizer, or token ids with --prompt-ids", code: .unsupported)
        }
        guard !m.tokens.isEmpty else { throw error(Key.tokens, nil, "the token list is empty") }
        let n = m.tokens.count
        for (key, count) in [(Key.scores, m.scores?.count), (Key.tokenType, m.tokenTypes?.count)] {
            if let count, count != n { throw error(key, nil, "has \(count) entries for the \(n) tokens of \(Key.tokens); it needs one per token") }
        }
        // llama.cpp names an empty token so that every id keeps a distinct string.
        let tokens = m.tokens.enumerated().map { $1.isEmpty ? "[EMPTY_\($0)]" : $1 }
        let vocabulary = try Vocabulary(tokens: tokens) { index, message in error(Key.tokens, index, message) }

        var ids: [String: Int32] = [:]
        let sentencePiece = m.model == "llama"
        // llama.cpp's defaults for a `llama` vocabulary, used when the keys are absent.
        let defaults: [String: Int] = sentencePiece ? [Key.bos: 1, Key.eos: 2, Key.unknown: 0] : [:]
        for (key, field) in Key.specialIDs {
            guard let id = m[keyPath: field] ?? defaults[key].flatMap({ $0 < n ? $0 : nil }) else { continue }
            guard id >= 0, id < n else { throw error(key, nil, "token id \(id) is outside the \(n) tokens") }
            ids[key] = Int32(id)
        }

        var preTokenizer: LlamaCppPreTokenizer?
        let model: TokenModel
        if sentencePiece {
            model = .sentencePiece(SentencePieceModel(vocabulary: vocabulary, scores: m.scores ?? Array(repeating: 0, count: n),
                                                      unkID: ids[Key.unknown]))
        } else {
            // llama.cpp falls back to "default" (with a warning) when the name is absent.
            let name = m.preTokenizer ?? "default"
            guard let pre = LlamaCppPreTokenizer(name: name) else {
                throw error(Key.pre, nil, "pre-tokenizer '\(name)' is not supported (supported: \(LlamaCppPreTokenizer.supportedNames.joined(separator: ", ")))", code: .unsupported)
            }
            preTokenizer = pre
            guard let merges = m.merges else { throw error(Key.merges, nil, "is missing; a gpt2 (byte-level BPE) vocabulary needs its merges") }
            var pairs: [(String, String)] = []
            pairs.reserveCapacity(merges.count)
            for (index, merge) in merges.enumerated() {
                // llama.cpp splits at the first space after the first byte.
                let utf8 = merge.utf8
                guard let space = utf8.dropFirst().firstIndex(of: UInt8(ascii: " ")) else {
                    throw error(Key.merges, index, "a merge must be two tokens separated by a space (found \(merge.debugDescription))")
                }
                pairs.append((String(merge[..<space]), String(merge[utf8.index(after: space)...])))
            }
            model = .bpe(try BPEModel(vocabulary: vocabulary, byteLevel: true, unkID: nil, fuseUnk: false, byteFallback: false,
                                      ignoreMerges: pre.ignoreMerges, merges: pairs,
                                      mergeError: { error(Key.merges, $0, $1) }))
        }

        // Control, user-defined and unknown tokens are matched in text (llama.cpp's special
        // token cache); control and unknown ones are what `skipSpecialTokens` leaves out.
        var added: [AddedToken] = []
        for (id, token) in tokens.enumerated() {
            var type = m.tokenTypes?[id] ?? GGUFTokenizerMetadata.TokenType.normal
            if Self.ggufEndOfGenerationTexts.contains(token) { type = GGUFTokenizerMetadata.TokenType.control }
            switch type {
            case GGUFTokenizerMetadata.TokenType.control, GGUFTokenizerMetadata.TokenType.unknown:
                added.append(AddedToken(id: Int32(id), content: token, special: true))
            case GGUFTokenizerMetadata.TokenType.userDefined:
                added.append(AddedToken(id: Int32(id), content: token, special: false))
            default:
                break
            }
        }
        let addSpacePrefix = m.addSpacePrefix ?? sentencePiece
        let encoding = GGUFEncoding(mode: preTokenizer.map { .bytePairs($0) } ?? .sentencePiece(addSpacePrefix: addSpacePrefix),
                                    partition: SpecialTokenPartition(tokens: added.map { ($0.content, $0.id) }))
        let decoder: Decoder = sentencePiece
            ? .sequence([.replace(.literal(Array("▁".utf8)), [0x20]), .byteFallback, .fuse]
                        + (addSpacePrefix ? [.strip(content: " ", start: 1, stop: 0)] : []))
            : .byteLevel
        var parts = GGUFParts(model: model, decoder: decoder, tokens: tokens, added: added, encoding: encoding)

        let addBOS = m.addBOS ?? (sentencePiece || preTokenizer?.addsBOS == true)
        for (wanted, key, flag) in [(addBOS, Key.bos, Key.addBOS), (m.addEOS ?? false, Key.eos, Key.addEOS)] where wanted {
            guard let id = ids[key] else { throw error(flag, nil, "asks for the token of \(key), which is missing") }
            if key == Key.bos { parts.prefix = [id] } else { parts.suffix = [id] }
        }
        parts.special = [Key.bos, Key.eos, Key.padding, Key.eot, Key.eom].map { ids[$0] }
        return parts
    }

    /// Encodes as llama.cpp's `llama_tokenize(…, add_special, parse_special: true)`.
    func encodeGGUF(_ text: String, _ gguf: GGUFEncoding, addSpecialTokens: Bool) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count / 3 + 2)
        if addSpecialTokens { ids += specialPrefix }
        let bytes = Array(text.utf8)
        var afterSpecial = true
        var fragment: [UInt8] = []
        for (range, id) in gguf.partition.split(bytes) {
            if let id {
                ids.append(id)
                afterSpecial = true
                continue
            }
            switch gguf.mode {
            case .sentencePiece(let addSpacePrefix):
                fragment.removeAll(keepingCapacity: true)
                if addSpacePrefix && afterSpecial { fragment += Self.spaceMarker }
                for b in bytes[range] {
                    if b == 0x20 { fragment += Self.spaceMarker } else { fragment.append(b) }
                }
                fragment.withUnsafeBufferPointer { model.encode(words: $0, ranges: [0..<$0.count], into: &ids) }
            case .bytePairs(let pre):
                bytes.withUnsafeBufferPointer { p in
                    let slice = UnsafeBufferPointer(rebasing: p[range])
                    model.encode(words: slice, ranges: pre.split(slice), into: &ids)
                }
            }
            afterSpecial = false
        }
        if addSpecialTokens { ids += specialSuffix }
        return ids
    }

    /// `▁` (U+2581), SentencePiece's mark for a space.
    static let spaceMarker: [UInt8] = Array("▁".utf8)
}
