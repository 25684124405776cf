extension ModelConfig {
    /// GGUF architectures read, with the `model_type` they run as.
    static let ggufArchitectures: [String: String] = ["llama": "llama", "mistral": "mistral", "qwen2": "qwen2"]

    /// Reads the configuration from a GGUF file's metadata (`general.architecture` and the
    /// `<arch>.…` keys llama.cpp writes), and from which tensors exist: tied embeddings when
    /// `output.weight` is absent, biases when layer 0 has them.
    /// - Parameter file: an opened GGUF file.
    /// - Throws: `RuntimeError.badConfig` naming the key and its byte offset.
    init(gguf file: GGUFFile) throws {
        func fail(_ key: String, _ message: String) -> RuntimeError {
            let at = file.keyOffsets[key].map { "byte \($0): " } ?? ""
            return RuntimeError(.badConfig, "\(file.path): \(at)key '\(key)': \(message)")
        }
        guard let archValue = file.metadata["general.architecture"] else {
            throw RuntimeError(.badConfig, "\(file.path): missing key 'general.architecture'")
        }
        guard case .string(let arch) = archValue else {
            throw fail("general.architecture", "must be a string, found a \(archValue.kind)")
        }
        guard let modelType = Self.ggufArchitectures[arch] else {
            throw fail("general.architecture", "unsupported architecture '\(arch)' (supported: \(Self.ggufArchitectures.keys.sorted().joined(separator: ", ")))")
        }
        /// Counts and sizes are positive and small enough for 32-bit kernels' indexing.
        func positive(_ key: String) throws -> Int? {
            guard let v = file.metadata[key] else { return nil }
            guard let n = v.integer, n > 0, n <= Int(Int32.max) else {
                throw fail(key, "must be a positive integer, found \(v.kind) \(v.number.map { "\($0)" } ?? "")")
            }
            return n
        }
        func required(_ key: String) throws -> Int {
            guard let n = try positive(key) else { throw RuntimeError(.badConfig, "\(file.path): missing key '\(key)'") }
            return n
        }
        func number(_ key: String) throws -> Double? {
            guard let v = file.metadata[key] else { return nil }
            guard let n = v.number, n.isFinite, n > 0 else { throw fail(key, "must be a positive number, found \(v.kind)") }
            return n
        }
        let k = arch + "."
        let hidden = try required(k + "embedding_length")
        let heads = try required(k + "attention.head_count")
        let layers = try required(k + "block_count")
        var vocabulary = try positive(k + "vocab_size")
        if case .array(let tokens)? = file.metadata["tokenizer.ggml.tokens"] { vocabulary = tokens.count }
        if vocabulary == nil, let embedding = file.tensors["token_embd.weight"], embedding.dims.count == 2 {
            vocabulary = embedding.dims[1]
        }
        guard let vocabulary else {
            throw RuntimeError(.badConfig, "\(file.path): no vocabulary size (neither 'tokenizer.ggml.tokens', '\(k)vocab_size' nor a 2-D 'token_embd.weight')")
        }
        self.init(hiddenSize: hidden, intermediateSize: try required(k + "feed_forward_length"), layerCount: layers,
                  headCount: heads, kvHeadCount: try positive(k + "attention.head_count_kv") ?? heads,
                  vocabularySize: vocabulary)
        self.modelType = modelType
        guard headCount % kvHeadCount == 0 else {
            throw fail(k + "attention.head_count_kv", "\(headCount) query heads are not a multiple of \(kvHeadCount) key/value heads")
        }
        headDim = try positive(k + "attention.key_length") ?? hidden / heads
        guard headDim > 0, headDim % 2 == 0 else { throw fail(k + "attention.key_length", "head size \(headDim) must be positive and even for rotary embeddings") }
        if let valueLength = try positive(k + "attention.value_length"), valueLength != headDim {
            throw fail(k + "attention.value_length", "\(valueLength) differs from the key length \(headDim); decograph needs equal sizes")
        }
        if let rotary = try positive(k + "rope.dimension_count"), rotary != headDim {
            throw fail(k + "rope.dimension_count", "rotary size \(rotary) differs from the head size \(headDim); partial rotary embeddings are not supported")
        }
        maxPositionEmbeddings = try positive(k + "context_length") ?? maxPositionEmbeddings
        guard let eps = try number(k + "attention.layer_norm_rms_epsilon") else {
            throw RuntimeError(.badConfig, "\(file.path): missing key '\(k)attention.layer_norm_rms_epsilon'")
        }
        rmsNormEpsilon = Float(eps)
        rope = RopeSettings(theta: try number(k + "rope.freq_base") ?? rope.theta, rule: try Self.ggufRopeRule(file, prefix: k, fail: fail))
        if let freqs = file.tensors["rope_freqs.weight"] {
            throw RuntimeError(.badConfig, "\(file.path): byte \(freqs.infoOffset): tensor 'rope_freqs.weight' holds per-frequency RoPE factors (Llama 3.1 scaling), which decograph does not read from GGUF yet; load the Hugging Face directory instead")
        }
        tiedEmbeddings = file.tensors["output.weight"] == nil
        qkvBias = file.tensors["blk.0.attn_q.bias"] != nil
        outputBias = file.tensors["blk.0.attn_output.bias"] != nil
        mlpBias = file.tensors["blk.0.ffn_gate.bias"] != nil
        if modelType == "mistral", let window = try positive(k + "attention.sliding_window") {
            slidingWindows = Array(repeating: window, count: layerCount)
        }
        func tokenID(_ key: String) throws -> Int32? {
            guard let v = file.metadata[key] else { return nil }
            guard let n = v.integer, n < vocabulary else { throw fail(key, "must be a token id below \(vocabulary)") }
            return Int32(n)
        }
        // llama.cpp ends generation at any of eos, end-of-turn and end-of-message.
        eosTokenIDs = []
        for key in ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = try tokenID(key), !eosTokenIDs.contains(id) { eosTokenIDs.append(id) }
        }
        generation = try GenerationDefaults(gguf: file)
        bosTokenID = try tokenID("tokenizer.ggml.bos_token_id")
    }

    /// The RoPE scaling rule of `<arch>.rope.scaling.type` (`none`, `linear`; others refused).
    private static func ggufRopeRule(_ file: GGUFFile, prefix k: String,
                                     fail: (String, String) -> RuntimeError) throws -> RopeSettings.Rule {
        let typeKey = k + "rope.scaling.type"
        guard let v = file.metadata[typeKey] else { return .none }
        guard case .string(let type) = v else { throw fail(typeKey, "must be a string, found a \(v.kind)") }
        switch type {
        case "none":
            return .none
        case "linear":
            let factorKey = k + "rope.scaling.factor"
            guard let factor = file.metadata[factorKey]?.number, factor.isFinite, factor > 0 else {
                throw fail(factorKey, "linear RoPE scaling needs a positive factor")
            }
            return .linear(factor: factor)
        default:
            throw fail(typeKey, "unsupported RoPE scaling '\(type)' (supported: none, linear)")
        }
    }
}
