import Foundation

/// The shape and settings of a Llama-family model, read from a Hugging Face `config.json`.
public struct ModelConfig: Sendable, Equatable {
    /// `model_type` (`llama`, `mistral`, `qwen2`).
    public var modelType: String
    /// Width of the residual stream.
    public var hiddenSize: Int
    /// Width of the MLP.
    public var intermediateSize: Int
    /// Decoder layers.
    public var layerCount: Int
    /// Query heads.
    public var headCount: Int
    /// Key/value heads (GQA when fewer than query heads).
    public var kvHeadCount: Int
    /// Features per head (may differ from hidden / heads when `head_dim` is given).
    public var headDim: Int
    /// Vocabulary size.
    public var vocabularySize: Int
    /// RMSNorm ε.
    public var rmsNormEpsilon: Float
    /// Whether the LM head reuses the embedding matrix.
    public var tiedEmbeddings: Bool
    /// Whether q/k/v projections have biases.
    public var qkvBias: Bool
    /// Whether the output projection has a bias.
    public var outputBias: Bool
    /// Whether the MLP projections have biases.
    public var mlpBias: Bool
    /// Sliding-window size per layer (`nil` = full attention). A query at position i sees keys
    /// at positions j with i − window < j ≤ i (transformers' rule).
    public var slidingWindows: [Int?]
    /// Rotary settings.
    public var rope: RopeSettings
    /// Context length the model was trained for (informational; longer contexts are allowed).
    public var maxPositionEmbeddings: Int
    /// End-of-sequence token ids (config may list several).
    public var eosTokenIDs: [Int32]
    /// Beginning-of-sequence token id.
    public var bosTokenID: Int32?
    /// The authors' generation settings (`generation_config.json`, GGUF `general.sampling.*`).
    public var generation = GenerationDefaults()

    /// Reads a model directory's `config.json` and its `generation_config.json` when present.
    /// - Parameter directory: the model directory.
    /// - Throws: `RuntimeError.badConfig` naming the file and field.
    public init(directory: String) throws {
        try self.init(contentsOf: directory + "/config.json")
        generation = try GenerationDefaults(directory: directory)
    }

    /// Reads `config.json`.
    /// - Parameter path: the file.
    /// - Throws: `RuntimeError.badConfig` naming the field.
    public init(contentsOf path: String) throws {
        try MappedFile.requireRegularFile(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError(.io, "\(path): cannot read")
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw RuntimeError(.badConfig, "\(path): not a JSON object")
        }
        try self.init(json: json, path: path)
    }

    /// Builds from a decoded config.
    /// - Parameters:
    ///   - json: the decoded config.json.
    ///   - path: name for messages.
    /// - Throws: `RuntimeError.badConfig`.
    public init(json object: [String: Any], path: String = "config.json") throws {
        let json = ConfigReader(json: object, path: path)
        var type = try json.string("model_type")
        if type == nil, let arch = try json.strings("architectures")?.first {
            type = ["LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral", "Qwen2ForCausalLM": "qwen2"][arch]
        }
        guard let type else { throw RuntimeError(.badConfig, "\(path): missing 'model_type'") }
        guard let architecture = Architectures.named(type) else {
            throw RuntimeError(.badConfig, "\(path): unsupported model_type '\(type)' (supported: \(Architectures.all.flatMap { $0.modelTypes }.joined(separator: ", ")))")
        }
        modelType = type
        hiddenSize = try json.int("hidden_size")
        intermediateSize = try json.int("intermediate_size")
        layerCount = try json.int("num_hidden_layers")
        headCount = try json.int("num_attention_heads")
        kvHeadCount = try json.int("num_key_value_heads", default: headCount)
        headDim = try json.int("head_dim", default: hiddenSize / headCount)
        vocabularySize = try json.int("vocab_size")
        maxPositionEmbeddings = try json.int("max_position_embeddings", default: 4096)
        guard headCount % kvHeadCount == 0 else {
            throw RuntimeError(.badConfig, "\(path): num_attention_heads (\(headCount)) must be a multiple of num_key_value_heads (\(kvHeadCount))")
        }
        guard headDim % 2 == 0 else { throw RuntimeError(.badConfig, "\(path): head_dim (\(headDim)) must be even for rotary embeddings") }
        rmsNormEpsilon = Float(try json.number("rms_norm_eps", default: 1e-6))
        if let act = try json.string("hidden_act"), act != "silu" {
            throw RuntimeError(.badConfig, "\(path): unsupported hidden_act '\(act)' (supported: silu)")
        }
        tiedEmbeddings = try json.bool("tie_word_embeddings", default: false)
        rope = try RopeSettings(config: json)
        eosTokenIDs = try json.tokenIDs("eos_token_id")
        bosTokenID = try json.tokenIDs("bos_token_id").first
        qkvBias = false
        outputBias = false
        mlpBias = false
        slidingWindows = Array(repeating: nil, count: layerCount)
        try architecture.configure(&self, json: json)
    }

    /// Creates a configuration directly (random-weight benchmark models, tests).
    /// - Parameters:
    ///   - hiddenSize: residual width.
    ///   - intermediateSize: MLP width.
    ///   - layerCount: decoder layers.
    ///   - headCount: query heads.
    ///   - kvHeadCount: key/value heads.
    ///   - vocabularySize: vocabulary size.
    public init(hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int, kvHeadCount: Int,
                vocabularySize: Int) {
        modelType = "llama"
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        headDim = hiddenSize / headCount
        self.vocabularySize = vocabularySize
        rmsNormEpsilon = 1e-5
        tiedEmbeddings = false
        qkvBias = false
        outputBias = false
        mlpBias = false
        slidingWindows = Array(repeating: nil, count: layerCount)
        rope = RopeSettings(theta: 10_000)
        maxPositionEmbeddings = 4096
        eosTokenIDs = []
        bosTokenID = nil
    }

    /// Applies a per-layer `layer_types` list (transformers 5: `full_attention` /
    /// `sliding_attention`) with the given window.
    mutating func applyLayerTypes(_ json: ConfigReader, window: Int?) throws {
        guard let types = try json.strings("layer_types") else { return }
        let path = json.path
        guard types.count == layerCount else {
            throw RuntimeError(.badConfig, "\(path): layer_types has \(types.count) entries for \(layerCount) layers")
        }
        slidingWindows = try types.map { t in
            switch t {
            case "full_attention": return nil
            case "sliding_attention":
                guard let window else { throw RuntimeError(.badConfig, "\(path): sliding_attention layer without sliding_window") }
                return window
            default: throw RuntimeError(.badConfig, "\(path): unsupported layer type '\(t)'")
            }
        }
    }

    /// Bytes of weights one decode step reads (all matrices; embeddings counted once when tied).
    public func weightBytesPerToken(dtypeSize: Int) -> Int {
        let q = headCount * headDim, kv = kvHeadCount * headDim
        let perLayer = hiddenSize * (q + 2 * kv) + q * hiddenSize + 3 * hiddenSize * intermediateSize
        return (layerCount * perLayer + vocabularySize * hiddenSize) * dtypeSize
    }
}
