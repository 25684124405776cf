import Foundation
import Kernels
import Synchronization

/// A loaded Llama-family model with its KV cache: the one runtime every graph and session shares.
///
/// `forward` scores a batch of items (each a sequence plus new tokens, optionally a token tree)
/// in one pass: the new tokens of all items are stacked into one activation matrix so every
/// weight matrix streams from memory once per pass. Forward passes are serialised (each uses all
/// threads of `pool`); concurrent sessions batch their work into one call above this layer.
public final class Model: @unchecked Sendable {
    /// The configuration.
    public let config: ModelConfig
    /// Where the model came from (directory, or a description of a random model).
    public let name: String
    /// Precision most weights are stored in.
    public let weightDType: DType
    /// The key/value cache all sequences of this model draw from.
    public let cache: KVCache
    /// Threads used by forward passes.
    public let pool: ComputePool
    /// What products with bf16 weights read as activations: `f32` or `bf16`, the load-time
    /// request resolved for the weights (`ActivationPrecision.resolved(for:)`).
    public let activations: ActivationPrecision

    let layers: [DecoderLayer]
    let embedding: WeightMatrix
    let lmHead: WeightMatrix
    let finalNorm: [Float]
    let rope: RotaryEmbedding
    /// Keeps the memory maps (or in-memory buffers) behind the weight views alive.
    private let storage: AnyObject
    /// Serialises forward passes (documented above).
    let forwardLock = Mutex<Void>(())

    /// Default KV-cache limit: 1 GiB, about 23k tokens of a 1.1B GQA model.
    public static let defaultKVCacheBytes = 1 << 30

    /// Loads a Hugging Face model directory (config.json + safetensors, single or sharded), or
    /// a GGUF file when `directory` names a file (see `init(gguf:)`).
    /// - Parameters:
    ///   - directory: the model directory, or a `.gguf` file.
    ///   - kvCacheBytes: memory limit of the KV cache.
    ///   - pool: compute threads.
    ///   - activations: what products with bf16 weights read as activations (`auto`: bf16 where
    ///     the weights and the CPU make it pay; `f32` for exact parity with transformers).
    /// - Throws: `RuntimeError` naming the file and tensor at fault.
    public convenience init(directory: String, kvCacheBytes: Int = defaultKVCacheBytes, pool: ComputePool = .shared,
                            activations: ActivationPrecision = .auto) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            try self.init(gguf: directory, kvCacheBytes: kvCacheBytes, pool: pool, activations: activations)
            return
        }
        let config = try ModelConfig(directory: directory)
        let weights = try ModelWeights(directory: directory)
        try self.init(config: config, weights: weights, storage: weights, name: directory,
                      dtype: weights.predominantDType, kvCacheBytes: kvCacheBytes, pool: pool, activations: activations)
    }

    init(config: ModelConfig, weights: some WeightSource, storage: AnyObject, name: String, dtype: DType,
         kvCacheBytes: Int, pool: ComputePool, activations: ActivationPrecision) throws {
        self.config = config
        self.name = name
        self.storage = storage
        self.pool = pool
        self.activations = activations.resolved(for: dtype)
        weightDType = dtype
        embedding = try weights.matrix("model.embed_tokens.weight", rows: config.vocabularySize, columns: config.hiddenSize)
        if config.tiedEmbeddings {
            lmHead = embedding
        } else {
            lmHead = try weights.matrix("lm_head.weight", rows: config.vocabularySize, columns: config.hiddenSize)
        }
        finalNorm = try weights.vector("model.norm.weight", count: config.hiddenSize)
        layers = try (0..<config.layerCount).map { try DecoderLayer(index: $0, config: config, weights: weights) }
        rope = config.rope.embedding(headDim: config.headDim)
        cache = try KVCache(config: config, maxBytes: kvCacheBytes)
    }

    /// A new empty sequence in this model's cache.
    /// - Returns: the sequence.
    public func makeSequence() -> KVSequence { cache.makeSequence() }

    /// Every matrix one forward pass multiplies by (the LM head included).
    private var passMatrices: [WeightMatrix] {
        layers.flatMap { [$0.q, $0.k, $0.v, $0.o, $0.gate, $0.up, $0.down] } + [lmHead]
    }

    /// Multiply-adds of one token's products (one per weight element, the LM head included).
    public var multiplyAddsPerToken: Int { passMatrices.reduce(0) { $0 + $1.rows * $1.columns } }

    /// Most new tokens a pass may hold while each token's logits are bitwise the same whatever
    /// other tokens share the pass (every product stays on the streaming kernels): what a
    /// batching caller keeps a pass of several callers' items under.
    public var rowIndependentPassTokens: Int {
        passMatrices.map { MatMul.rowIndependentLimit($0.dtype, activations: activations) }.min() ?? MatMul.streamingRowLimit
    }

    /// Bytes of weights one forward pass streams (all matrices, the LM head included).
    public var weightBytesPerPass: Int { passMatrices.reduce(0) { $0 + $1.byteCount } }

    /// Scores new tokens of several sequences in one pass and appends them to their caches.
    ///
    /// Each new token attends to its sequence's cached tokens and to its ancestors among the new
    /// tokens (itself included) — a chain when `parents` is nil. Tree tokens are stored in the
    /// order given; after verification keep the accepted path with `KVSequence.keepPath`.
    /// - Parameters:
    ///   - items: the work; each sequence may appear once.
    ///   - depth: run only layers `0..<depth`, then the final norm and LM head (self-speculative
    ///     drafts). Positions written this way hold only those layers until truncated.
    ///   - pool: threads for this pass (default: the model's pool; benchmarks compare counts).
    /// - Returns: logits per item, as each item's `outputs` asks.
    /// - Throws: `RuntimeError.badInput` for invalid tokens/trees, `.cacheExhausted` when the cache is full.
    public func forward(_ items: [ForwardItem], depth: Int? = nil, pool: ComputePool? = nil) throws -> [Logits] {
        try forward(items, layers: try LayerSelection(depth: depth ?? config.layerCount, of: config.layerCount), pool: pool)
    }

    /// Scores new tokens with a selection of the layers (see `forward(_:depth:pool:)`): skipped
    /// layers leave the residual stream as it is and write no keys or values, so positions written
    /// this way hold only the selection's layers until truncated, and a later pass over them may
    /// run only layers they all hold.
    /// - Parameters:
    ///   - items: the work; each sequence may appear once.
    ///   - layers: the layers to run (of this model).
    ///   - pool: threads for this pass.
    /// - Returns: logits per item.
    /// - Throws: `RuntimeError.badInput` for a selection of another layer count or a pass over
    ///   positions that lack its layers; as `forward(_:depth:pool:)` otherwise.
    public func forward(_ items: [ForwardItem], layers: LayerSelection, pool: ComputePool? = nil) throws -> [Logits] {
        guard layers.total == config.layerCount else {
            throw RuntimeError(.badInput, "a selection of \(layers.total) layers for a model of \(config.layerCount)")
        }
        return try forwardLock.withLock { _ in
            try forwardLocked(items, layers: layers, exit: nil, pool: pool ?? self.pool).logits
        }
    }

    /// Scores new tokens with every layer, stopping early where `exit` decides (see `EarlyExit`):
    /// the layers not run get keys and values projected from the exit state, so the positions
    /// count as full. An input longer than `passTokens` runs its earlier passes whole and applies
    /// the exit to the last.
    /// - Parameters:
    ///   - items: the work; each sequence may appear once.
    ///   - exit: the candidate depths (0 probes the embeddings) and the decision.
    ///   - pool: threads for this pass.
    /// - Returns: logits per item, the depth the last pass stopped at, and the LM-head products
    ///   the decisions asked for.
    /// - Throws: `RuntimeError.badInput` for a sequence holding partial positions or depths
    ///   outside the model; as `forward(_:depth:pool:)` otherwise.
    public func forward(_ items: [ForwardItem], exit: EarlyExit, pool: ComputePool? = nil) throws -> EarlyExitResult {
        if let bad = exit.depths.first(where: { $0 >= config.layerCount }) {
            throw RuntimeError(.badInput, "exit depth \(bad) outside 0..<\(config.layerCount)")
        }
        return try forwardLock.withLock { _ in
            try forwardLocked(items, layers: .all(config.layerCount), exit: exit, pool: pool ?? self.pool)
        }
    }

    /// Finishes a sequence's partial positions, written by passes over the model's first E layers
    /// (a self-speculative draft), by running only layers E and up over them from the residuals
    /// those passes left (LayerSkip's cache reuse, Elhoushi et al. 2024): the keys and values of
    /// layers below E are the draft's, reused, and the positions then count as full. The logits
    /// are bitwise those of one full pass over the same tokens (each row sees the same slots and
    /// its inputs are the same floats: the rows of a pass are independent of each other).
    /// - Parameters:
    ///   - sequence: a sequence whose partial positions all hold their residuals (`canComplete`).
    ///   - pool: threads for this pass.
    /// - Returns: one row of logits per completed position.
    /// - Throws: `RuntimeError.badInput` for a sequence of another cache, without completable
    ///   positions, or with more of them than one pass holds (`passTokens`: a draft is a few
    ///   tokens; every completed row gets logits). A failure leaves the partial positions dropped.
    public func complete(_ sequence: KVSequence, pool: ComputePool? = nil) throws -> Logits {
        try forwardLock.withLock { _ in
            guard sequence.cache === cache else { throw RuntimeError(.badInput, "the sequence belongs to another model's cache") }
            guard sequence.canComplete else {
                throw RuntimeError(.badInput, "positions \(sequence.fullLength)..<\(sequence.length) hold no residuals of a pass over the first layers to complete")
            }
            guard sequence.length - sequence.fullLength <= passTokens else {
                throw RuntimeError(.badInput, "\(sequence.length - sequence.fullLength) partial positions are more than one pass completes (\(passTokens))")
            }
            let start = sequence.shallowDepth, residuals = sequence.partialResiduals
            let count = sequence.rewindPartial()
            try sequence.reserve(count)
            // The tokens are not read (the rows start from the residuals); zeros keep the plan valid.
            let item = ForwardItem(sequence: sequence, tokens: Array(repeating: 0, count: count), outputs: .all)
            let plan = try TokenPlan(item: item, index: 0, vocabularySize: config.vocabularySize)
            return try forwardPass([item], plans: [plan], layers: .all(config.layerCount), exit: nil, pool: pool ?? self.pool,
                                   resume: (start, residuals)).logits[0]
        }
    }

    /// Most new tokens one pass stacks: longer inputs (a long prompt) run as consecutive passes
    /// of at most this many tokens, so the activations, the attention plan and the scratch stay
    /// O(chunk) whatever the prompt's length. 512 keeps OpenBLAS's `sgemm` at full speed (its
    /// efficiency flattens from ~128 rows) while a 1.1B model's per-pass buffers stay ~25 MB.
    public static let defaultPassTokens = 512
    /// See `defaultPassTokens` (settable for benchmarks and tests).
    public var passTokens: Int {
        get { passTokenLimit.load(ordering: .relaxed) }
        set { passTokenLimit.store(max(1, newValue), ordering: .relaxed) }
    }
    private let passTokenLimit = Atomic<Int>(defaultPassTokens)

    private func forwardLocked(_ items: [ForwardItem], layers selection: LayerSelection, exit: EarlyExit?,
                               pool: ComputePool) throws -> EarlyExitResult {
        let c = config
        // Validate everything before touching any cache.
        var seen = Set<ObjectIdentifier>()
        var plans: [TokenPlan] = []
        for (n, item) in items.enumerated() {
            guard seen.insert(ObjectIdentifier(item.sequence)).inserted else {
                throw RuntimeError(.badInput, "item \(n): the same sequence appears twice in one forward call")
            }
            guard item.sequence.cache === cache else {
                throw RuntimeError(.badInput, "item \(n): sequence belongs to another model's cache")
            }
            let s = item.sequence
            if s.length > s.fullLength && !s.partialLayers.covers(selection) {
                throw RuntimeError(.badInput, "item \(n): positions \(s.fullLength)..<\(s.length) hold only \(s.partialLayers); truncate to \(s.fullLength) before a pass over \(selection)")
            }
            let plan = try TokenPlan(item: item, index: n, vocabularySize: c.vocabularySize)
            let end = s.length + (plan.depths.max().map { $0 + 1 } ?? 0)
            guard end <= RotaryEmbedding.maximumExactPosition else {
                throw RuntimeError(.badInput, "item \(n): position \(end - 1) is past \(RotaryEmbedding.maximumExactPosition - 1), the last position whose rotary angles f32 computes exactly")
            }
            plans.append(plan)
        }
        for (n, (item, plan)) in zip(items, plans).enumerated() {
            do {
                try item.sequence.reserve(plan.count)
            } catch let error as RuntimeError where error.code == .cacheExhausted {
                throw RuntimeError(.cacheExhausted, "item \(n): \(plan.count) new tokens after \(item.sequence.length) cached do not fit: \(error.message)")
            }
        }
        var results = plans.map { _ in Logits(rows: 0, vocabularySize: c.vocabularySize, values: []) }
        let passes = Self.passes(plans.map(\.count), chained: plans.map(\.isChain), limit: passTokens)
        var depth = selection.layers.count, heads = 0
        for (passIndex, pass) in passes.enumerated() {
            let passItems = pass.map { piece -> ForwardItem in
                let item = items[piece.item]
                let whole = piece.tokens.count == plans[piece.item].count
                let notLast = piece.tokens.upperBound < plans[piece.item].count
                return ForwardItem(sequence: item.sequence, tokens: whole ? item.tokens : Array(item.tokens[piece.tokens]),
                                   parents: whole ? item.parents : nil, mask: whole ? item.mask : nil, outputs: item.outputs == .last && notLast ? .none : item.outputs,
                                   states: item.states == .last && notLast ? .none : item.states)
            }
            let passPlans = pass.map { piece in
                piece.tokens.count == plans[piece.item].count ? plans[piece.item] : TokenPlan(chainOf: piece.tokens.count)
            }
            let exitHere = passIndex == passes.count - 1 ? exit : nil
            let outcome = try forwardPass(passItems, plans: passPlans, layers: selection, exit: exitHere, pool: pool)
            depth = outcome.depth
            heads += outcome.headEvaluations
            for (piece, rows) in zip(pass, outcome.logits) where rows.rows > 0 || rows.stateRows > 0 {
                var merged = Logits(rows: results[piece.item].rows + rows.rows, vocabularySize: c.vocabularySize,
                                    values: results[piece.item].values + rows.values)
                merged.states = results[piece.item].states + rows.states
                merged.stateRows = results[piece.item].stateRows + rows.stateRows
                results[piece.item] = merged
            }
        }
        return EarlyExitResult(logits: results, depth: depth, headEvaluations: heads)
    }

    /// One item's share of one pass: which of its tokens.
    struct Piece: Equatable {
        var item: Int
        var tokens: Range<Int>
    }

    /// Packs items into passes of at most `limit` tokens: chains are cut into pieces (each piece
    /// in a later pass than the one before it), trees go whole. Items are taken in order, so every
    /// item's pieces are consecutive and each pass holds an item at most once.
    static func passes(_ counts: [Int], chained: [Bool], limit: Int) -> [[Piece]] {
        var passes: [[Piece]] = [[]]
        var room = limit
        for (item, count) in counts.enumerated() {
            var start = 0
            repeat {
                if room == 0 || (!chained[item] && count > room && !passes[passes.count - 1].isEmpty) {
                    passes.append([])
                    room = limit
                }
                let take = chained[item] ? min(count - start, room) : count
                passes[passes.count - 1].append(Piece(item: item, tokens: start..<(start + take)))
                room = max(0, room - take)
                start += take
            } while start < count
        }
        return passes
    }

    /// One pass: every item's tokens stacked into one activation matrix; with `exit`, it may stop
    /// after one of the exit depths and fill the layers not run from the exit state.
    /// - Parameter resume: for `complete`: the layer the rows start at and their residuals there
    ///   (one item, whose positions already hold the layers below).
    private func forwardPass(_ items: [ForwardItem], plans: [TokenPlan], layers selection: LayerSelection, exit: EarlyExit?,
                             pool: ComputePool, resume: (layer: Int, residuals: [[Float]])? = nil) throws -> EarlyExitResult {
        let c = config
        let M = plans.reduce(0) { $0 + $1.count }
        if M == 0 {
            return EarlyExitResult(logits: plans.map { _ in Logits(rows: 0, vocabularySize: c.vocabularySize, values: []) },
                                   depth: selection.layers.count, headEvaluations: 0)
        }
        let H = c.hiddenSize, qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        let F = c.intermediateSize
        let scratch = ForwardScratch(M: M, hidden: H, qDim: qDim, kvDim: kvDim, ffn: F, headDim: c.headDim)
        defer { scratch.deallocate() }

        // Token metadata, flattened over items.
        // Per new token: its item, the cache offset of its slot, and its RoPE table (positions do
        // not change across layers, so cos/sin are computed once per pass).
        var tokenItem = [Int](), slotOffsets = [Int]()
        tokenItem.reserveCapacity(M)
        slotOffsets.reserveCapacity(M)
        let ropeTables = UnsafeMutablePointer<Float>.allocate(capacity: M * c.headDim)
        defer { ropeTables.deallocate() }
        for (n, plan) in plans.enumerated() {
            let base = items[n].sequence.length
            for i in 0..<plan.count {
                rope.angles(position: base + plan.depths[i], headDim: c.headDim, into: ropeTables + tokenItem.count * c.headDim)
                tokenItem.append(n)
                slotOffsets.append(items[n].sequence.slotOffset(base + i))
            }
        }
        if let resume {
            for (r, residual) in resume.residuals.enumerated() { (scratch.x + r * H).update(from: residual, count: H) }
        } else {
            for (r, t) in items.flatMap(\.tokens).enumerated() {
                embedding.widen(rows: Int(t)..<(Int(t) + 1), into: scratch.x + r * H)
            }
        }
        // Block tables of all items, flattened (stable for the whole pass: reserved above).
        var tables = [Int32](), tableStart = [Int]()
        for item in items {
            tableStart.append(tables.count)
            tables.append(contentsOf: item.sequence.blocks)
        }
        let attention = AttentionPlan(items: items, plans: plans)
        // Queries the tiled kernel takes per job: enough rows to reuse each key tile well (128
        // against 64: 8k-token prefill of the 134M shape 2.04–2.13× the 512-token time per token
        // against 2.17–2.20×, alternating runs), few enough that a 512-token pass still makes
        // four jobs per key/value head.
        let causalBlock = 128
        var causalJobs: [(run: AttentionPlan.CausalRun, rows: Range<Int>)] = []
        for run in attention.causalRuns {
            for start in stride(from: 0, to: run.count, by: causalBlock) {
                causalJobs.append((run, start..<min(run.count, start + causalBlock)))
            }
        }
        // Later queries see more keys: hand out the longest jobs first so the last one is short.
        causalJobs.reverse()

        // Rows whose logits are returned (final norm and LM head run only for them), and rows
        // whose last hidden states are.
        func askedRows(_ asked: (ForwardItem) -> ForwardItem.Outputs) -> [Int] {
            var wanted: [Int] = []
            var firstRow = 0
            for (item, plan) in zip(items, plans) {
                switch asked(item) {
                case .all: wanted.append(contentsOf: firstRow..<(firstRow + plan.count))
                case .last: if plan.count > 0 { wanted.append(firstRow + plan.count - 1) }
                case .none: break
                }
                firstRow += plan.count
            }
            return wanted
        }
        let wanted = askedRows(\.outputs), stateWanted = askedRows(\.states)
        let V = c.vocabularySize
        /// The final norm over some rows of the residual stream as it stands.
        func finalNormed(_ rows: [Int]) -> [Float] {
            var normed = [Float](repeating: 0, count: rows.count * H)
            normed.withUnsafeMutableBufferPointer { out in
                for (i, r) in rows.enumerated() {
                    Vector.rmsNorm(scratch.x + r * H, weight: finalNorm, epsilon: c.rmsNormEpsilon, into: out.baseAddress! + i * H, count: H)
                }
            }
            return normed
        }
        /// The final norm (unless `normalized` is false) and LM head over the wanted rows of the
        /// residual stream as it stands.
        func head(normalized: Bool = true) -> [Float] {
            var out = [Float](repeating: 0, count: wanted.count * V)
            guard !wanted.isEmpty else { return out }
            let normed = normalized ? finalNormed(wanted) : wanted.flatMap { Array(UnsafeBufferPointer(start: scratch.x + $0 * H, count: H)) }
            out.withUnsafeMutableBufferPointer { buffer in
                MatMul.multiply(normed, rows: wanted.count, ldx: H, by: lmHead, into: buffer.baseAddress!, ldy: V, pool: pool,
                                activations: activations)
            }
            return out
        }
        /// Layer `l`'s attention input for every row, and its keys and values written to the
        /// cache (with the rotated queries in `scratch.q` when `queries`).
        func project(_ l: Int, queries: Bool) {
            projectLayer(layers[l], cache.layerPools[l], scratch, rows: M, ropeTables: ropeTables, slotOffsets: slotOffsets,
                         queries: queries, pool: pool)
        }

        var exitProbe: ExitProbe?
        var heads = 0
        for (run, l) in selection.layers.enumerated() where l >= (resume?.layer ?? 0) {
            if let exit, exit.depths.contains(run) {
                let hidden = wanted.flatMap { Array(UnsafeBufferPointer(start: scratch.x + $0 * H, count: H)) }
                let probe = ExitProbe(depth: run, rows: wanted.count, hidden: hidden) { normalized in
                    heads += 1
                    return head(normalized: normalized)
                }
                if exit.decide(probe) {
                    exitProbe = probe
                    break
                }
            }
            let layer = layers[l]
            project(l, queries: true)
            let pools = cache.layerPools[l]
            let group = c.headCount / c.kvHeadCount
            let scale = 1 / Float(c.headDim).squareRoot()
            let window = layer.window
            tables.withUnsafeBufferPointer { tablePointer in
                func paged(_ item: Int) -> PagedKV {
                    PagedKV(keys: pools.keys, values: pools.values, blockSize: cache.blockSize, kvHeads: c.kvHeadCount,
                            headDim: c.headDim, blockTable: tablePointer.baseAddress! + tableStart[item])
                }
                let perToken = attention.perTokenRows
                if !perToken.isEmpty {
                    // Jobs of up to `chunkSlots` visible slots, every key/value head swept
                    // together (a slot's heads are contiguous in the cache), for the rows of one
                    // item at once (they share their cached prefix, which is then read once);
                    // then each row's chunks merged in order. A long context spreads over the
                    // threads by chunks, a short one by rows and then by heads, and a row's bits
                    // do not depend on how its chunks were shared out.
                    let chunk = PagedAttention.chunkSlots, heads = c.headCount, d = c.headDim
                    let counts = perToken.map { attention.visibleCount(row: $0, window: window) }
                    var firstPartial = [0]  // row i's chunk k result: partial index firstPartial[i] + k
                    for n in counts { firstPartial.append(firstPartial.last! + max(1, (n + chunk - 1) / chunk)) }
                    var jobs: [(rows: Range<Int>, chunk: Int)] = []
                    var start = 0
                    while start < perToken.count {
                        var end = start + 1
                        while end < perToken.count && attention.tokens[perToken[end]].item == attention.tokens[perToken[start]].item { end += 1 }
                        let chunks = (start..<end).map { firstPartial[$0 + 1] - firstPartial[$0] }.max()!
                        let groups = chunks >= pool.threadCount ? 1 : min(end - start, (pool.threadCount + chunks - 1) / chunks)
                        for g in 0..<groups {
                            let rows = ComputePool.range(of: g, parts: groups, count: end - start, alignment: 1)
                            for k in 0..<chunks { jobs.append((rows: (start + rows.lowerBound)..<(start + rows.upperBound), chunk: k)) }
                        }
                        start = end
                    }
                    let parts = jobs.count < pool.threadCount ? min(c.kvHeadCount, pool.threadCount) : 1
                    let partials = firstPartial.last!
                    let partial = UnsafeMutablePointer<Float>.allocate(capacity: partials * heads * (d + 2))
                    defer { partial.deallocate() }
                    let maxima = partial + partials * heads * d, sums = maxima + partials * heads
                    let widest = jobs.map(\.rows.count).max()!
                    attention.withAncestorSlots { ancestorSlots in
                        pool.parallelFor(count: jobs.count * parts) { range in
                            let scores = UnsafeMutablePointer<Float>.allocate(capacity: widest * heads * chunk)
                            defer { scores.deallocate() }
                            var rows: [PagedAttention.Row] = []
                            rows.reserveCapacity(widest)
                            for work in range {
                                let job = jobs[work / parts], first = job.chunk * chunk
                                let kvHeads = ComputePool.range(of: work % parts, parts: parts, count: c.kvHeadCount, alignment: 1)
                                let head = kvHeads.lowerBound * group
                                rows.removeAll(keepingCapacity: true)
                                var item = 0
                                for i in job.rows where counts[i] > first {
                                    let r = perToken[i], at = (firstPartial[i] + job.chunk) * heads + head
                                    item = attention.tokens[r].item
                                    let (run, ancestors) = attention.slots(row: r, window: window)
                                    rows.append(PagedAttention.Row(q: scratch.q + r * qDim + head * d, lo: run.lowerBound, run: run.count,
                                                                   extra: ancestors.isEmpty ? nil : ancestorSlots! + ancestors.lowerBound,
                                                                   count: counts[i], acc: partial + at * d, m: maxima + at, l: sums + at))
                                }
                                if rows.isEmpty { continue }
                                rows.withUnsafeBufferPointer { buffer in
                                    PagedAttention.attendChunk(rows: buffer, kvHead: kvHeads.lowerBound, kvHeadCount: kvHeads.count,
                                                               groupSize: group, kv: paged(item), slots: first..<(first + chunk),
                                                               scale: scale, scores: scores)
                                }
                            }
                        }
                    }
                    pool.parallelFor(count: perToken.count, work: partials * heads * d * 4) { range in
                        for i in range {
                            let at = firstPartial[i]
                            if counts[i] == 0 {  // no visible slot: zeros, as a call over none gives
                                scratch.attention.advanced(by: perToken[i] * qDim).update(repeating: 0, count: qDim)
                                continue
                            }
                            PagedAttention.mergeChunks(heads: heads, headDim: d, chunks: firstPartial[i + 1] - at,
                                                       partial: partial + at * heads * d, maxima: maxima + at * heads,
                                                       sums: sums + at * heads, output: scratch.attention + perToken[i] * qDim)
                        }
                    }
                }
                if !causalJobs.isEmpty {
                    pool.parallelFor(count: causalJobs.count * c.kvHeadCount, chunksPerThread: causalJobs.count) { range in
                        for job in range {
                            let (run, rows) = causalJobs[job / c.kvHeadCount]
                            let g = job % c.kvHeadCount
                            let first = run.firstPosition + rows.lowerBound
                            let count = PagedAttention.causalScratchCount(firstPosition: first, count: rows.count,
                                                                         groupSize: group, headDim: c.headDim)
                            let work = UnsafeMutablePointer<Float>.allocate(capacity: count)
                            defer { work.deallocate() }
                            let row = run.firstRow + rows.lowerBound
                            PagedAttention.attendCausal(queries: scratch.q + row * qDim, count: rows.count, stride: qDim,
                                                        firstPosition: first, window: window, kvHead: g, groupSize: group,
                                                        kv: paged(run.item), scale: scale,
                                                        output: scratch.attention + row * qDim, scratch: work)
                        }
                    }
                }
            }
            finishLayer(layer, scratch, rows: M, pool: pool)
        }

        var depth = selection.layers.count
        if let exitProbe {
            // CALM's state propagation: the layers not run see the exit state as their input.
            depth = exitProbe.depth
            for l in selection.layers[depth...] { project(l, queries: false) }
        }
        let allLogits = exitProbe?.logitsIfComputed ?? head()
        let allStates = stateWanted.isEmpty ? [] : finalNormed(stateWanted)
        // A pass over the first layers keeps each row's residual, so a full pass can finish the
        // positions from there (`complete`); any other partial pass leaves positions that cannot.
        let prefix = !selection.isComplete && exitProbe == nil && selection.layers == Array(0..<selection.layers.count)
        var firstRow = 0
        for (item, plan) in zip(items, plans) {
            let sequence = item.sequence
            let held = sequence.partialResiduals.count == sequence.length - sequence.fullLength
                && (sequence.length == sequence.fullLength || sequence.partialLayers == selection)
            sequence.didAppend(plan.count, layers: selection)
            if prefix && held {
                sequence.partialResiduals += (firstRow..<(firstRow + plan.count)).map { Array(UnsafeBufferPointer(start: scratch.x + $0 * H, count: H)) }
            } else if !selection.isComplete {
                sequence.partialResiduals = []
            }
            firstRow += plan.count
        }

        var results: [Logits] = []
        var cursor = 0, stateCursor = 0
        func count(_ asked: ForwardItem.Outputs, of plan: TokenPlan) -> Int {
            asked == .all ? plan.count : (asked == .last && plan.count > 0 ? 1 : 0)
        }
        for (item, plan) in zip(items, plans) {
            let rows = count(item.outputs, of: plan), stateRows = count(item.states, of: plan)
            var logits = Logits(rows: rows, vocabularySize: V, values: Array(allLogits[(cursor * V)..<((cursor + rows) * V)]))
            logits.states = Array(allStates[(stateCursor * H)..<((stateCursor + stateRows) * H)])
            logits.stateRows = stateRows
            results.append(logits)
            cursor += rows
            stateCursor += stateRows
        }
        return EarlyExitResult(logits: results, depth: depth, headEvaluations: heads)
    }

    /// Runs a per-row step over `M` rows, on the pool when there is enough work to pay for the
    /// synchronisation (a parallel region costs a few microseconds; below ~16k elements one
    /// thread is faster).
    func rows(_ M: Int, width: Int, _ pool: ComputePool, _ body: (Int) -> Void) {
        if M == 1 || M * width < Self.parallelElementThreshold {
            for r in 0..<M { body(r) }
        } else {
            pool.parallelFor(count: M) { range in for r in range { body(r) } }
        }
    }

    /// A decoder layer's attention input for `M` rows of the residual stream `scratch.x`: the norm,
    /// the key and value products (and the query product when `queries`), rotated by each row's
    /// rotary table, and the keys and values written to each row's cache slot (the rotated queries
    /// stay in `scratch.q`). The pass and `layerStep` share it.
    func projectLayer(_ layer: DecoderLayer, _ pools: (keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>),
                      _ scratch: ForwardScratch, rows M: Int, ropeTables: UnsafePointer<Float>, slotOffsets: [Int],
                      queries: Bool, pool: ComputePool) {
        let c = config
        let H = c.hiddenSize, qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        rows(M, width: H, pool) { r in Vector.rmsNorm(scratch.x + r * H, weight: layer.attentionNorm, epsilon: c.rmsNormEpsilon, into: scratch.h + r * H, count: H) }
        let products = (queries ? [(layer.q, scratch.q, qDim)] : []) + [(layer.k, scratch.k, kvDim), (layer.v, scratch.v, kvDim)]
        MatMul.multiplyMany(scratch.h, rows: M, ldx: H, products, pool: pool, activations: activations)
        if queries { addBias(layer.qBias, scratch.q, rows: M, width: qDim) }
        addBias(layer.kBias, scratch.k, rows: M, width: kvDim)
        addBias(layer.vBias, scratch.v, rows: M, width: kvDim)
        rows(M, width: qDim, pool) { r in
            let table = ropeTables + r * c.headDim
            if queries { rope.rotate(scratch.q + r * qDim, heads: c.headCount, headDim: c.headDim, table: table) }
            rope.rotate(scratch.k + r * kvDim, heads: c.kvHeadCount, headDim: c.headDim, table: table)
            (pools.keys + slotOffsets[r]).update(from: scratch.k + r * kvDim, count: kvDim)
            (pools.values + slotOffsets[r]).update(from: scratch.v + r * kvDim, count: kvDim)
        }
    }

    /// The rest of a decoder layer once its attention output is in `scratch.attention`: the output
    /// projection added to the residual stream `scratch.x`, then the MLP block added to it, over
    /// `M` rows. The pass and `layerStep` share it.
    func finishLayer(_ layer: DecoderLayer, _ scratch: ForwardScratch, rows M: Int, pool: ComputePool) {
        let c = config
        let H = c.hiddenSize, qDim = c.headCount * c.headDim, F = c.intermediateSize
        MatMul.multiply(scratch.attention, rows: M, ldx: qDim, by: layer.o, into: scratch.h, ldy: H, pool: pool, activations: activations)
        addBias(layer.oBias, scratch.h, rows: M, width: H)
        Vector.add(scratch.h, into: scratch.x, count: M * H)

        rows(M, width: H, pool) { r in Vector.rmsNorm(scratch.x + r * H, weight: layer.mlpNorm, epsilon: c.rmsNormEpsilon, into: scratch.h + r * H, count: H) }
        MatMul.multiplyMany(scratch.h, rows: M, ldx: H, [(layer.gate, scratch.gate, F), (layer.up, scratch.up, F)], pool: pool, activations: activations)
        addBias(layer.gateBias, scratch.gate, rows: M, width: F)
        addBias(layer.upBias, scratch.up, rows: M, width: F)
        rows(M, width: F, pool) { r in Vector.siluMultiply(scratch.gate + r * F, scratch.up + r * F, count: F) }
        MatMul.multiply(scratch.gate, rows: M, ldx: F, by: layer.down, into: scratch.h, ldy: H, pool: pool, activations: activations)
        addBias(layer.downBias, scratch.h, rows: M, width: H)
        Vector.add(scratch.h, into: scratch.x, count: M * H)
    }

    /// See `rows(_:width:_:_:)`.
    static let parallelElementThreshold = 16_384

    func addBias(_ bias: [Float]?, _ y: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        guard let bias else { return }
        bias.withUnsafeBufferPointer { b in
            for r in 0..<rows { Vector.add(b.baseAddress!, into: y + r * width, count: width) }
        }
    }
}

/// Validated shape of one item's new tokens: each token's position after the cached prefix (its
/// depth in a tree) and, for an explicit mask, what it attends to.
struct TokenPlan {
    let count: Int
    let parents: [Int]
    /// Per token, its position minus the cached length.
    let depths: [Int]
    /// Whether each token's parent is the token before it (a prompt, a decode step, a chain draft).
    let isChain: Bool
    /// For a masked item: per token, the earlier tokens it attends to, ascending by position (the
    /// order a chain would sum them in), itself last. `nil` for a chain or a tree.
    let visible: [[Int]]?

    /// A chain of `count` tokens (a piece of a validated chain).
    init(chainOf count: Int) {
        self.count = count
        parents = (0..<count).map { $0 - 1 }
        depths = Array(0..<count)
        isChain = true
        visible = nil
    }

    init(item: ForwardItem, index n: Int, vocabularySize: Int) throws {
        count = item.tokens.count
        for (i, t) in item.tokens.enumerated() where t < 0 || Int(t) >= vocabularySize {
            throw RuntimeError(.badInput, "item \(n): token \(t) at \(i) is outside the vocabulary 0..<\(vocabularySize)")
        }
        if let mask = item.mask {
            guard item.parents == nil else {
                throw RuntimeError(.badInput, "item \(n): give either tree parents or an explicit mask, not both")
            }
            (depths, visible) = try Self.validate(mask, count: count, base: item.sequence.length, item: n)
            parents = Array(repeating: -1, count: count)
            isChain = false
            return
        }
        visible = nil
        if let p = item.parents {
            guard p.count == count else {
                throw RuntimeError(.badInput, "item \(n): \(p.count) parents for \(count) tokens")
            }
            for (i, parent) in p.enumerated() where parent < -1 || parent >= i {
                throw RuntimeError(.badInput, "item \(n): token \(i) has parent \(parent); parents must be -1 or an earlier token")
            }
            parents = p
        } else {
            parents = (0..<count).map { $0 - 1 }
        }
        var d = [Int](repeating: 0, count: count)
        for i in 0..<count where parents[i] >= 0 { d[i] = d[parents[i]] + 1 }
        depths = d
        isChain = parents.enumerated().allSatisfy { $0.element == $0.offset - 1 }
    }

    /// Checks an explicit mask: one position and one set per token, every position at or after
    /// the cached length, every attended row earlier in the item and earlier in position (a row
    /// attends only to its past), no row twice.
    /// - Returns: the depths, and the visible sets sorted by position with the row itself last.
    private static func validate(_ mask: ForwardMask, count: Int, base: Int, item n: Int) throws -> ([Int], [[Int]]) {
        guard mask.positions.count == count, mask.visible.count == count else {
            throw RuntimeError(.badInput, "item \(n): a mask of \(mask.positions.count) positions and \(mask.visible.count) attention sets for \(count) tokens")
        }
        var sorted: [[Int]] = []
        sorted.reserveCapacity(count)
        for (i, position) in mask.positions.enumerated() {
            guard position >= base else {
                throw RuntimeError(.badInput, "item \(n): token \(i) at position \(position), inside the \(base) cached positions; a new token's position must be at least the cache's length")
            }
            var seen = Set<Int>()
            for j in mask.visible[i] {
                guard j >= 0, j < i else {
                    throw RuntimeError(.badInput, "item \(n): token \(i) attends to token \(j); a token may attend only to earlier tokens of its item (0..<\(i))")
                }
                guard seen.insert(j).inserted else {
                    throw RuntimeError(.badInput, "item \(n): token \(i) lists token \(j) twice in its attention set")
                }
                guard mask.positions[j] < position else {
                    throw RuntimeError(.badInput, "item \(n): token \(i) at position \(position) attends to token \(j) at position \(mask.positions[j]); attended tokens must sit at earlier positions")
                }
            }
            sorted.append(mask.visible[i].sorted { (mask.positions[$0], $0) < (mask.positions[$1], $1) } + [i])
        }
        return (mask.positions.map { $0 - base }, sorted)
    }
}

/// Per-pass activation buffers, `M` rows each.
struct ForwardScratch {
    let x, h, q, k, v, attention, gate, up: UnsafeMutablePointer<Float>

    init(M: Int, hidden: Int, qDim: Int, kvDim: Int, ffn: Int, headDim: Int) {
        x = .allocate(capacity: M * hidden)
        h = .allocate(capacity: M * hidden)
        q = .allocate(capacity: M * qDim)
        k = .allocate(capacity: M * kvDim)
        v = .allocate(capacity: M * kvDim)
        attention = .allocate(capacity: M * qDim)
        gate = .allocate(capacity: M * ffn)
        up = .allocate(capacity: M * ffn)
    }

    func deallocate() {
        for p in [x, h, q, k, v, attention, gate, up] { p.deallocate() }
    }
}
