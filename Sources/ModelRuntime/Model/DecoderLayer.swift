import Kernels

/// The weights of one pre-norm decoder layer shared by Llama, Mistral and Qwen2:
/// `x += o(attn(rope(q(n₁x)), rope(k(n₁x)), v(n₁x)))`, `x += down(silu(gate(n₂x)) ⊙ up(n₂x))`.
struct DecoderLayer: @unchecked Sendable {
    var attentionNorm: [Float]
    var q: WeightMatrix
    var k: WeightMatrix
    var v: WeightMatrix
    var o: WeightMatrix
    var qBias: [Float]?
    var kBias: [Float]?
    var vBias: [Float]?
    var oBias: [Float]?
    var mlpNorm: [Float]
    var gate: WeightMatrix
    var up: WeightMatrix
    var down: WeightMatrix
    var gateBias: [Float]?
    var upBias: [Float]?
    var downBias: [Float]?
    /// Sliding-window size, `nil` for full attention.
    var window: Int?
}

/// Where a model's weights come from: a directory's safetensors, or in-memory buffers.
protocol WeightSource {
    func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix
    func vector(_ name: String, count: Int) throws -> [Float]
    func contains(_ name: String) -> Bool
    /// Refuses weights of layers beyond the config's count.
    /// - Parameter layerCount: `num_hidden_layers`.
    /// - Throws: `RuntimeError.tensorMismatch` naming the tensors no declared layer reads.
    func checkNoLayers(beyond layerCount: Int) throws
}

extension ModelWeights: WeightSource {}

extension DecoderLayer {
    /// Loads layer `index` under the Hugging Face names `model.layers.{i}.…`.
    init(index: Int, config c: ModelConfig, weights w: some WeightSource) throws {
        // Checked once, with the first layer: a config declaring fewer layers than the file holds
        // would otherwise load a truncated model without a word.
        if index == 0 { try w.checkNoLayers(beyond: c.layerCount) }
        let p = "model.layers.\(index)."
        let qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        attentionNorm = try w.vector(p + "input_layernorm.weight", count: c.hiddenSize)
        q = try w.matrix(p + "self_attn.q_proj.weight", rows: qDim, columns: c.hiddenSize)
        k = try w.matrix(p + "self_attn.k_proj.weight", rows: kvDim, columns: c.hiddenSize)
        v = try w.matrix(p + "self_attn.v_proj.weight", rows: kvDim, columns: c.hiddenSize)
        o = try w.matrix(p + "self_attn.o_proj.weight", rows: c.hiddenSize, columns: qDim)
        if c.qkvBias {
            qBias = try w.vector(p + "self_attn.q_proj.bias", count: qDim)
            kBias = try w.vector(p + "self_attn.k_proj.bias", count: kvDim)
            vBias = try w.vector(p + "self_attn.v_proj.bias", count: kvDim)
        }
        if c.outputBias { oBias = try w.vector(p + "self_attn.o_proj.bias", count: c.hiddenSize) }
        mlpNorm = try w.vector(p + "post_attention_layernorm.weight", count: c.hiddenSize)
        gate = try w.matrix(p + "mlp.gate_proj.weight", rows: c.intermediateSize, columns: c.hiddenSize)
        up = try w.matrix(p + "mlp.up_proj.weight", rows: c.intermediateSize, columns: c.hiddenSize)
        down = try w.matrix(p + "mlp.down_proj.weight", rows: c.hiddenSize, columns: c.intermediateSize)
        if c.mlpBias {
            gateBias = try w.vector(p + "mlp.gate_proj.bias", count: c.intermediateSize)
            upBias = try w.vector(p + "mlp.up_proj.bias", count: c.intermediateSize)
            downBias = try w.vector(p + "mlp.down_proj.bias", count: c.hiddenSize)
        }
        window = c.slidingWindows[index]
    }
}
