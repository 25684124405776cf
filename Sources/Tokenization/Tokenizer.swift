import Foundation

/// A Hugging Face tokenizer loaded from `tokenizer.json` (+ `tokenizer_config.json`), producing
/// exactly the ids and text of the `tokenizers` library for the supported components: the BPE
/// model (byte-level and SentencePiece-style with byte fallback), the Unigram model (with byte
/// fallback), the NFC/NFD/NFKC/NFKD,
/// Lowercase, Strip, Prepend, Replace and Sequence normalizers, the ByteLevel, Split, Metaspace,
/// Digits, Punctuation, Whitespace, WhitespaceSplit and Sequence pre-tokenizers, the
/// TemplateProcessing, Bert/Roberta, ByteLevel and Sequence post-processors, the ByteLevel,
/// ByteFallback, Fuse, Strip, Replace, Metaspace and Sequence decoders, and added tokens with
/// their `lstrip`/`rstrip`/`single_word`/`normalized` flags. Anything else is refused when loading
/// with a `TokenizerError` naming it.
///
/// Immutable after loading and safe to share between threads; the BPE word cache inside is
/// guarded by a mutex (a thread that finds it busy uses a private cache for that call).
public final class Tokenizer: Sendable {
    let model: TokenModel
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let fastScanner: PatternScanner?
    let decoder: Decoder?
    let specialPrefix: [Int32]
    let specialSuffix: [Int32]
    let addedTokens: [AddedToken]
    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher
    /// Added token of each id (nil for model tokens), indexed by id.
    let addedByID: [AddedToken?]
    let specialIDs: Set<Int32>
    private let tokenByteTable: [[UInt8]]
    /// The token string of every id (what decoders receive).
    let tokenStrings: [String?]
    /// The decoder is just ByteLevel, so decoding can concatenate the byte table.
    let decoderIsByteLevelOnly: Bool
    /// llama.cpp's pipeline, for a tokenizer read from GGUF metadata (nil for tokenizer.json).
    let gguf: GGUFEncoding?

    /// Number of ids: one more than the largest id of the model vocabulary and added tokens.
    public let vocabularySize: Int
    /// The beginning-of-sequence token, from `tokenizer_config.json` (`bos_token`).
    public let bosTokenID: Int32?
    /// The end-of-sequence token, from `tokenizer_config.json` (`eos_token`).
    public let eosTokenID: Int32?
    /// The padding token, from `tokenizer_config.json` (`pad_token`).
    public let padTokenID: Int32?
    /// The end-of-turn token (GGUF `tokenizer.ggml.eot_token_id`; nil for tokenizer.json).
    public let eotTokenID: Int32?
    /// The end-of-message token (GGUF `tokenizer.ggml.eom_token_id`; nil for tokenizer.json).
    public let eomTokenID: Int32?
    /// A stable hash of the vocabulary, merges and added tokens (32 hex digits; not
    /// cryptographic): stores record it to refuse ids from a different tokenizer.
    public let vocabularyFingerprint: String

    /// Loads `tokenizer.json` and, when present, `tokenizer_config.json` from a model directory.
    /// - Parameter directory: the directory holding the files.
    /// - Throws: `TokenizerError` naming the file and JSON path of anything malformed or unsupported.
    public convenience init(directory: URL) throws {
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        let json = try JSONValue.parse(contentsOf: tokenizerURL, displayName: tokenizerURL.path)
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        var config: JSONValue?
        if FileManager.default.fileExists(atPath: configURL.path) {
            config = try JSONValue.parse(contentsOf: configURL, displayName: configURL.path)
        }
        try self.init(tokenizerJSON: json, config: config)
    }

    /// Loads a tokenizer from the contents of `tokenizer.json` and `tokenizer_config.json`.
    /// - Parameters:
    ///   - tokenizerJSON: the bytes of `tokenizer.json`.
    ///   - configJSON: the bytes of `tokenizer_config.json`, if any.
    /// - Throws: `TokenizerError` naming the JSON path of anything malformed or unsupported.
    public convenience init(tokenizerJSON: Data, configJSON: Data? = nil) throws {
        try self.init(tokenizerJSON: try JSONValue.parse(data: tokenizerJSON, displayName: "tokenizer.json"),
                      config: try configJSON.map { try JSONValue.parse(data: $0, displayName: "tokenizer_config.json") })
    }

    /// Builds the tokenizer llama.cpp builds from a GGUF file's `tokenizer.ggml.*` metadata: a
    /// `gpt2` vocabulary (byte-level BPE with the pre-tokenizer `tokenizer.ggml.pre` names) or a
    /// `llama` one (SentencePiece merged by score, byte fallback, `▁` for spaces); control,
    /// user-defined and unknown tokens are matched in text as llama.cpp does with `parse_special`.
    /// - Parameter metadata: the metadata values.
    /// - Throws: `TokenizerError` naming the file and key of anything malformed or unsupported.
    public init(gguf metadata: GGUFTokenizerMetadata) throws {
        let parts = try Self.ggufParts(metadata)
        model = parts.model
        normalizer = nil
        preTokenizer = nil
        fastScanner = nil
        decoder = parts.decoder
        decoderIsByteLevelOnly = parts.decoder.isByteLevelOnly
        gguf = parts.encoding
        addedTokens = parts.added
        rawMatcher = AddedTokenMatcher(tokens: []) { Array($0.content.utf8) }
        normalizedMatcher = rawMatcher
        specialIDs = Set(parts.added.filter(\.special).map(\.id))
        vocabularySize = parts.tokens.count
        var byID = [AddedToken?](repeating: nil, count: parts.tokens.count)
        for t in parts.added { byID[Int(t.id)] = t }
        addedByID = byID
        specialPrefix = parts.prefix
        specialSuffix = parts.suffix
        (bosTokenID, eosTokenID, padTokenID, eotTokenID, eomTokenID) =
            (parts.special[0], parts.special[1], parts.special[2], parts.special[3], parts.special[4])
        tokenStrings = parts.tokens
        tokenByteTable = parts.tokens.map { parts.decoder.middleBytes($0) }
        vocabularyFingerprint = Self.fingerprint(model: parts.model, added: parts.added)
    }

    init(tokenizerJSON json: JSONValue, config: JSONValue?) throws {
        _ = try json.object()
        gguf = nil
        eotTokenID = nil
        eomTokenID = nil
        normalizer = try json.member("normalizer").map { try Normalizer(json: $0) }
        let preTokenizer = try json.member("pre_tokenizer").map { try PreTokenizer(json: $0) }
        self.preTokenizer = preTokenizer
        fastScanner = preTokenizer?.fastScanner
        let decoder = try json.member("decoder").map { try Decoder(json: $0) }
        self.decoder = decoder
        decoderIsByteLevelOnly = decoder?.isByteLevelOnly ?? false

        model = try TokenModel(json: try json.required("model"), byteLevel: preTokenizer?.containsByteLevel ?? false)
        let vocabulary = model.vocabulary

        var added: [AddedToken] = []
        for entry in try json.member("added_tokens")?.array() ?? [] { added.append(try AddedToken(json: entry)) }
        addedTokens = added
        let normalizer = self.normalizer
        rawMatcher = AddedTokenMatcher(tokens: added.filter { !$0.normalized }) { Array($0.content.utf8) }
        normalizedMatcher = AddedTokenMatcher(tokens: added.filter(\.normalized)) { t in
            let bytes = Array(t.content.utf8)
            return normalizer?.apply(bytes) ?? bytes
        }
        specialIDs = Set(added.filter(\.special).map(\.id))

        var processor = try json.member("post_processor").map { try PostProcessor(json: $0) }?.surroundings ?? ([], [])

        let size = max(vocabulary.idToToken.count, (added.map { Int($0.id) }.max() ?? -1) + 1)
        let idLimit = Vocabulary.idLimit(entries: vocabulary.count + added.count)
        guard size <= idLimit else {
            throw TokenizerError(.malformed, file: json.file, jsonPath: "$.added_tokens",
                                 "added token id \(size - 1) is far beyond the vocabulary (ids must be below \(idLimit))")
        }
        vocabularySize = size
        var byID = [AddedToken?](repeating: nil, count: size)
        for t in added { byID[Int(t.id)] = t }
        addedByID = byID

        // tokenizer_config.json: special token names, and add_bos_token / add_eos_token, which
        // transformers applies on top of the post-processor for Llama-family tokenizers.
        var ids: [String: Int32?] = [:]
        var addBOS: Bool?, addEOS: Bool?
        if let config {
            let addedTokens = added
            func lookup(_ key: String) throws -> Int32? {
                guard let v = try config.member(key) else { return nil }
                let name: String = try (v.raw is String) ? v.string() : v.string("content")
                if let id = Self.tokenID(name, added: addedTokens, vocabulary: vocabulary) { return id }
                throw v.error("token \(name.debugDescription) is not in the vocabulary")
            }
            for key in ["bos_token", "eos_token", "pad_token"] { ids[key] = try lookup(key) }
            addBOS = try config.member("add_bos_token")?.bool()
            addEOS = try config.member("add_eos_token")?.bool()
        }
        bosTokenID = ids["bos_token"] ?? nil
        eosTokenID = ids["eos_token"] ?? nil
        padTokenID = ids["pad_token"] ?? nil
        if let bos = bosTokenID, let addBOS {
            if addBOS, processor.0.first != bos { processor.0.insert(bos, at: 0) }
            if !addBOS, processor.0.first == bos { processor.0.removeFirst() }
        }
        if let eos = eosTokenID, let addEOS {
            if addEOS, processor.1.last != eos { processor.1.append(eos) }
            if !addEOS, processor.1.last == eos { processor.1.removeLast() }
        }
        for id in processor.0 + processor.1 where Int(id) >= size {
            throw TokenizerError(.malformed, file: json.file, jsonPath: "$.post_processor", "special token id \(id) is outside the vocabulary")
        }
        specialPrefix = processor.0
        specialSuffix = processor.1

        // `tokenizers` gives a normalized added token's normalized form as its token string.
        var strings = [String?](repeating: nil, count: size)
        for id in 0..<vocabulary.idToToken.count { strings[id] = vocabulary.idToToken[id] }
        for t in added {
            strings[Int(t.id)] = t.normalized
                ? String(decoding: normalizer?.apply(Array(t.content.utf8)) ?? Array(t.content.utf8), as: UTF8.self)
                : t.content
        }
        tokenStrings = strings
        tokenByteTable = strings.map { token in
            guard let token else { return [] }
            return decoder?.middleBytes(token) ?? Array(token.utf8)
        }
        vocabularyFingerprint = Self.fingerprint(model: model, added: added)
    }

    /// Two FNV-1a 64-bit hashes (different offsets) over ids, token strings, merges and added
    /// tokens with their flags.
    private static func fingerprint(model: TokenModel, added: [AddedToken]) -> String {
        var h1: UInt64 = 0xcbf2_9ce4_8422_2325, h2: UInt64 = 0x6c62_272e_07bb_0142
        func feed(_ bytes: some Sequence<UInt8>) {
            for b in bytes {
                h1 = (h1 ^ UInt64(b)) &* 0x0000_0100_0000_01B3
                h2 = (h2 ^ UInt64(b)) &* 0x0000_0100_0000_01B3 ^ (h2 >> 31)
            }
        }
        func feed(_ n: Int32) { withUnsafeBytes(of: n.littleEndian) { feed($0) } }
        let parts = model.fingerprintParts
        feed(parts.head)
        for (id, token) in model.vocabulary.idToToken.enumerated() {
            guard let token else { continue }
            feed(Int32(id)); feed(token.utf8); feed([0])
        }
        feed(parts.tail)
        for t in added {
            feed(t.id); feed(t.content.utf8)
            feed([t.special ? 1 : 0, t.normalized ? 1 : 0, t.lstrip ? 1 : 0, t.rstrip ? 1 : 0, t.singleWord ? 1 : 0])
        }
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return hex(h1) + hex(h2)
    }

    /// The token string of an id (`Ġthe`, `▁the`, `<0x41>`, `<|eot_id|>`), as `id_to_token`.
    /// - Parameter id: a token id.
    /// - Returns: its string, or `nil` when the id is not in the vocabulary.
    public func tokenString(_ id: Int32) -> String? {
        guard id >= 0, Int(id) < tokenStrings.count else { return nil }
        return tokenStrings[Int(id)]
    }

    /// The id of a token string (added tokens first, then the model vocabulary).
    /// - Parameter token: the token string.
    /// - Returns: its id, or `nil` when unknown.
    public func tokenID(_ token: String) -> Int32? {
        Self.tokenID(token, added: addedTokens, vocabulary: model.vocabulary)
    }

    /// Added tokens first, then the model vocabulary, both compared byte for byte (`String ==`
    /// would take a canonically equivalent spelling for the token).
    private static func tokenID(_ token: String, added: [AddedToken], vocabulary: Vocabulary) -> Int32? {
        if let t = added.first(where: { $0.content.utf8.elementsEqual(token.utf8) }) { return t.id }
        return vocabulary.id(of: token)
    }

    /// Whether an id is a special added token (what `skipSpecialTokens` drops).
    /// - Parameter id: a token id.
    /// - Returns: `true` for special tokens.
    public func isSpecial(_ id: Int32) -> Bool { specialIDs.contains(id) }

    /// The exact bytes a token produces in the middle of decoded text: byte-level tokens their
    /// raw bytes, byte-fallback `<0xAB>` tokens their single byte, SentencePiece tokens their text
    /// with `▁` as a space, added tokens their (decoded) content. First-token rules of decoders (dropping
    /// the leading space) do not apply here. Empty for ids outside the vocabulary.
    /// - Parameter id: a token id.
    /// - Returns: the bytes.
    public func tokenBytes(_ id: Int32) -> [UInt8] {
        guard id >= 0, Int(id) < tokenByteTable.count else { return [] }
        return tokenByteTable[Int(id)]
    }

    /// `tokenBytes(_:)` of every id, indexed by id.
    public var tokenBytesTable: [[UInt8]] { tokenByteTable }
}
