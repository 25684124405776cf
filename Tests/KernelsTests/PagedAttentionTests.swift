import Testing
import Foundation
import Kernels
import CKernels

/// `PagedAttention.attend` and `attendCausal` on every instruction-set path against a
/// double-precision reference over a paged cache whose blocks are out of order, for head sizes that
/// take the vector paths and ones that fall back to the portable loop.
@Suite struct PagedAttentionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var headDim: Int, group: Int, kvHeads: Int, run: Range<Int>, extra: [Int32] = []
        var visible: [Int32] { run.map { Int32($0) } + extra }
        var testDescription: String { "d\(headDim) G\(group) kv\(kvHeads) run \(run) +\(extra.count)" }
    }

    static let blockSize = 4
    /// Block table of the sequence: slot s lives in block table[s / 4] (deliberately shuffled).
    static let table: [Int32] = [5, 0, 3, 7, 1, 6, 2, 4]

    static let cases = [
        Case(headDim: 64, group: 8, kvHeads: 4, run: 0..<29),
        Case(headDim: 16, group: 2, kvHeads: 2, run: 0..<5, extra: [9, 17]),
        Case(headDim: 80, group: 3, kvHeads: 1, run: 2..<2, extra: [2, 3, 5, 7, 11, 13, 31]),
        Case(headDim: 24, group: 1, kvHeads: 3, run: 6..<7),
        Case(headDim: 6, group: 2, kvHeads: 2, run: 3..<20),
    ]

    static func values(_ n: Int, seed: UInt64, scale: Float) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2001 - 1000) / 1000 * scale
        }
    }

    @Test(arguments: ExpTests.paths, cases) func matchesReference(isa: Int32, c: Case) {
        let d = c.headDim, rowWidth = c.kvHeads * d
        let poolFloats = Self.table.count * Self.blockSize * rowWidth
        var keys = Self.values(poolFloats, seed: 3, scale: 2)
        var values = Self.values(poolFloats, seed: 4, scale: 1)
        let heads = c.kvHeads * c.group
        let query = Self.values(heads * d, seed: 5, scale: 2)
        let scale = 1 / Float(d).squareRoot()
        for kvHead in 0..<c.kvHeads {
            var output = [Float](repeating: .nan, count: heads * d)
            var scores = [Float](repeating: 0, count: c.group * c.visible.count)
            keys.withUnsafeMutableBufferPointer { k in
                values.withUnsafeMutableBufferPointer { v in
                    Self.table.withUnsafeBufferPointer { t in
                        let kv = PagedKV(keys: k.baseAddress!, values: v.baseAddress!, blockSize: Self.blockSize,
                                         kvHeads: c.kvHeads, headDim: d, blockTable: t.baseAddress!)
                        c.extra.withUnsafeBufferPointer { extra in
                            PagedAttention.attend(query: query, kvHead: kvHead, groupSize: c.group, kv: kv,
                                                  run: c.run, extra: extra.baseAddress, extraCount: extra.count,
                                                  scale: scale, output: &output, scores: &scores,
                                                  instructionSet: InstructionSet(rawValue: isa)!)
                        }
                    }
                }
            }
            func row(_ pool: [Float], _ slot: Int32) -> ArraySlice<Float> {
                let s = Int(slot)
                let start = ((Int(Self.table[s / Self.blockSize]) * Self.blockSize + s % Self.blockSize) * c.kvHeads + kvHead) * d
                return pool[start..<(start + d)]
            }
            for g in 0..<c.group {
                let h = kvHead * c.group + g
                let q = query[(h * d)..<((h + 1) * d)].map(Double.init)
                let logits = c.visible.map { slot in
                    zip(q, row(keys, slot)).reduce(0.0) { $0 + $1.0 * Double($1.1) } * Double(scale)
                }
                let top = logits.max()!
                let weights = logits.map { Foundation.exp($0 - top) }
                let total = weights.reduce(0, +)
                let rows = c.visible.map { Array(row(values, $0)) }
                for i in 0..<d {
                    let ref = zip(weights, rows).reduce(0.0) { $0 + $1.0 / total * Double($1.1[i]) }
                    let got = Double(output[h * d + i])
                    #expect(abs(got - ref) <= 1e-5 * max(1, abs(ref)), "path \(isa) head \(h) feature \(i): \(got) vs \(ref)")
                }
            }
            // Heads of other groups are left untouched.
            for h in 0..<heads where h / c.group != kvHead {
                #expect(output[(h * d)..<((h + 1) * d)].allSatisfy { $0.isNaN }, "head \(h) written by group \(kvHead)")
            }
        }
    }

    struct CausalCase: CustomTestStringConvertible, Sendable {
        var headDim: Int, group: Int, kvHeads: Int, first: Int, count: Int, window: Int?
        var testDescription: String { "d\(headDim) G\(group) kv\(kvHeads) \(first)..<\(first + count) w\(window.map(String.init) ?? "-")" }
    }

    /// Slots 0..<32 of the shuffled table: runs that start mid-tile, cross the tile edge, cover a
    /// whole tile, fall under a window that cuts tiles, and a head size the tile does not divide.
    static let causalCases = [
        CausalCase(headDim: 64, group: 3, kvHeads: 2, first: 0, count: 32, window: nil),
        CausalCase(headDim: 64, group: 3, kvHeads: 2, first: 13, count: 19, window: nil),
        CausalCase(headDim: 32, group: 1, kvHeads: 1, first: 5, count: 7, window: nil),
        CausalCase(headDim: 16, group: 4, kvHeads: 2, first: 9, count: 23, window: 6),
        CausalCase(headDim: 48, group: 2, kvHeads: 1, first: 0, count: 32, window: 17),
        CausalCase(headDim: 24, group: 2, kvHeads: 2, first: 3, count: 29, window: 5),
    ]

    /// Every query of a causal run, each head, against the double-precision softmax over exactly
    /// the slots its position and window allow.
    @Test(arguments: ExpTests.paths, causalCases) func causalRunMatchesReference(isa: Int32, c: CausalCase) {
        let d = c.headDim, rowWidth = c.kvHeads * d
        let poolFloats = Self.table.count * Self.blockSize * rowWidth
        var keys = Self.values(poolFloats, seed: 7, scale: 2)
        var values = Self.values(poolFloats, seed: 8, scale: 1)
        let heads = c.kvHeads * c.group, stride = heads * d
        let queries = Self.values(c.count * stride, seed: 9, scale: 2)
        let scale = 1 / Float(d).squareRoot()
        var output = [Float](repeating: .nan, count: c.count * stride)
        for kvHead in 0..<c.kvHeads {
            var scratch = [Float](repeating: .nan, count: PagedAttention.causalScratchCount(
                firstPosition: c.first, count: c.count, groupSize: c.group, headDim: d))
            keys.withUnsafeMutableBufferPointer { k in
                values.withUnsafeMutableBufferPointer { v in
                    Self.table.withUnsafeBufferPointer { t in
                        let kv = PagedKV(keys: k.baseAddress!, values: v.baseAddress!, blockSize: Self.blockSize,
                                         kvHeads: c.kvHeads, headDim: d, blockTable: t.baseAddress!)
                        PagedAttention.attendCausal(queries: queries, count: c.count, stride: stride, firstPosition: c.first,
                                                    window: c.window, kvHead: kvHead, groupSize: c.group, kv: kv,
                                                    scale: scale, output: &output, scratch: &scratch,
                                                    instructionSet: InstructionSet(rawValue: isa)!)
                    }
                }
            }
        }
        func row(_ pool: [Float], _ slot: Int, _ kvHead: Int) -> ArraySlice<Float> {
            let start = ((Int(Self.table[slot / Self.blockSize]) * Self.blockSize + slot % Self.blockSize) * c.kvHeads + kvHead) * d
            return pool[start..<(start + d)]
        }
        var worst = 0.0
        for i in 0..<c.count {
            let position = c.first + i
            let lo = c.window.map { max(0, position - $0 + 1) } ?? 0
            for h in 0..<heads {
                let kvHead = h / c.group
                let q = queries[(i * stride + h * d)..<(i * stride + (h + 1) * d)].map(Double.init)
                let logits = (lo...position).map { slot in
                    zip(q, row(keys, slot, kvHead)).reduce(0.0) { $0 + $1.0 * Double($1.1) } * Double(scale)
                }
                let top = logits.max()!
                let weights = logits.map { Foundation.exp($0 - top) }
                let total = weights.reduce(0, +)
                for f in 0..<d {
                    let ref = zip(weights, lo...position).reduce(0.0) { $0 + $1.0 / total * Double(row(values, $1.1, kvHead)[row(values, $1.1, kvHead).startIndex + f]) }
                    worst = max(worst, abs(Double(output[i * stride + h * d + f]) - ref) / max(1, abs(ref)))
                }
            }
        }
        #expect(worst <= 1e-5, "path \(isa): worst relative error \(worst)")
    }

    /// A row longer than a chunk (`PagedAttention.chunkSlots`): three chunks of a 700-slot run plus
    /// listed slots, every key/value head in one call, against the double-precision softmax; one
    /// head at a time gives the same bits; and the chunks computed one by one (as the forward
    /// pass's threads do) and merged give the same bits as the call.
    @Test(arguments: ExpTests.paths) func longRowsMergeChunksInOrder(isa: Int32) {
        let d = 64, group = 3, kvHeads = 3, blockSize = 16, blocks = 48
        let table = (0..<Int32(blocks)).map { ($0 * 29) % Int32(blocks) }  // a permutation (29 ⟂ 48)
        let run = 0..<700, extra: [Int32] = [703, 710, 767]
        let count = run.count + extra.count, heads = kvHeads * group
        #expect(count > 2 * PagedAttention.chunkSlots)
        let poolFloats = blocks * blockSize * kvHeads * d
        var keys = Self.values(poolFloats, seed: 11, scale: 2)
        var values = Self.values(poolFloats, seed: 12, scale: 1)
        let query = Self.values(heads * d, seed: 13, scale: 2)
        let scale = 1 / Float(d).squareRoot(), path = InstructionSet(rawValue: isa)!
        var whole = [Float](repeating: .nan, count: heads * d), single = whole, merged = whole
        keys.withUnsafeMutableBufferPointer { k in
            values.withUnsafeMutableBufferPointer { v in
                table.withUnsafeBufferPointer { t in
                    extra.withUnsafeBufferPointer { e in
                        let kv = PagedKV(keys: k.baseAddress!, values: v.baseAddress!, blockSize: blockSize,
                                         kvHeads: kvHeads, headDim: d, blockTable: t.baseAddress!)
                        var scores = [Float](repeating: .nan, count: heads * PagedAttention.chunkSlots)
                        PagedAttention.attend(query: query, kvHead: 0, kvHeadCount: kvHeads, groupSize: group, kv: kv,
                                              run: run, extra: e.baseAddress, extraCount: e.count, scale: scale,
                                              output: &whole, scores: &scores, instructionSet: path)
                        for h in 0..<kvHeads {
                            PagedAttention.attend(query: query, kvHead: h, groupSize: group, kv: kv, run: run,
                                                  extra: e.baseAddress, extraCount: e.count, scale: scale,
                                                  output: &single, scores: &scores, instructionSet: path)
                        }
                        let chunks = (count + PagedAttention.chunkSlots - 1) / PagedAttention.chunkSlots
                        var partial = [Float](repeating: .nan, count: chunks * heads * d)
                        var maxima = [Float](repeating: .nan, count: chunks * heads), sums = maxima
                        for c in 0..<chunks {
                            let first = c * PagedAttention.chunkSlots
                            partial.withUnsafeMutableBufferPointer { p in
                                maxima.withUnsafeMutableBufferPointer { m in
                                    sums.withUnsafeMutableBufferPointer { l in
                                        let row = [PagedAttention.Row(q: query, lo: 0, run: run.count, extra: e.baseAddress,
                                                                      count: count, acc: p.baseAddress! + c * heads * d,
                                                                      m: m.baseAddress! + c * heads, l: l.baseAddress! + c * heads)]
                                        row.withUnsafeBufferPointer { one in
                                            PagedAttention.attendChunk(rows: one, kvHead: 0, kvHeadCount: kvHeads, groupSize: group,
                                                                       kv: kv, slots: first..<(first + PagedAttention.chunkSlots),
                                                                       scale: scale, scores: &scores, instructionSet: path)
                                        }
                                    }
                                }
                            }
                        }
                        PagedAttention.mergeChunks(heads: heads, headDim: d, chunks: chunks, partial: partial, maxima: maxima,
                                                   sums: sums, output: &merged)
                    }
                }
            }
        }
        // Several rows in one chunk call (a chain's rows and a tree row with listed slots): each
        // row's chunk results are bitwise those of its own call.
        let rowsSeen: [(run: Range<Int>, extra: [Int32])] = [(0..<300, []), (0..<301, []), (0..<290, [700, 705]), (0..<40, [])]
        var together = [Float](repeating: .nan, count: rowsSeen.count * (heads * d + 2 * heads)), alone = together
        keys.withUnsafeMutableBufferPointer { k in
            values.withUnsafeMutableBufferPointer { v in
                table.withUnsafeBufferPointer { t in
                    let kv = PagedKV(keys: k.baseAddress!, values: v.baseAddress!, blockSize: blockSize,
                                     kvHeads: kvHeads, headDim: d, blockTable: t.baseAddress!)
                    let lists = rowsSeen.map { $0.extra }
                    var scores = [Float](repeating: .nan, count: rowsSeen.count * heads * PagedAttention.chunkSlots)
                    let slots = PagedAttention.chunkSlots..<(2 * PagedAttention.chunkSlots)  // the second chunk
                    lists[2].withUnsafeBufferPointer { e2 in
                        together.withUnsafeMutableBufferPointer { out in
                            let o = out.baseAddress!, stride = heads * d + 2 * heads
                            let rows = rowsSeen.enumerated().map { i, row in
                                PagedAttention.Row(q: query, lo: 0, run: row.run.count, extra: i == 2 ? e2.baseAddress : nil,
                                                   count: row.run.count + row.extra.count, acc: o + i * stride,
                                                   m: o + i * stride + heads * d, l: o + i * stride + heads * d + heads)
                            }.filter { $0.count > slots.lowerBound }
                            rows.withUnsafeBufferPointer { buffer in
                                PagedAttention.attendChunk(rows: buffer, kvHead: 0, kvHeadCount: kvHeads, groupSize: group, kv: kv,
                                                           slots: slots, scale: scale, scores: &scores, instructionSet: path)
                            }
                        }
                        alone.withUnsafeMutableBufferPointer { out in
                            let o = out.baseAddress!, stride = heads * d + 2 * heads
                            for (i, row) in rowsSeen.enumerated() where row.run.count + row.extra.count > slots.lowerBound {
                                let one = [PagedAttention.Row(q: query, lo: 0, run: row.run.count, extra: i == 2 ? e2.baseAddress : nil,
                                                              count: row.run.count + row.extra.count, acc: o + i * stride,
                                                              m: o + i * stride + heads * d, l: o + i * stride + heads * d + heads)]
                                one.withUnsafeBufferPointer { buffer in
                                    PagedAttention.attendChunk(rows: buffer, kvHead: 0, kvHeadCount: kvHeads, groupSize: group, kv: kv,
                                                               slots: slots, scale: scale, scores: &scores, instructionSet: path)
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(zip(together, alone).allSatisfy { $0.bitPattern == $1.bitPattern }, "path \(isa): rows together differ from rows alone")
        #expect(together.filter { !$0.isNaN }.count == 3 * (heads * d + 2 * heads), "path \(isa): rows past the chunk were written")
        #expect(single == whole, "path \(isa): heads one at a time differ from one sweep")
        #expect(merged == whole, "path \(isa): chunks merged apart differ from one call")
        let visible = run.map(Int32.init) + extra
        func row(_ pool: [Float], _ slot: Int32, _ kvHead: Int) -> ArraySlice<Float> {
            let s = Int(slot), start = ((Int(table[s / blockSize]) * blockSize + s % blockSize) * kvHeads + kvHead) * d
            return pool[start..<(start + d)]
        }
        var worst = 0.0
        for h in 0..<heads {
            let q = query[(h * d)..<((h + 1) * d)].map(Double.init)
            let logits = visible.map { zip(q, row(keys, $0, h / group)).reduce(0.0) { $0 + $1.0 * Double($1.1) } * Double(scale) }
            let top = logits.max()!
            let weights = logits.map { Foundation.exp($0 - top) }
            let total = weights.reduce(0, +)
            for f in 0..<d {
                let ref = zip(weights, visible).reduce(0.0) { acc, w in
                    let r = row(values, w.1, h / group)
                    return acc + w.0 / total * Double(r[r.startIndex + f])
                }
                worst = max(worst, abs(Double(whole[h * d + f]) - ref) / max(1, abs(ref)))
            }
        }
        #expect(worst <= 1e-5, "path \(isa): worst relative error \(worst)")
    }
}
