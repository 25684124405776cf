import Testing
import Foundation
import Kernels
import CKernels

/// The streaming kernel on every instruction-set path and dtype, and the BLAS path, against a
/// double-precision reference over the same (rounded) weights.
@Suite(.serialized) struct MatMulTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var M: Int, N: Int, K: Int
        var testDescription: String { "M\(M) N\(N) K\(K)" }
    }

    static let shapes = [Case(M: 1, N: 7, K: 33), Case(M: 3, N: 12, K: 64), Case(M: 5, N: 9, K: 17),
                         Case(M: 8, N: 16, K: 100), Case(M: 16, N: 5, K: 48), Case(M: 40, N: 70, K: 96),
                         // Many 4-row blocks and a tail row, at one and two activation rows.
                         Case(M: 1, N: 37, K: 64), Case(M: 2, N: 50, K: 40)]

    static func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2001 - 1000) / 700
        }
    }

    /// `values` rounded to bf16 and widened back: what the bf16 activation mode multiplies.
    static func roundedToBF16(_ v: [Float]) -> [Float] {
        var bits = [UInt16](repeating: 0, count: v.count)
        var back = [Float](repeating: 0, count: v.count)
        v.withUnsafeBufferPointer { p in bits.withUnsafeMutableBytes { convertFromF32(p.baseAddress!, to: .bf16, $0.baseAddress!, count: v.count) } }
        bits.withUnsafeBytes { raw in back.withUnsafeMutableBufferPointer { convertToF32(.bf16, raw.baseAddress!, $0.baseAddress!, count: v.count) } }
        return back
    }

    static func check(_ c: Case, dtype: DType, isa: InstructionSet, activations: ActivationPrecision = .f32) {
        let x = values(c.M * c.K, seed: 1)
        // The reference multiplies what the kernel is meant to read.
        let xRead = activations == .bf16 && dtype == .bf16 ? roundedToBF16(x) : x
        let w32 = values(c.N * c.K, seed: 2)
        var stored = [UInt8](repeating: 0, count: c.N * c.K * dtype.size)
        var widened = [Float](repeating: 0, count: c.N * c.K)
        stored.withUnsafeMutableBytes { raw in
            w32.withUnsafeBufferPointer { convertFromF32($0.baseAddress!, to: dtype, raw.baseAddress!, count: c.N * c.K) }
            widened.withUnsafeMutableBufferPointer { convertToF32(dtype, raw.baseAddress!, $0.baseAddress!, count: c.N * c.K) }
        }
        var y = [Float](repeating: .nan, count: c.M * c.N)
        // The kernel path is chosen per call, not process-wide: other suites multiply concurrently
        // and rely on one path (bitwise independence of M).
        let used = isa
        stored.withUnsafeBytes { raw in
            let w = WeightMatrix(base: raw.baseAddress!, dtype: dtype, rows: c.N, columns: c.K)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    if c.M <= MatMul.streamingRowLimit {
                        MatMul.multiplyOnCallingThread(xp.baseAddress!, rows: c.M, ldx: c.K, by: w, into: yp.baseAddress!,
                                                       ldy: c.N, instructionSet: isa, activations: activations)
                    } else {
                        MatMul.multiply(xp.baseAddress!, rows: c.M, ldx: c.K, by: w, into: yp.baseAddress!, ldy: c.N,
                                        pool: ComputePool(threadCount: 2), activations: activations)
                    }
                }
            }
        }
        for m in 0..<c.M {
            for n in 0..<c.N {
                var ref = 0.0, mag = 0.0
                for k in 0..<c.K {
                    ref += Double(xRead[m * c.K + k]) * Double(widened[n * c.K + k])
                    mag += abs(Double(xRead[m * c.K + k]) * Double(widened[n * c.K + k]))
                }
                let err = abs(Double(y[m * c.N + n]) - ref)
                #expect(err <= 1e-5 * max(1, mag), "\(c.testDescription) \(dtype) \(used) \(activations) at (\(m),\(n)): \(y[m * c.N + n]) vs \(ref)")
            }
        }
    }

    @Test(arguments: shapes)
    func allPathsAndDTypes(_ c: Case) {
        for isa in [InstructionSet.portable, .avx2, .avx512] where isa.rawValue <= InstructionSet.detected.rawValue {
            for dtype in [DType.f32, .f16, .bf16] { Self.check(c, dtype: dtype, isa: isa) }
        }
    }

    /// The bf16 activation mode (AVX-512 BF16 dot products where the CPU has them) against the
    /// same reference over rounded activations, on every path, with k-chunk and vector tails
    /// (K = 2100 spans two 2048-column chunks and ends mid-vector).
    @Test(arguments: shapes + [Case(M: 4, N: 8, K: 2100), Case(M: 9, N: 6, K: 31), Case(M: 3, N: 23, K: 2100)])
    func bf16ActivationsOnEveryPath(_ c: Case) {
        for isa in [InstructionSet.portable, .avx2, .avx512] where isa.rawValue <= InstructionSet.detected.rawValue {
            Self.check(c, dtype: .bf16, isa: isa, activations: .bf16)
            Self.check(c, dtype: .f16, isa: isa, activations: .bf16)  // only bf16 weights are affected
        }
    }

    /// The rounding is real: with activations that bf16 cannot hold, the f32 and bf16 modes give
    /// different products, and the bf16 mode equals the f32 mode fed pre-rounded activations to
    /// within f32 summation error.
    @Test func bf16ActivationsAreRounded() {
        let M = 2, N = 4, K = 256
        let x = Self.values(M * K, seed: 7).map { $0 * (1 + 1 / 1000) }
        let w32 = Self.values(N * K, seed: 8)
        var stored = [UInt16](repeating: 0, count: N * K)
        w32.withUnsafeBufferPointer { p in stored.withUnsafeMutableBytes { convertFromF32(p.baseAddress!, to: .bf16, $0.baseAddress!, count: N * K) } }
        func product(_ input: [Float], _ mode: ActivationPrecision) -> [Float] {
            var y = [Float](repeating: 0, count: M * N)
            stored.withUnsafeBytes { raw in
                let w = WeightMatrix(base: raw.baseAddress!, dtype: .bf16, rows: N, columns: K)
                MatMul.multiplyOnCallingThread(input, rows: M, ldx: K, by: w, into: &y, ldy: N,
                                               instructionSet: .detected, activations: mode)
            }
            return y
        }
        let exact = product(x, .f32), rounded = product(x, .bf16), prerounded = product(Self.roundedToBF16(x), .f32)
        #expect(zip(exact, rounded).contains { abs($0 - $1) > 1e-4 * max(1, abs($0)) })
        for (a, b) in zip(rounded, prerounded) { #expect(abs(a - b) <= 1e-5 * max(1, abs(a))) }
    }

    @Test func conversionsRoundToNearestEven() {
        // 1 + 2^-8 lies exactly between two bf16 values (1 and 1 + 2^-7): ties go to even (1).
        // 1 + 3·2^-8 lies between 1 + 2^-7 and 1 + 2^-6: ties to even is 1 + 2^-6.
        let inputs: [Float] = [1 + 1.0 / 256, 1 + 3.0 / 256, -2.5, 65504, 70000, 1e-8, 6.0e-8, .infinity]
        var bf = [UInt16](repeating: 0, count: inputs.count), hf = bf
        inputs.withUnsafeBufferPointer { p in
            bf.withUnsafeMutableBytes { convertFromF32(p.baseAddress!, to: .bf16, $0.baseAddress!, count: inputs.count) }
            hf.withUnsafeMutableBytes { convertFromF32(p.baseAddress!, to: .f16, $0.baseAddress!, count: inputs.count) }
        }
        #expect(bf[0] == 0x3F80)
        #expect(bf[1] == 0x3F82)
        #expect(bf[2] == 0xC020)
        #expect(hf[3] == 0x7BFF, "65504 is the largest finite f16")
        #expect(hf[4] == 0x7C00, "70000 overflows to +inf")
        #expect(hf[5] == 0x0000, "1e-8 is below half the smallest subnormal")
        #expect(hf[6] == 0x0001, "6e-8 rounds to the smallest subnormal 2^-24")
        #expect(hf[7] == 0x7C00)
        // Round trip of every f16 bit pattern that is not NaN is exact.
        var all = (0..<UInt16.max).filter { ($0 & 0x7C00) != 0x7C00 || ($0 & 0x03FF) == 0 }
        var widened = [Float](repeating: 0, count: all.count)
        var back = [UInt16](repeating: 0, count: all.count)
        all.withUnsafeBytes { raw in widened.withUnsafeMutableBufferPointer { convertToF32(.f16, raw.baseAddress!, $0.baseAddress!, count: all.count) } }
        widened.withUnsafeBufferPointer { p in back.withUnsafeMutableBytes { convertFromF32(p.baseAddress!, to: .f16, $0.baseAddress!, count: all.count) } }
        #expect(back == all)
        all = []
    }
}

@Suite struct ComputePoolTests {
    @Test func partitionsCoverEveryIndexOnce() {
        for threads in [1, 2, 3, 5] {
            let pool = ComputePool(threadCount: threads)
            for (count, alignment) in [(0, 1), (1, 4), (7, 1), (64, 4), (1001, 64)] {
                let hits = UnsafeMutablePointer<Int32>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0, count: max(count, 1))
                pool.parallelFor(count: count, alignment: alignment) { r in
                    for i in r { hits[i] += 1 }
                    if alignment > 1, r.lowerBound % alignment != 0 { hits[r.lowerBound] += 100 }
                }
                #expect((0..<count).allSatisfy { hits[$0] == 1 }, "threads \(threads) count \(count) alignment \(alignment)")
                hits.deallocate()
            }
        }
    }

    @Test func manyConsecutiveJobs() {
        let pool = ComputePool(threadCount: 2)
        var total = 0
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        for job in 0..<2000 {
            pool.run { t in sums[t] = job + t }
            total += sums[0] + sums[1]
        }
        sums.deallocate()
        #expect(total == (0..<2000).reduce(0) { $0 + 2 * $1 + 1 })
    }
}

@Suite struct VectorTests {
    @Test func rmsNorm() {
        let v: [Float] = [3, 4]
        let w: [Float] = [2, 1]
        var y = [Float](repeating: 0, count: 2)
        v.withUnsafeBufferPointer { vp in w.withUnsafeBufferPointer { wp in y.withUnsafeMutableBufferPointer {
            Vector.rmsNorm(vp.baseAddress!, weight: wp.baseAddress!, epsilon: 0, into: $0.baseAddress!, count: 2)
        } } }
        let rms = (12.5 as Double).squareRoot()
        #expect(abs(Double(y[0]) - 6 / rms) < 1e-6 && abs(Double(y[1]) - 4 / rms) < 1e-6)
    }
}

@Suite struct ExpTests {
    static let paths: [Int32] = [Int32(DG_ISA_PORTABLE.rawValue), Int32(DG_ISA_AVX2.rawValue), Int32(DG_ISA_AVX512.rawValue)]
        .filter { $0 <= dg_cpu_isa() }

    /// Within 2 ulp of glibc's expf over the whole non-degenerate float range, on every path the
    /// CPU has, tails included; the edges saturate and NaN stays NaN.
    @Test(arguments: paths) func vectorExpMatchesExpf(isa: Int32) {
        var xs: [Float] = []
        var x: Float = -87
        while x < 88.7 { xs.append(x); x += 0.0371 * 0.0625 }
        xs += [-200, -104, 88.73, 100, .nan, -.infinity, .infinity, 0, -0.0]
        var ys = [Float](repeating: 0, count: xs.count)
        dg_exp_isa(isa, xs, &ys, xs.count)
        var worst: Float = 0
        for (x, y) in zip(xs, ys) where x > -87.5 && x < 88.72 {
            let ref = expf(x)
            worst = max(worst, abs(y - ref) / ref.ulp)
        }
        #expect(worst <= 2, "worst error \(worst) ulp on path \(isa)")
        let tail = Array(ys.suffix(9))
        #expect(tail[0] == 0 && tail[1] == 0, "below -103.97 gives 0")
        #expect(tail[2] == .infinity && tail[3] == .infinity)
        #expect(tail[4].isNaN)
        #expect(tail[5] == 0 && tail[6] == .infinity && tail[7] == 1 && tail[8] == 1)
    }

    /// silu(z)·u against a Double reference on every path, with lengths that leave vector tails.
    @Test(arguments: paths) func siluMultiplyMatchesReference(isa: Int32) {
        for count in [1, 7, 8, 15, 16, 17, 100] {
            let gate = (0..<count).map { Float($0) * 0.37 - 12 }
            let up = (0..<count).map { Float($0 % 5) - 1.5 }
            var out = gate
            dg_silu_mul_isa(isa, &out, up, count)
            for i in 0..<count {
                let z = Double(gate[i])
                let ref = z / (1 + Foundation.exp(-z)) * Double(up[i])
                #expect(abs(Double(out[i]) - ref) <= 1e-6 * max(1, abs(ref)), "path \(isa) count \(count) at \(i)")
            }
        }
    }
}

@Suite struct ComputePoolConcurrencyTests {
    /// Two threads submitting jobs to one pool take turns; every job runs on every thread once.
    @Test func concurrentCallersTakeTurns() async {
        let pool = ComputePool(threadCount: 2)
        await withTaskGroup(of: Int.self) { group in
            for caller in 0..<2 {
                group.addTask {
                    var total = 0
                    for _ in 0..<500 {
                        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 2)
                        hits.initialize(repeating: 0, count: 2)
                        pool.run { t in hits[t] += 1 + caller }
                        total += hits[0] + hits[1]
                        hits.deallocate()
                    }
                    return total
                }
            }
            var totals: [Int] = []
            for await t in group { totals.append(t) }
            #expect(totals.sorted() == [1000, 2000])
        }
    }
}

@Suite struct ComputePoolLifetimeTests {
    /// Pools created and released in quick succession (a benchmark's temporary pools) never leave
    /// a worker touching freed state.
    @Test func shortLivedPools() {
        var total = 0
        for i in 0..<200 {
            let pool = ComputePool(threadCount: 3)
            let sums = UnsafeMutablePointer<Int>.allocate(capacity: 3)
            pool.run { t in sums[t] = t + i }
            total += sums[0] + sums[1] + sums[2]
            sums.deallocate()
        }
        #expect(total == (0..<200).reduce(0) { $0 + 3 * $1 + 3 })
    }
}

/// A row's result must not depend on how many rows are multiplied with it: decode (M = 1) and
/// verification (M = k) then produce bitwise-identical logits, so speculative greedy decoding is
/// exactly plain greedy decoding (no near-tie can flip).
@Suite struct MatMulRowIndependenceTests {
    @Test(arguments: [64, 96, 100, 2048 + 96])
    func resultsAreBitwiseIndependentOfM(K: Int) {
        let N = 37, maxM = 13
        let x = MatMulTests.values(maxM * K, seed: 7)
        let combinations = [DType.f32, .f16, .bf16].flatMap { d in ActivationPrecision.allCases.map { (d, $0) } }
        for (dtype, mode) in combinations {
            let w32 = MatMulTests.values(N * K, seed: 8)
            var stored = [UInt8](repeating: 0, count: N * K * dtype.size)
            stored.withUnsafeMutableBytes { raw in
                w32.withUnsafeBufferPointer { convertFromF32($0.baseAddress!, to: dtype, raw.baseAddress!, count: N * K) }
            }
            func multiply(rows: Range<Int>) -> [Float] {
                var y = [Float](repeating: .nan, count: rows.count * N)
                stored.withUnsafeBytes { raw in
                    let w = WeightMatrix(base: raw.baseAddress!, dtype: dtype, rows: N, columns: K)
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in
                            MatMul.multiply(xp.baseAddress! + rows.lowerBound * K, rows: rows.count, ldx: K, by: w,
                                            into: yp.baseAddress!, ldy: N, pool: ComputePool(threadCount: 2),
                                            activations: mode)
                        }
                    }
                }
                return y
            }
            let all = multiply(rows: 0..<maxM)
            for m in 0..<maxM {
                #expect(Array(all[(m * N)..<((m + 1) * N)]) == multiply(rows: m..<(m + 1)), "\(dtype) \(mode) K=\(K) row \(m): M=\(maxM) vs M=1")
            }
            for M in [2, 3, 4, 5, 8] {
                #expect(Array(all[0..<(M * N)]) == multiply(rows: 0..<M), "\(dtype) \(mode) K=\(K): M=\(maxM) vs M=\(M)")
            }
        }
    }

    /// With AVX-512 BF16, bf16 weights in the bf16 mode take whole prefill passes through the
    /// dot-product kernel (`MatMul.bf16DotRowLimit`): a pass of 70 rows gives each row bitwise
    /// what decoding it alone gives. Without the instruction the limit is the f32 kernels'.
    @Test func bf16PrefillRowsEqualDecodeRows() {
        let limit = MatMul.rowIndependentLimit(.bf16, activations: .bf16)
        guard ActivationPrecision.hasBF16DotProducts else {
            #expect(limit == MatMul.streamingRowLimit)
            return
        }
        #expect(limit == MatMul.bf16DotRowLimit)
        let K = 576, N = 21, M = 70
        let x = MatMulTests.values(M * K, seed: 9), w32 = MatMulTests.values(N * K, seed: 10)
        var stored = [UInt8](repeating: 0, count: N * K * 2)
        stored.withUnsafeMutableBytes { raw in w32.withUnsafeBufferPointer { convertFromF32($0.baseAddress!, to: .bf16, raw.baseAddress!, count: N * K) } }
        func multiply(rows: Range<Int>) -> [Float] {
            var y = [Float](repeating: .nan, count: rows.count * N)
            stored.withUnsafeBytes { raw in
                let w = WeightMatrix(base: raw.baseAddress!, dtype: .bf16, rows: N, columns: K)
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        MatMul.multiply(xp.baseAddress! + rows.lowerBound * K, rows: rows.count, ldx: K, by: w,
                                        into: yp.baseAddress!, ldy: N, pool: ComputePool(threadCount: 2), activations: .bf16)
                    }
                }
            }
            return y
        }
        let all = multiply(rows: 0..<M)
        for m in [0, 1, 33, 68, 69] {
            #expect(Array(all[(m * N)..<((m + 1) * N)]) == multiply(rows: m..<(m + 1)), "row \(m) of \(M) vs alone")
        }
    }
}
