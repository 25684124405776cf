import Testing
import Foundation
import Kernels
import CKernels

/// `PagedAttention.attend` on every instruction-set path against a double-precision reference over
/// a paged cache whose blocks are out of order, for head sizes that take the vector paths and
/// ones that fall back to the portable loop.
@Suite struct PagedAttentionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var headDim: Int, group: Int, kvHeads: Int, visible: [Int32]
        var testDescription: String { "d\(headDim) G\(group) kv\(kvHeads) n\(visible.count)" }
    }

    static let blockSize = 4
    /// Block table of the sequence: slot s lives in block table[s / 4] (deliberately shuffled).
    static let table: [Int32] = [5, 0, 3, 7, 1, 6, 2, 4]

    static let cases = [
        Case(headDim: 64, group: 8, kvHeads: 4, visible: Array(0..<29)),
        Case(headDim: 16, group: 2, kvHeads: 2, visible: [0, 1, 2, 3, 4, 9, 17]),
        Case(headDim: 80, group: 3, kvHeads: 1, visible: [2, 3, 5, 7, 11, 13, 31]),
        Case(headDim: 24, group: 1, kvHeads: 3, visible: [6]),
        Case(headDim: 6, group: 2, kvHeads: 2, visible: Array(3..<20)),
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
                        PagedAttention.attend(query: query, kvHead: kvHead, groupSize: c.group, kv: kv,
                                              visible: c.visible, visibleCount: c.visible.count, scale: scale,
                                              output: &output, scores: &scores,
                                              instructionSet: InstructionSet(rawValue: isa)!)
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
}
