#if canImport(Glibc)
import Glibc
#endif
import Kernels
import Synchronization

/// The key/value memory of one model: a pool of fixed-size blocks shared by all sequences.
///
/// A sequence is a list of blocks (`KVSequence`). Forking shares blocks by reference count;
/// appending into a shared, partly filled block copies it first (copy-on-write); truncating
/// releases whole blocks past the new end. The pool is one anonymous mapping reserved up to the
/// memory limit; pages are touched only when blocks are used.
///
/// Thread safety: block allocation and reference counts sit behind `state` (a `Mutex`). Block
/// *contents* are written only by `Model.forward`, which the model serialises.
public final class KVCache: @unchecked Sendable {
    /// Token slots per block. 16 keeps copy-on-write and truncation waste small while a block of
    /// one layer (16 × kvHeads × headDim floats) stays a contiguous, prefetch-friendly run.
    public static let defaultBlockSize = 16

    /// Token slots per block.
    public let blockSize: Int
    /// Number of blocks in the pool.
    public let blockCount: Int
    let layers: Int
    let kvHeads: Int
    let headDim: Int
    /// Floats per block per layer for keys (same for values).
    let blockStride: Int
    private let memory: UnsafeMutableRawPointer
    private let memoryBytes: Int
    /// Per layer: (keys, values) pool bases.
    let layerPools: [(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>)]

    private struct State {
        var refCounts: [Int32]
        var free: [Int32]
    }
    private let state: Mutex<State>

    /// Reserves a pool.
    /// - Parameters:
    ///   - config: the model's shape.
    ///   - maxBytes: memory limit for keys and values of all layers.
    ///   - blockSize: token slots per block.
    /// - Throws: `RuntimeError.cacheExhausted` when the limit is below one block.
    public init(config: ModelConfig, maxBytes: Int, blockSize: Int = defaultBlockSize) throws {
        self.blockSize = blockSize
        layers = config.layerCount
        kvHeads = config.kvHeadCount
        headDim = config.headDim
        blockStride = blockSize * kvHeads * headDim
        let bytesPerBlock = 2 * layers * blockStride * MemoryLayout<Float>.size
        blockCount = maxBytes / bytesPerBlock
        guard blockCount >= 1 else {
            throw RuntimeError(.cacheExhausted, "KV cache limit of \(maxBytes) bytes is below one block (\(bytesPerBlock) bytes for \(blockSize) tokens)")
        }
        memoryBytes = blockCount * bytesPerBlock
        let p = mmap(nil, memoryBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let p, p != MAP_FAILED else {
            throw RuntimeError(.cacheExhausted, "cannot reserve \(memoryBytes) bytes for the KV cache")
        }
        memory = p
        let floats = memory.assumingMemoryBound(to: Float.self)
        let perLayer = blockCount * blockStride
        layerPools = (0..<layers).map { l in (floats + (2 * l) * perLayer, floats + (2 * l + 1) * perLayer) }
        state = Mutex(State(refCounts: Array(repeating: 0, count: blockCount),
                            free: (0..<Int32(blockCount)).reversed()))
    }

    deinit { munmap(memory, memoryBytes) }

    /// Bytes of one block (keys and values of all layers).
    public var bytesPerBlock: Int { blockSize * bytesPerToken }

    /// Tokens the whole pool holds.
    public var tokenCapacity: Int { blockCount * blockSize }

    /// Bytes one token occupies (keys and values of all layers).
    public var bytesPerToken: Int { 2 * layers * kvHeads * headDim * MemoryLayout<Float>.size }

    /// Blocks currently in use.
    public var blocksInUse: Int { state.withLock { blockCount - $0.free.count } }

    /// A new, empty sequence.
    public func makeSequence() -> KVSequence { KVSequence(cache: self) }

    func allocate() throws -> Int32 {
        try state.withLock { s in
            guard let b = s.free.popLast() else {
                throw RuntimeError(.cacheExhausted, "KV cache full: all \(blockCount) blocks of \(blockSize) tokens (\(tokenCapacity) tokens, \(memoryBytes / (1 << 20)) MiB) are in use")
            }
            s.refCounts[Int(b)] = 1
            return b
        }
    }

    func retain(_ blocks: [Int32]) {
        state.withLock { s in for b in blocks { s.refCounts[Int(b)] += 1 } }
    }

    func release<C: Collection>(_ blocks: C) where C.Element == Int32 {
        state.withLock { s in
            for b in blocks {
                s.refCounts[Int(b)] -= 1
                if s.refCounts[Int(b)] == 0 { s.free.append(b) }
            }
        }
    }

    func isShared(_ block: Int32) -> Bool { state.withLock { $0.refCounts[Int(block)] > 1 } }

    /// Copies the first `slots` slots of block `from` into block `to`, all layers.
    func copyBlock(from: Int32, to: Int32, slots: Int) {
        let n = slots * kvHeads * headDim
        for pool in layerPools {
            (pool.keys + Int(to) * blockStride).update(from: pool.keys + Int(from) * blockStride, count: n)
            (pool.values + Int(to) * blockStride).update(from: pool.values + Int(from) * blockStride, count: n)
        }
    }
}

/// One hypothesis's cache: the blocks holding its tokens' keys and values, in order.
///
/// A sequence is owned by one hypothesis of one session and is not itself thread-safe; fork it
/// to branch. Its blocks return to the pool when it is truncated or deinitialised.
public final class KVSequence: @unchecked Sendable {
    /// The pool it draws from.
    public let cache: KVCache
    /// Blocks in order.
    public private(set) var blocks: [Int32] = []
    /// Tokens stored (positions 0..<length).
    public private(set) var length = 0
    /// Positions below this hold keys/values of every layer; positions from it up to `length`
    /// were written by partial passes (`LayerSelection`) and hold only `partialLayers`.
    public private(set) var fullLength = 0
    /// The layers every position in `fullLength..<length` holds (all layers when there are none).
    public private(set) var partialLayers: LayerSelection
    /// The residual stream each position in `fullLength..<length` left after its last layer, when
    /// partial passes over the model's first layers wrote all of them (LayerSkip's exit state,
    /// which `Model.complete` carries through the remaining layers); empty otherwise.
    public internal(set) var partialResiduals: [[Float]] = []

    /// Whether every partial position's residual is held (`Model.complete` can finish them).
    public var canComplete: Bool {
        length > fullLength && partialResiduals.count == length - fullLength && partialLayers.layers == Array(0..<shallowDepth)
    }

    /// How many leading layers positions `fullLength..<length` all hold.
    public var shallowDepth: Int { partialLayers.layers.enumerated().prefix { $0.offset == $0.element }.count }

    init(cache: KVCache) {
        self.cache = cache
        partialLayers = .all(cache.layers)
    }

    deinit { cache.release(blocks) }

    /// A new sequence sharing this one's tokens (no copy until one of them appends).
    /// - Returns: the fork.
    public func fork() -> KVSequence {
        let other = KVSequence(cache: cache)
        cache.retain(blocks)
        other.blocks = blocks
        other.length = length
        other.fullLength = fullLength
        other.partialLayers = partialLayers
        other.partialResiduals = partialResiduals
        return other
    }

    /// Rolls back to the first `newLength` tokens, releasing blocks past them.
    /// - Parameter newLength: tokens to keep (≤ `length`).
    public func truncate(to newLength: Int) {
        precondition(newLength >= 0 && newLength <= length, "truncate(to: \(newLength)) outside 0...\(length)")
        let keepBlocks = (newLength + cache.blockSize - 1) / cache.blockSize
        if keepBlocks < blocks.count {
            cache.release(blocks[keepBlocks...])
            blocks.removeSubrange(keepBlocks...)
        }
        let held = partialResiduals.count == length - fullLength
        length = newLength
        fullLength = min(fullLength, newLength)
        partialResiduals = held ? Array(partialResiduals.prefix(length - fullLength)) : []
        if fullLength == length { partialLayers = .all(cache.layers) }
    }

    /// Goes back to the full positions, keeping the partial positions' blocks and keys and values
    /// (`Model.complete` rewrites the same positions from their residuals).
    /// - Returns: how many partial positions there were.
    func rewindPartial() -> Int {
        let count = length - fullLength
        length = fullLength
        partialLayers = .all(cache.layers)
        partialResiduals = []
        return count
    }

    /// Keeps, after `base`, only the tree nodes on `path` (indices relative to `base`, root first),
    /// moving their keys and values so that node `path[j]` ends at position `base + j`, then
    /// truncates after them. Used after verifying a token tree scored in one forward pass: tree
    /// nodes were stored in tree order, and node at depth j was rotated for position base + j.
    /// - Parameters:
    ///   - base: the length before the tree was appended.
    ///   - path: accepted tree-node indices, each at depth equal to its place in the list.
    public func keepPath(base: Int, path: [Int]) throws {
        precondition(base <= length)
        for (j, node) in path.enumerated() {
            precondition(node >= j && base + node < length, "path node \(node) at depth \(j) out of range")
            let from = base + node, to = base + j
            if from == to { continue }
            try makeWritable(slot: to)
            for pool in cache.layerPools {
                let n = cache.kvHeads * cache.headDim
                let src = slotOffset(from), dst = slotOffset(to)
                (pool.keys + dst).update(from: pool.keys + src, count: n)
                (pool.values + dst).update(from: pool.values + src, count: n)
            }
        }
        truncate(to: base + path.count)
    }

    /// Element offset of a slot within one layer's pool.
    func slotOffset(_ slot: Int) -> Int {
        let block = Int(blocks[slot / cache.blockSize])
        return (block * cache.blockSize + slot % cache.blockSize) * cache.kvHeads * cache.headDim
    }

    /// Makes room for `count` more tokens: allocates blocks and un-shares a shared last block.
    func reserve(_ count: Int) throws {
        let needed = (length + count + cache.blockSize - 1) / cache.blockSize
        if count > 0, length % cache.blockSize != 0 { try makeWritable(slot: length) }
        while blocks.count < needed { blocks.append(try cache.allocate()) }
    }

    /// Copy-on-write for the block holding `slot`.
    private func makeWritable(slot: Int) throws {
        let index = slot / cache.blockSize
        let old = blocks[index]
        guard cache.isShared(old) else { return }
        let fresh = try cache.allocate()
        cache.copyBlock(from: old, to: fresh, slots: cache.blockSize)
        blocks[index] = fresh
        cache.release([old])
    }

    /// Records `count` tokens appended by a forward over `layers`.
    func didAppend(_ count: Int, layers: LayerSelection) {
        let wasFull = fullLength == length
        length += count
        if layers.isComplete && wasFull {
            fullLength = length
        } else {
            partialLayers = wasFull ? layers : partialLayers.intersection(layers)
        }
    }

    /// Calls `body` with the block table.
    func withBlockTable<R>(_ body: (UnsafePointer<Int32>) throws -> R) rethrows -> R {
        try blocks.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}
