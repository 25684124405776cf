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

/// Scaled dot-product attention over a paged cache, in C (`dg_attend_isa`,
/// `dg_attend_causal_isa`): each key and value is read once for the whole group of query heads
/// that share it.
///
/// What a token sees is a contiguous run of cache slots (its causal prefix, cut by a sliding
/// window) plus, for a token-tree node, its ancestors among the tokens of its pass. No per-query
/// list of every visible slot is ever built: causal prefill of n tokens needs O(tile) memory, not
/// O(n²).
public enum PagedAttention {
    /// Attends for one query token and one key/value head (its group of query heads) over the
    /// slots `run` followed by `extra` — the path of decode and verification, whose result depends
    /// only on the query and the slots in order (a token decoded alone and verified inside a tree
    /// give bitwise-identical outputs).
    /// - Parameters:
    ///   - query: the token's query, `heads × headDim` (all heads; the group is selected inside).
    ///   - kvHead: which key/value head.
    ///   - groupSize: query heads per key/value head (GQA).
    ///   - kv: the layer's paged cache.
    ///   - run: contiguous slots the token sees, summed first.
    ///   - extra: further slots (a tree token's ancestors), summed after the run in this order.
    ///   - extraCount: number of `extra` slots.
    ///   - scale: logit scale, usually `1/sqrt(headDim)`.
    ///   - output: the token's attention output, `heads × headDim` (the group's heads are written).
    ///   - scores: scratch of at least `groupSize × (run.count + extraCount)` floats.
    ///   - instructionSet: the kernel path (clamped to what the CPU has; the best by default).
    public static func attend(query: UnsafePointer<Float>, kvHead: Int, groupSize: Int, kv: PagedKV,
                              run: Range<Int>, extra: UnsafePointer<Int32>? = nil, extraCount: Int = 0, scale: Float,
                              output: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
                              instructionSet: InstructionSet = .detected) {
        let first = kvHead * groupSize * kv.headDim
        dg_attend_isa(instructionSet.rawValue, query + first, groupSize, kv.headDim, kv.keys, kv.values,
                      kv.blockTable, kv.blockSize, kv.kvHeads, kvHead, run.lowerBound, run.count, extra, extraCount,
                      scale, output + first, scores)
    }

    /// Causal attention of `count` consecutive query positions `firstPosition…` (a prompt chunk
    /// whose keys and values are already in the cache) for one key/value head: query i sees slots
    /// `max(0, firstPosition + i − window + 1) … firstPosition + i`. Tiles of 16 slots with an
    /// online softmax, so the work is the attention's own multiply-adds and the memory O(tile).
    /// - Parameters:
    ///   - queries: query 0's heads (`heads × headDim`, all heads); query i at `queries + i * stride`.
    ///   - count: number of queries.
    ///   - stride: floats from one query (and output) row to the next.
    ///   - firstPosition: position of query 0.
    ///   - window: sliding window in tokens, or nil.
    ///   - kvHead: which key/value head.
    ///   - groupSize: query heads per key/value head.
    ///   - kv: the layer's paged cache.
    ///   - scale: logit scale.
    ///   - output: output row 0 (same layout as the queries; the group's heads are written).
    ///   - scratch: at least `causalScratchCount(…)` floats.
    ///   - instructionSet: the kernel path.
    public static func attendCausal(queries: UnsafePointer<Float>, count: Int, stride: Int, firstPosition: Int,
                                    window: Int?, kvHead: Int, groupSize: Int, kv: PagedKV, scale: Float,
                                    output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                    instructionSet: InstructionSet = .detected) {
        let first = kvHead * groupSize * kv.headDim
        dg_attend_causal_isa(instructionSet.rawValue, queries + first, stride, count, groupSize, kv.headDim,
                             kv.keys, kv.values, kv.blockTable, kv.blockSize, kv.kvHeads, kvHead, firstPosition,
                             window ?? 0, scale, output + first, stride, scratch)
    }

    /// Floats of scratch `attendCausal` needs.
    /// - Parameters:
    ///   - firstPosition: position of the first query.
    ///   - count: number of queries.
    ///   - groupSize: query heads per key/value head.
    ///   - headDim: features per head.
    /// - Returns: the scratch size in floats.
    public static func causalScratchCount(firstPosition: Int, count: Int, groupSize: Int, headDim: Int) -> Int {
        dg_attend_causal_scratch(firstPosition, count, groupSize, headDim)
    }
}
