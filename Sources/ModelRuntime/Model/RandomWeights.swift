import Kernels

/// Random weights held in memory, for benchmarking model shapes we have no files for
/// (`decograph bench runtime --random 1.1B`), in any dtype (quantized ones through the reference
/// quantizers, `--dtype q4_k`). Matrices are N(0, σ²)-like (uniform with the same
/// variance), norms are 1, so activations stay well scaled through many layers.
final class RandomWeights: WeightSource, @unchecked Sendable {
    private let dtype: DType
    private var state: UInt64
    private var buffers: [UnsafeMutableRawPointer] = []
    /// Standard deviation of matrix entries: 0.02, the initializer_range of Llama configs.
    static let standardDeviation: Float = 0.02

    init(dtype: DType, seed: UInt64) {
        self.dtype = dtype
        state = seed | 1
    }

    deinit { for b in buffers { b.deallocate() } }

    func contains(_ name: String) -> Bool { true }

    /// Random weights have exactly the config's layers.
    func checkNoLayers(beyond layerCount: Int) throws {}

    func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
        try dtype.checkRow(columns: columns, tensor: name)
        let count = rows * columns
        let raw = UnsafeMutableRawPointer.allocate(byteCount: dtype.byteCount(elements: count), alignment: 64)
        // A whole number of blocks of every type (K-quant super-blocks are 256 values), so each
        // chunk quantizes on its own.
        let chunk = 4096
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
        defer { tmp.deallocate() }
        // Uniform on [-a, a] has variance a²/3.
        let a = Self.standardDeviation * Float(3).squareRoot()
        var done = 0
        while done < count {
            let n = min(chunk, count - done)
            for i in 0..<n {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                tmp[i] = (Float(state >> 40) / Float(1 << 24) * 2 - 1) * a
            }
            convertFromF32(tmp, to: dtype, raw + dtype.byteCount(elements: done), count: n)
            done += n
        }
        let matrix = WeightMatrix(base: UnsafeRawPointer(raw), dtype: dtype, rows: rows, columns: columns)
        // A quantized matrix keeps its own tiled copy.
        if dtype.isQuantized { raw.deallocate() } else { buffers.append(raw) }
        return matrix
    }

    func vector(_ name: String, count: Int) throws -> [Float] {
        name.hasSuffix("bias") ? [Float](repeating: 0, count: count) : [Float](repeating: 1, count: count)
    }
}

extension Model {
    /// A model of the given shape with random weights in memory (benchmarks only).
    /// - Parameters:
    ///   - config: the shape.
    ///   - dtype: storage precision of the matrices.
    ///   - seed: random seed.
    ///   - kvCacheBytes: KV-cache memory limit.
    ///   - pool: compute threads.
    ///   - activations: what products with bf16 weights read as activations.
    /// - Returns: the model.
    /// - Throws: `RuntimeError` if the cache cannot be reserved.
    public static func random(config: ModelConfig, dtype: DType, seed: UInt64 = 42,
                              kvCacheBytes: Int = 256 << 20, pool: ComputePool = .shared,
                              activations: ActivationPrecision = .auto) throws -> Model {
        let weights = RandomWeights(dtype: dtype, seed: seed)
        return try Model(config: config, weights: weights, storage: weights,
                         name: "random \(config.hiddenSize)h×\(config.layerCount)L \(dtype)",
                         dtype: dtype, kvCacheBytes: kvCacheBytes, pool: pool, activations: activations)
    }
}
