/// The `tokenizer.ggml.*` metadata of a GGUF file as plain values, from which
/// `Tokenizer(gguf:)` builds the tokenizer llama.cpp would (the module reading GGUF files fills it;
/// this one never sees the file format).
public struct GGUFTokenizerMetadata: Sendable {
    /// The GGUF metadata keys read, as llama.cpp names them (`LLM_KV_TOKENIZER_*`).
    public enum Key {
        public static let model = "tokenizer.ggml.model"
        public static let pre = "tokenizer.ggml.pre"
        public static let tokens = "tokenizer.ggml.tokens"
        public static let scores = "tokenizer.ggml.scores"
        public static let tokenType = "tokenizer.ggml.token_type"
        public static let merges = "tokenizer.ggml.merges"
        public static let bos = "tokenizer.ggml.bos_token_id"
        public static let eos = "tokenizer.ggml.eos_token_id"
        public static let eot = "tokenizer.ggml.eot_token_id"
        public static let eom = "tokenizer.ggml.eom_token_id"
        public static let unknown = "tokenizer.ggml.unknown_token_id"
        public static let padding = "tokenizer.ggml.padding_token_id"
        public static let addBOS = "tokenizer.ggml.add_bos_token"
        public static let addEOS = "tokenizer.ggml.add_eos_token"
        public static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
        /// The special-token id keys, each with the field it fills.
        public static var specialIDs: [(key: String, field: WritableKeyPath<GGUFTokenizerMetadata, Int?>)] {
            [(bos, \.bosTokenID), (eos, \.eosTokenID), (eot, \.eotTokenID), (eom, \.eomTokenID),
             (unknown, \.unknownTokenID), (padding, \.paddingTokenID)]
        }
    }

    /// llama.cpp's token types (`llama_token_type`), the values of `tokenizer.ggml.token_type`.
    public enum TokenType {
        public static let normal: Int32 = 1
        public static let unknown: Int32 = 2
        public static let control: Int32 = 3
        public static let userDefined: Int32 = 4
        public static let unused: Int32 = 5
        public static let byte: Int32 = 6
    }

    /// The file the values come from (for messages).
    public var file: String
    /// `tokenizer.ggml.model`: `gpt2` (byte-level BPE) or `llama` (SentencePiece).
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer's name (BPE only; `nil` when absent).
    public var preTokenizer: String?
    /// `tokenizer.ggml.tokens`: the token strings, by id.
    public var tokens: [String]
    /// `tokenizer.ggml.scores`, by id (SentencePiece merge priorities).
    public var scores: [Float]?
    /// `tokenizer.ggml.token_type`, by id (see `TokenType`).
    public var tokenTypes: [Int32]?
    /// `tokenizer.ggml.merges`: `"left right"` pairs, highest priority first.
    public var merges: [String]?
    public var bosTokenID: Int?
    public var eosTokenID: Int?
    public var eotTokenID: Int?
    public var eomTokenID: Int?
    public var unknownTokenID: Int?
    public var paddingTokenID: Int?
    /// `tokenizer.ggml.add_bos_token` (absent: llama.cpp's default for the model and pre-tokenizer).
    public var addBOS: Bool?
    /// `tokenizer.ggml.add_eos_token` (absent: false).
    public var addEOS: Bool?
    /// `tokenizer.ggml.add_space_prefix` (absent: true for `llama`, false for `gpt2`).
    public var addSpacePrefix: Bool?

    /// Metadata with the required values; set the optional ones after.
    /// - Parameters:
    ///   - file: the file the values come from.
    ///   - model: `tokenizer.ggml.model`.
    ///   - tokens: `tokenizer.ggml.tokens`.
    public init(file: String, model: String, tokens: [String]) {
        self.file = file
        self.model = model
        self.tokens = tokens
    }
}
