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

/// Scaled dot-product attention over a paged cache, in C (`dg_attend_heads_isa`,
/// `dg_attend_causal_isa`): each key and value is read once for the whole group of query heads
/// that share it.
///
/// What a token sees is a contiguous run of cache slots (its causal prefix, cut by a sliding
/// window) plus, for a token-tree node, its ancestors among the tokens of its pass. No per-query
/// list of every visible slot is ever built: causal prefill of n tokens needs O(tile) memory, not
/// O(n²).
public enum PagedAttention {
    /// One row of `attendChunk`: its query (from the call's first key/value head), its visible
    /// slots (`run` slots from `lo`, then `extra`; `count` in all) and where its chunk results go
    /// (`acc`, `m`, `l`).
    public typealias Row = dg_attend_row
    /// Attends for one query token and one or more consecutive key/value heads (their groups of
    /// query heads) over the slots `run` followed by `extra` — the path of decode and
    /// verification, whose result depends only on the query and the slots in order (a token
    /// decoded alone and verified inside a tree give bitwise-identical outputs, however many heads
    /// a call covers). Several heads go in one sweep over the slots: a slot's rows of consecutive
    /// heads are contiguous in the cache, so each is read once (head by head, a long context was
    /// walked once per head at a stride).
    /// - Parameters:
    ///   - query: the token's query, `heads × headDim` (all heads; the groups are selected inside).
    ///   - kvHead: the first key/value head.
    ///   - kvHeadCount: how many consecutive key/value heads, from `kvHead`.
    ///   - groupSize: query heads per key/value head (GQA).
    ///   - kv: the layer's paged cache.
    ///   - run: contiguous slots the token sees, summed first.
    ///   - extra: further slots (a tree token's ancestors), summed after the run in this order.
    ///   - extraCount: number of `extra` slots.
    ///   - scale: logit scale, usually `1/sqrt(headDim)`.
    ///   - output: the token's attention output, `heads × headDim` (the groups' heads are written).
    ///   - scores: scratch of at least `kvHeadCount × groupSize × min(run.count + extraCount,
    ///     chunkSlots)` floats.
    ///   - instructionSet: the kernel path (clamped to what the CPU has; the best by default).
    public static func attend(query: UnsafePointer<Float>, kvHead: Int, kvHeadCount: Int = 1, groupSize: Int,
                              kv: PagedKV, run: Range<Int>, extra: UnsafePointer<Int32>? = nil, extraCount: Int = 0,
                              scale: Float, output: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
                              instructionSet: InstructionSet = .detected) {
        let first = kvHead * groupSize * kv.headDim
        dg_attend_heads_isa(instructionSet.rawValue, query + first, groupSize, kv.headDim, kv.keys, kv.values,
                            kv.blockTable, kv.blockSize, kv.kvHeads, kvHead, kvHeadCount, run.lowerBound, run.count,
                            extra, extraCount, scale, output + first, scores)
    }

    /// Visible slots per chunk: `attend`'s result is defined chunk by chunk (each chunk's softmax
    /// against its own maximum, the chunks merged in order), so that the chunks of one long row can
    /// run on several threads (`attendChunk(rows:…)`, `mergeChunks`) and still give the bits of one call.
    public static let chunkSlots = Int(DG_ATTEND_CHUNK)

    /// One chunk of `attend` for one or more rows (`Row`: each row's query from `kvHead` on, its
    /// visible slots and where its results go): visible slots `slots` (indices into the run, then
    /// the listed slots; at most `chunkSlots`) of every row that has them, for `kvHeadCount` heads
    /// from `kvHead`. Per query head of those groups, a row gets the chunk's maximum score (`m`),
    /// the sum of its exponentials (`l`) and the exponential-weighted sum of its values (`acc`,
    /// `headDim` floats a head), bitwise what it gets alone. The rows take turns on each slot, so
    /// the slots they share (a verification chain's, a tree's cached prefix) are read once.
    /// - Parameter scores: scratch of `rows.count × kvHeadCount × groupSize × slots.count` floats.
    public static func attendChunk(rows: UnsafeBufferPointer<Row>, kvHead: Int, kvHeadCount: Int,
                                   groupSize: Int, kv: PagedKV, slots: Range<Int>, scale: Float,
                                   scores: UnsafeMutablePointer<Float>, instructionSet: InstructionSet = .detected) {
        dg_attend_chunk_rows_isa(instructionSet.rawValue, rows.count, rows.baseAddress, groupSize, kv.headDim, kv.keys,
                                 kv.values, kv.blockTable, kv.blockSize, kv.kvHeads, kvHead, kvHeadCount,
                                 slots.lowerBound, slots.upperBound, scale, scores)
    }

    /// `attend`'s output for `heads` query heads from `chunks` chunks' `attendChunk` results laid
    /// out one after another (partials `heads × headDim` floats each, maxima and sums `heads`).
    public static func mergeChunks(heads: Int, headDim: Int, chunks: Int, partial: UnsafePointer<Float>,
                                   maxima: UnsafePointer<Float>, sums: UnsafePointer<Float>,
                                   output: UnsafeMutablePointer<Float>) {
        dg_attend_merge(heads, headDim, chunks, partial, maxima, sums, output)
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
