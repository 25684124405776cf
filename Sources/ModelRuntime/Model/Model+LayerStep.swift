import Kernels

extension Model {
    /// The residual stream before the first layer for `token`: its embedding row.
    /// - Parameter token: a vocabulary id.
    /// - Returns: `hiddenSize` values.
    /// - Throws: `RuntimeError.badInput` for an id outside the vocabulary.
    public func embedding(of token: Int32) throws -> [Float] {
        guard (0..<Int32(config.vocabularySize)).contains(token) else {
            throw RuntimeError(.badInput, "token \(token) outside the vocabulary of \(config.vocabularySize)")
        }
        var row = [Float](repeating: 0, count: config.hiddenSize)
        row.withUnsafeMutableBufferPointer { embedding.widen(rows: Int(token)..<(Int(token) + 1), into: $0.baseAddress!) }
        return row
    }

    /// The final norm over residual-stream rows: what the LM head reads (`ForwardItem.states`).
    /// - Parameter states: rows of `hiddenSize` values.
    /// - Returns: the normed rows.
    public func finalNormed(_ states: [Float]) -> [Float] {
        let H = config.hiddenSize
        var out = [Float](repeating: 0, count: states.count)
        states.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                for r in 0..<(states.count / H) {
                    Vector.rmsNorm(x.baseAddress! + r * H, weight: finalNorm, epsilon: config.rmsNormEpsilon,
                                   into: y.baseAddress! + r * H, count: H)
                }
            }
        }
        return out
    }

    /// Runs decoder layer `layer` alone over candidate residual-stream rows of one token: every row
    /// is the token at `position` of `sequence`, attends to the cached positions before it and to
    /// itself, and comes out as the residual stream after the layer. Nothing is written to
    /// `sequence` (the rows' keys and values live in a discarded fork). CLaSp's dynamic programme
    /// (Chen et al. 2025) evaluates its candidate states layer by layer with it; chained over every
    /// layer from `embedding(of:)`, one row is the token's full forward.
    /// - Parameters:
    ///   - layer: the layer, in `0..<layerCount`.
    ///   - states: `rows × hiddenSize` values.
    ///   - position: the token's position; the sequence must hold positions `0..<position` at
    ///     full depth.
    ///   - sequence: the token's sequence.
    /// - Returns: `rows × hiddenSize` values.
    /// - Throws: `RuntimeError.badInput` for a layer, row count or position out of range;
    ///   `.cacheExhausted` when the fork cannot get a block.
    public func layerStep(_ layer: Int, states: [Float], position: Int, sequence: KVSequence) throws -> [Float] {
        let c = config
        let H = c.hiddenSize, qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim, F = c.intermediateSize
        guard (0..<c.layerCount).contains(layer) else { throw RuntimeError(.badInput, "layer \(layer) outside 0..<\(c.layerCount)") }
        guard !states.isEmpty, states.count % H == 0 else {
            throw RuntimeError(.badInput, "\(states.count) state values are not rows of \(H)")
        }
        guard sequence.cache === cache, (0...sequence.fullLength).contains(position) else {
            throw RuntimeError(.badInput, "position \(position) is not after this model's cached full-depth prefix of \(sequence.fullLength)")
        }
        let M = states.count / H
        let fork = sequence.fork()
        fork.truncate(to: position)
        try fork.reserve(M)
        return try forwardLock.withLock { _ in
            let weights = layers[layer]
            let scratch = ForwardScratch(M: M, hidden: H, qDim: qDim, kvDim: kvDim, ffn: F, headDim: c.headDim)
            defer { scratch.deallocate() }
            states.withUnsafeBufferPointer { scratch.x.update(from: $0.baseAddress!, count: M * H) }
            // Every row is the token at `position`: one rotary table, repeated; each row's keys and
            // values go to its own slot after the prefix, so a row sees the prefix and that one slot.
            let tables = UnsafeMutablePointer<Float>.allocate(capacity: M * c.headDim)
            defer { tables.deallocate() }
            rope.angles(position: position, headDim: c.headDim, into: tables)
            for r in 1..<M { (tables + r * c.headDim).update(from: tables, count: c.headDim) }
            let pools = cache.layerPools[layer]
            projectLayer(weights, pools, scratch, rows: M, ropeTables: tables, slotOffsets: (0..<M).map { fork.slotOffset(position + $0) },
                         queries: true, pool: pool)
            let group = c.headCount / c.kvHeadCount
            let scale = 1 / Float(c.headDim).squareRoot()
            let visible = weights.window.map { max(0, position - $0 + 1) } ?? 0
            fork.withBlockTable { blockTable in
                let kv = PagedKV(keys: pools.keys, values: pools.values, blockSize: cache.blockSize, kvHeads: c.kvHeadCount,
                                 headDim: c.headDim, blockTable: blockTable)
                pool.parallelFor(count: M * c.kvHeadCount) { range in
                    let scores = UnsafeMutablePointer<Float>.allocate(capacity: group * (position - visible + 1))
                    defer { scores.deallocate() }
                    var own = Int32(0)
                    for job in range {
                        let r = job / c.kvHeadCount, g = job % c.kvHeadCount
                        own = Int32(position + r)
                        PagedAttention.attend(query: scratch.q + r * qDim, kvHead: g, groupSize: group, kv: kv, run: visible..<position,
                                              extra: &own, extraCount: 1, scale: scale, output: scratch.attention + r * qDim, scores: scores)
                    }
                }
            }
            finishLayer(weights, scratch, rows: M, pool: pool)
            return Array(UnsafeBufferPointer(start: scratch.x, count: M * H))
        }
    }
}
