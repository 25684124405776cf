import CKernels

/// Where one layer's keys and values live: a pool of fixed-size blocks, each holding
/// `blockSize` token slots of `kvHeads × headDim` f32 values, and a sequence's block table.
public struct PagedKV: @unchecked Sendable {
    /// Keys of this layer: `[blocks][blockSize][kvHeads][headDim]`.
    public let keys: UnsafeMutablePointer<Float>
    /// Values of this layer, same layout as `keys`.
    public let values: UnsafeMutablePointer<Float>
    /// Token slots per block.
    public let blockSize: Int
    /// Key/value heads.
    public let kvHeads: Int
    /// Features per head.
    public let headDim: Int
    /// The sequence's blocks in order.
    public let blockTable: UnsafePointer<Int32>

    /// Creates a view.
    /// - Parameters:
    ///   - keys: the layer's key pool.
    ///   - values: the layer's value pool.
    ///   - blockSize: slots per block.
    ///   - kvHeads: key/value heads.
    ///   - headDim: features per head.
    ///   - blockTable: the sequence's blocks.
    public init(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>, blockSize: Int,
                kvHeads: Int, headDim: Int, blockTable: UnsafePointer<Int32>) {
        self.keys = keys
        self.values = values
        self.blockSize = blockSize
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.blockTable = blockTable
    }
}

/// Scaled dot-product attention of one token's query heads over an explicit list of visible
/// cache slots — the list encodes causal, sliding-window and token-tree masks alike. The work runs
/// in C (`dg_attend_isa`): each key and value is read once for the whole group of query heads.
public enum PagedAttention {
    /// Attends for one query token and one key/value head (its group of query heads).
    /// - Parameters:
    ///   - query: the token's query, `heads × headDim` (all heads; the group is selected inside).
    ///   - kvHead: which key/value head.
    ///   - groupSize: query heads per key/value head (GQA).
    ///   - kv: the layer's paged cache.
    ///   - visible: slots this token may see, in the order their terms are summed.
    ///   - visibleCount: number of slots.
    ///   - scale: logit scale, usually `1/sqrt(headDim)`.
    ///   - output: the token's attention output, `heads × headDim` (the group's heads are written).
    ///   - scores: scratch of at least `groupSize × visibleCount` floats.
    ///   - instructionSet: the kernel path (clamped to what the CPU has; the best by default).
    public static func attend(query: UnsafePointer<Float>, kvHead: Int, groupSize: Int, kv: PagedKV,
                              visible: UnsafePointer<Int32>, visibleCount: Int, scale: Float,
                              output: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
                              instructionSet: InstructionSet = .detected) {
        let first = kvHead * groupSize * kv.headDim
        dg_attend_isa(instructionSet.rawValue, query + first, groupSize, kv.headDim, kv.keys, kv.values,
                      kv.blockTable, kv.blockSize, kv.kvHeads, kvHead, visible, visibleCount, scale,
                      output + first, scores)
    }
}
