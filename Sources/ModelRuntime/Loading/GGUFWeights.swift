import Kernels

/// The tensors of a GGUF file served under the Hugging Face names `Model` asks for
/// (`model.layers.0.self_attn.q_proj.weight` reads `blk.0.attn_q.weight`).
///
/// llama.cpp's converter (convert_hf_to_gguf.py, `LlamaModel.permute`) reorders the rows of the
/// Q and K projections of `llama` models, weights and biases, for ggml's rotary layout: within
/// each head, the rows `[x_0 … x_{d/2−1}, y_0 … y_{d/2−1}]` that HF's rotate-half RoPE pairs
/// as (x_i, y_i) are stored interleaved as `[x_0, y_0, x_1, y_1, …]`. So GGUF row
/// `h·d + 2i + s` holds HF row `h·d + s·d/2 + i` (s ∈ {0, 1}). This source undoes it by copying
/// those two matrices' rows back into HF order at load: a row is whole blocks in every ggml type,
/// so the same byte copy serves quantized rows. Other matrices stay in the map.
final class GGUFWeights: WeightSource, @unchecked Sendable {
    let file: GGUFFile
    /// Query and key heads, for undoing the permutation (`nil` heads: the file is not permuted).
    private let permutedHeads: (query: Int, key: Int)?
    /// Buffers holding the un-permuted Q/K matrices.
    private var buffers: [UnsafeMutableRawPointer] = []

    /// Architectures whose converter permutes Q and K (convert_hf_to_gguf.py's `LlamaModel`,
    /// which also converts Mistral checkpoints); Qwen2's converter stores HF order.
    static let permutingArchitectures: Set<String> = ["llama", "mistral"]

    /// Serves `file` for a model of configuration `config`.
    init(file: GGUFFile, config: ModelConfig) {
        self.file = file
        permutedHeads = Self.permutingArchitectures.contains(config.modelType) ? (config.headCount, config.kvHeadCount) : nil
    }

    deinit { for b in buffers { b.deallocate() } }

    /// The GGUF name of a Hugging Face tensor name (`nil` for names GGUF has no counterpart of).
    static func ggufName(_ hf: String) -> String? {
        switch hf {
        case "model.embed_tokens.weight": return "token_embd.weight"
        case "model.norm.weight": return "output_norm.weight"
        case "lm_head.weight": return "output.weight"
        default: break
        }
        let prefix = "model.layers."
        guard hf.hasPrefix(prefix) else { return nil }
        let rest = hf.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]) else { return nil }
        let tail = rest[rest.index(after: dot)...]
        guard let last = tail.lastIndex(of: "."), let module = layerModules[String(tail[..<last])] else { return nil }
        return "blk.\(layer).\(module).\(tail[tail.index(after: last)...])"
    }

    /// HF module paths inside a layer → GGUF names (gguf-py's tensor_mapping.py for llama).
    static let layerModules: [String: String] = [
        "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
        "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
    ]

    /// Tensor names a message lists before summarising the rest as a count.
    static let namesShown = 3

    /// Refuses tensors of layers the metadata does not declare (`blk.{i}.…` with
    /// i ≥ `<arch>.block_count`), which would otherwise be dropped without a word.
    /// - Parameter layerCount: the metadata's block count.
    /// - Throws: `RuntimeError.tensorMismatch` naming the first such tensors.
    func checkNoLayers(beyond layerCount: Int) throws {
        let prefix = "blk."
        var beyond: [(layer: Int, name: String)] = []
        for name in file.tensorNames where name.hasPrefix(prefix) {
            if let layer = Int(name.dropFirst(prefix.count).prefix { $0 != "." }), layer >= layerCount {
                beyond.append((layer, name))
            }
        }
        guard !beyond.isEmpty else { return }
        beyond.sort { ($0.layer, $0.name) < ($1.layer, $1.name) }
        let shown = beyond.prefix(Self.namesShown).map { "'\($0.name)'" }.joined(separator: ", ")
        let more = beyond.count > Self.namesShown ? " and \(beyond.count - Self.namesShown) more" : ""
        throw RuntimeError(.tensorMismatch, "\(file.path): holds tensors of layers the metadata does not declare (block_count is \(layerCount), the file has layers up to \(beyond.last!.layer)): \(shown)\(more)")
    }

    func contains(_ name: String) -> Bool { Self.ggufName(name).map { file.tensors[$0] != nil } ?? false }

    /// The tensor behind an HF name, with the shape the config implies and a type decograph runs.
    func tensor(_ name: String, shape: [Int]) throws -> (GGUFTensor, DType) {
        guard let gguf = Self.ggufName(name), let t = file.tensors[gguf] else {
            throw RuntimeError(.tensorMismatch, "\(file.path): missing tensor '\(Self.ggufName(name) ?? name)' (HF '\(name)', expected shape \(shape))")
        }
        guard t.shape == shape else {
            throw RuntimeError(.tensorMismatch, "\(file.path): byte \(t.infoOffset): tensor '\(gguf)' has shape \(t.shape) (ggml dims \(t.dims)), the metadata implies \(shape)")
        }
        guard let dtype = t.type.dtype else {
            throw RuntimeError(.tensorMismatch, "\(file.path): byte \(t.infoOffset): tensor '\(gguf)' has ggml type \(t.type.rawValue) (\(t.type.name)), which decograph does not support (supported: \(GGMLType.supportedNames))")
        }
        return (t, dtype)
    }

    /// For Q and K projections of a permuting architecture: the GGUF row of each HF row.
    func rowOrder(_ name: String, rows: Int) throws -> [Int]? {
        guard let heads = permutedHeads else { return nil }
        let count: Int
        if name.hasSuffix("self_attn.q_proj.weight") || name.hasSuffix("self_attn.q_proj.bias") {
            count = heads.query
        } else if name.hasSuffix("self_attn.k_proj.weight") || name.hasSuffix("self_attn.k_proj.bias") {
            count = heads.key
        } else {
            return nil
        }
        guard rows % count == 0, (rows / count) % 2 == 0 else {
            throw RuntimeError(.tensorMismatch, "\(file.path): tensor for '\(name)' has \(rows) rows, not \(count) heads of an even size, so its rotary permutation cannot be undone")
        }
        return Self.unpermutedRowOrder(rows: rows, heads: count)
    }

    /// GGUF row of each HF row for llama.cpp's Q/K permutation (see the type's comment).
    static func unpermutedRowOrder(rows: Int, heads: Int) -> [Int] {
        let headDim = rows / heads, half = headDim / 2
        return (0..<rows).map { r in
            let head = r / headDim, within = r % headDim
            let (s, i) = within.quotientAndRemainder(dividingBy: half)
            return head * headDim + 2 * i + s
        }
    }

    func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
        let (t, dtype) = try tensor(name, shape: [rows, columns])
        // A quantized matrix reads its own tiled copy, not the map (nor the reordered rows).
        defer { if dtype.isQuantized { file.map.releasePages(t.data, bytes: t.byteCount) } }
        guard let order = try rowOrder(name, rows: rows) else {
            return WeightMatrix(base: t.data, dtype: dtype, rows: rows, columns: columns)
        }
        let rowBytes = t.rowBytes
        let copy = UnsafeMutableRawPointer.allocate(byteCount: t.byteCount, alignment: 64)
        for (r, source) in order.enumerated() {
            (copy + r * rowBytes).copyMemory(from: t.data + source * rowBytes, byteCount: rowBytes)
        }
        let matrix = WeightMatrix(base: UnsafeRawPointer(copy), dtype: dtype, rows: rows, columns: columns)
        if dtype.isQuantized { copy.deallocate() } else { buffers.append(copy) }
        return matrix
    }

    func vector(_ name: String, count: Int) throws -> [Float] {
        let (t, dtype) = try tensor(name, shape: [count])
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            convertToF32(dtype, t.data, buffer.baseAddress!, count: count)
            initialized = count
        }
        guard let order = try rowOrder(name, rows: count) else { return values }
        return order.map { values[$0] }
    }

    /// The dtype most weights are stored in (for reports).
    var predominantDType: DType {
        var bytes: [DType: Int] = [:]
        for t in file.tensors.values { if let d = t.type.dtype { bytes[d, default: 0] += t.byteCount } }
        return bytes.max { $0.value < $1.value }?.key ?? .f32
    }
}
