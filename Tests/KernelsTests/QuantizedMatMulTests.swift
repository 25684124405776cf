import Testing
import Foundation
import Kernels
import CKernels

/// Block-quantized weights (ggml's formats): the layout as read by an independent decoder, the
/// integer-dot-product kernel on every instruction-set path against f32 references, and the
/// independence of each row's result from M (decode ≡ verification).
@Suite(.serialized) struct QuantizedMatMulTests {
    static let quantized = DType.allCases.filter(\.isQuantized)

    // MARK: - An independent reading of the layouts (ggml-common.h, dequantize_row_*)

    static func f16(_ b: [UInt8], _ at: Int) -> Float { Float(Float16(bitPattern: UInt16(b[at]) | UInt16(b[at + 1]) << 8)) }

    /// The values of one block, decoded element by element the way ggml's dequantizers walk it.
    static func decode(_ t: DType, _ b: [UInt8]) -> [Float] {
        switch t {
        case .q8_0:
            return (0..<32).map { f16(b, 0) * Float(Int8(bitPattern: b[2 + $0])) }
        case .q4_0, .q4_1, .q5_0, .q5_1:
            let d = f16(b, 0), hasMin = t == .q4_1 || t == .q5_1, five = t == .q5_0 || t == .q5_1
            let qsAt = 2 + (hasMin ? 2 : 0) + (five ? 4 : 0), qhAt = 2 + (hasMin ? 2 : 0)
            let qh = five ? (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[qhAt + $1]) << (8 * $1) } : 0
            return (0..<32).map { i in
                let nibble = i < 16 ? b[qsAt + i] & 0xF : b[qsAt + i - 16] >> 4
                let q = Int(nibble) | Int((qh >> UInt32(i)) & 1) << 4
                return hasMin ? d * Float(q) + f16(b, 2) : d * Float(q - (five ? 16 : 8))
            }
        case .q4_K, .q5_K:
            let d = f16(b, 0), dmin = f16(b, 2), s = Array(b[4..<16]), five = t == .q5_K
            let qs = Array(b[(five ? 48 : 16)...]), qh = five ? Array(b[16..<48]) : []
            var out: [Float] = []
            for j in 0..<8 {
                let sc = j < 4 ? Int(s[j] & 63) : Int(s[j + 4] & 0xF) | Int(s[j - 4] >> 6) << 4
                let m = j < 4 ? Int(s[j + 4] & 63) : Int(s[j + 4] >> 4) | Int(s[j] >> 6) << 4
                for l in 0..<32 {
                    let byte = qs[32 * (j / 2) + l]
                    var q = Int(j % 2 == 0 ? byte & 0xF : byte >> 4)
                    if five { q |= Int((qh[l] >> UInt8(j)) & 1) << 4 }
                    out.append(d * Float(sc) * Float(q) - dmin * Float(m))
                }
            }
            return out
        case .q6_K:
            let d = f16(b, 208)
            var out = [Float](repeating: 0, count: 256)
            for half in 0..<2 {
                let ql = Array(b[(64 * half)..<(64 * half + 64)]), qh = Array(b[(128 + 32 * half)..<(160 + 32 * half)])
                for l in 0..<32 {
                    let q = [Int(ql[l] & 0xF) | Int(qh[l] & 3) << 4, Int(ql[l + 32] & 0xF) | Int((qh[l] >> 2) & 3) << 4,
                             Int(ql[l] >> 4) | Int((qh[l] >> 4) & 3) << 4, Int(ql[l + 32] >> 4) | Int((qh[l] >> 6) & 3) << 4]
                    for c in 0..<4 {
                        let sc = Int8(bitPattern: b[192 + 8 * half + l / 16 + 2 * c])
                        out[128 * half + 32 * c + l] = d * Float(sc) * Float(q[c] - 32)
                    }
                }
            }
            return out
        default:
            return []
        }
    }

    /// Random blocks whose f16 scale fields hold small finite values (random bytes elsewhere).
    static func randomBlocks(_ t: DType, count: Int, seed: UInt64) -> [UInt8] {
        var s = seed
        var bytes = (0..<(count * t.blockBytes)).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: s >> 33)
        }
        let scaleFields: [Int] = switch t {
        case .q8_0, .q4_0, .q5_0: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        default: [208]
        }
        for block in 0..<count {
            for (i, at) in scaleFields.enumerated() {
                let v = Float16(Float(block + 1) * (i == 0 ? 0.01171875 : -0.0390625))
                bytes[block * t.blockBytes + at] = UInt8(v.bitPattern & 0xFF)
                bytes[block * t.blockBytes + at + 1] = UInt8(v.bitPattern >> 8)
            }
        }
        return bytes
    }

    static func dequantized(_ t: DType, _ bytes: [UInt8], count: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        bytes.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { convertToF32(t, raw.baseAddress!, $0.baseAddress!, count: count) } }
        return out
    }

    @Test(arguments: quantized)
    func dequantizationMatchesAnIndependentReading(_ t: DType) {
        let blocks = 3
        let bytes = Self.randomBlocks(t, count: blocks, seed: UInt64(t.rawValue))
        let values = Self.dequantized(t, bytes, count: blocks * t.blockElements)
        for b in 0..<blocks {
            let expected = Self.decode(t, Array(bytes[(b * t.blockBytes)..<((b + 1) * t.blockBytes)]))
            let got = Array(values[(b * t.blockElements)..<((b + 1) * t.blockElements)])
            #expect(got == expected, "\(t) block \(b)")
        }
    }

    @Test func blockSizesAreGGMLs() {
        let sizes: [DType: (Int, Int)] = [.q8_0: (34, 32), .q4_0: (18, 32), .q4_1: (20, 32), .q5_0: (22, 32), .q5_1: (24, 32),
                                          .q4_K: (144, 256), .q5_K: (176, 256), .q6_K: (210, 256)]
        for t in Self.quantized { #expect(sizes[t]! == (t.blockBytes, t.blockElements), "\(t)") }
        for t in DType.allCases { #expect(DType(ggmlType: t.ggmlType) == t && DType(name: t.description) == t) }
    }

    /// Known bytes → known values, worked out by hand: the nibble order of Q4_0 (low nibbles are
    /// elements 0–15) and Q5_0's fifth bit; a Q4_K sub-block ≥ 4, whose 6-bit scale and min are
    /// split over two bytes; a Q6_K element with a negative int8 scale.
    @Test func handBuiltBlocks() {
        // Q4_0, d = 0.5 (f16 0x3800); byte 0 = 0x1F: element 0 ← 0xF − 8 = 7, element 16 ← 1 − 8 = −7.
        var q4 = [UInt8](repeating: 0x88, count: 18)
        q4[0] = 0x00; q4[1] = 0x38; q4[2] = 0x1F
        let v4 = Self.dequantized(.q4_0, q4, count: 32)
        #expect(v4[0] == 3.5 && v4[16] == -3.5 && v4[1] == 0 && v4[17] == 0)
        // Q5_0, d = 1; qh bit 16 set: element 16 ← (0x0 | 16) − 16 = 0; element 1 ← 0x0 − 16 = −16.
        var q5 = [UInt8](repeating: 0, count: 22)
        q5[1] = 0x3C; q5[4] = 0x01
        let v5 = Self.dequantized(.q5_0, q5, count: 32)
        #expect(v5[16] == 0 && v5[1] == -16 && v5[0] == -16)
        // Q4_K, d = 1, dmin = 0.5; sub-block 5: scale low nibble 3 (byte 9), high bits 0b10 (top of
        // byte 1) → 35; min low nibble 2 (byte 9 high), high bits 0b01 (top of byte 5) → 18.
        // Element 5·32 + 0 is the high nibble of qs[64]: 7 → 1·35·7 − 0.5·18 = 236.
        var qk = [UInt8](repeating: 0, count: 144)
        qk[1] = 0x3C; qk[3] = 0x38; qk[4 + 1] = 0b1000_0000; qk[4 + 5] = 0b0100_0000; qk[4 + 9] = 0x23; qk[16 + 64] = 0x70
        #expect(Self.dequantized(.q4_K, qk, count: 256)[160] == 236)
        // Q6_K, d = 2; scale of elements 48–63 (index 3) = −3; element 48 = ql[48] low | qh[16] bits 2–3
        // (quarter 1 of the first half): q = 0x5 | (2 << 4) = 37 → 2·(−3)·(37 − 32) = −30.
        var q6 = [UInt8](repeating: 0, count: 210)
        q6[48] = 0x05; q6[128 + 16] = 0b0000_1000; q6[192 + 3] = UInt8(bitPattern: -3); q6[209] = 0x40
        #expect(Self.dequantized(.q6_K, q6, count: 256)[48] == -30)
    }

    /// A row that is not a whole number of blocks is refused with the tensor's name.
    @Test func rowsMustBeWholeBlocks() {
        #expect(throws: DTypeError.self) { try DType.q4_K.checkRow(columns: 2080, tensor: "blk.0.ffn_down.weight") }
        do {
            try DType.q4_0.checkRow(columns: 100, tensor: "output.weight")
            Issue.record("100 columns accepted for q4_0")
        } catch {
            #expect(error.description.contains("output.weight") && error.description.contains("32"))
        }
        #expect((try? DType.q4_0.checkRow(columns: 96, tensor: "x")) != nil)
    }

    // MARK: - Products

    struct Case: CustomTestStringConvertible, Sendable {
        var M: Int, N: Int, K: Int
        var testDescription: String { "M\(M) N\(N) K\(K)" }
    }

    /// K is a multiple of 256 so every type fits; N covers a tail after 4-row blocks; M covers
    /// tails after 4-row activation tiles.
    static let shapes = [Case(M: 1, N: 7, K: 256), Case(M: 3, N: 12, K: 512), Case(M: 5, N: 9, K: 768),
                         Case(M: 8, N: 16, K: 256), Case(M: 13, N: 5, K: 512)]

    struct Quantized {
        var bytes: [UInt8]
        var values: [Float]
        init(_ t: DType, _ w: [Float]) {
            bytes = [UInt8](repeating: 0, count: t.byteCount(elements: w.count))
            bytes.withUnsafeMutableBytes { raw in w.withUnsafeBufferPointer { convertFromF32($0.baseAddress!, to: t, raw.baseAddress!, count: w.count) } }
            values = QuantizedMatMulTests.dequantized(t, bytes, count: w.count)
        }
    }

    /// The activations as the kernel reads them: (scale per block of 32, values d·q).
    static func quantizedActivations(_ x: [Float], M: Int, K: Int) -> (scales: [Float], values: [Float]) {
        var blocks = [dg_q8_block](repeating: dg_q8_block(), count: M * K / 32)
        x.withUnsafeBufferPointer { dg_quantize_activations($0.baseAddress!, M, K, K, &blocks) }
        var values: [Float] = []
        for b in blocks { withUnsafeBytes(of: b.q) { q in for i in 0..<32 { values.append(b.d * Float(Int8(bitPattern: q[i]))) } } }
        return (blocks.map(\.d), values)
    }

    /// The product in the `q8` mode (integer dot products; `QuantizedExactModeTests` covers `f32`).
    static func product(_ t: DType, _ bytes: [UInt8], N: Int, K: Int, _ x: [Float], M: Int, isa: InstructionSet?) -> [Float] {
        var y = [Float](repeating: .nan, count: M * N)
        bytes.withUnsafeBytes { raw in
            let w = WeightMatrix(base: raw.baseAddress!, dtype: t, rows: N, columns: K)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    if let isa {
                        MatMul.multiplyOnCallingThread(xp.baseAddress!, rows: M, ldx: K, by: w, into: yp.baseAddress!, ldy: N,
                                                       instructionSet: isa, activations: .q8)
                    } else {
                        MatMul.multiply(xp.baseAddress!, rows: M, ldx: K, by: w, into: yp.baseAddress!, ldy: N,
                                        pool: ComputePool(threadCount: 2), activations: .q8)
                    }
                }
            }
        }
        return y
    }

    /// On every path: (a) equal, up to f32 rounding of the per-block scaling and summation, to the
    /// double-precision product of the dequantized weights with the quantized-then-dequantized
    /// activations — the kernel's integer dots are exact; (b) within the activation quantization's
    /// own bound of the product with the raw activations: |Σ w·(x − x̂)| ≤ Σ |w|·d/2 over each
    /// block with activation scale d.
    @Test(arguments: shapes)
    func kernelMatchesDequantizedProducts(_ c: Case) {
        let x = MatMulTests.values(c.M * c.K, seed: 11)
        let (scales, xq) = Self.quantizedActivations(x, M: c.M, K: c.K)
        for t in Self.quantized {
            let w = Quantized(t, MatMulTests.values(c.N * c.K, seed: 12))
            for isa in [InstructionSet.portable, .avx2, .avx512] where isa.rawValue <= InstructionSet.detected.rawValue {
                let y = Self.product(t, w.bytes, N: c.N, K: c.K, x, M: c.M, isa: isa)
                for m in 0..<c.M {
                    for n in 0..<c.N {
                        var exact = 0.0, raw = 0.0, mag = 0.0, bound = 0.0
                        for k in 0..<c.K {
                            let wv = Double(w.values[n * c.K + k])
                            exact += wv * Double(xq[m * c.K + k])
                            raw += wv * Double(x[m * c.K + k])
                            mag += abs(wv * Double(xq[m * c.K + k]))
                            bound += abs(wv) * Double(scales[(m * c.K + k) / 32]) / 2
                        }
                        let got = Double(y[m * c.N + n])
                        #expect(abs(got - exact) <= 1e-5 * max(1, mag), "\(t) \(isa) \(c.testDescription) (\(m),\(n)): \(got) vs \(exact)")
                        #expect(abs(got - raw) <= bound * 1.0001 + 1e-5 * max(1, mag), "\(t) \(isa) \(c.testDescription) (\(m),\(n)): \(got) vs raw \(raw)")
                    }
                }
            }
        }
    }

    /// Activation quantization is bitwise the same on the portable and AVX2 paths: random rows,
    /// rows whose values land exactly on halves (x·(127/amax) = k + 0.5, rounded away from zero),
    /// zero rows and rows with a NaN (ignored by the maximum on both).
    @Test func activationQuantizationIsTheSameOnEveryPath() throws {
        try #require(InstructionSet.detected.rawValue >= InstructionSet.avx2.rawValue, "no AVX2 on this CPU")
        // 11 blocks a row: one run of 8 whose scales AVX2 divides together, and 3 on their own.
        let K = 352, M = 6
        var x = MatMulTests.values(M * K, seed: 31)
        for l in 0..<K { x[K + l] = (l == 0 ? 127 : Float(l % 254 - 127) + (l % 2 == 0 ? 0.5 : -0.5)) / 127 * 3 }
        for l in 0..<K { x[2 * K + l] = 0 }
        x[3 * K + 5] = .nan
        for l in 0..<K { x[4 * K + l] = Float(l % 7) * 0.5 - 1.5 }
        func quantized(_ isa: InstructionSet) -> [UInt8] {
            var blocks = [dg_q8_block](repeating: dg_q8_block(), count: M * K / 32)
            x.withUnsafeBufferPointer { dg_quantize_activations_isa(isa.rawValue, $0.baseAddress!, M, K, K, &blocks) }
            // The NaN block's quants are whatever the cast gives; compare every other block whole.
            return blocks.enumerated().filter { $0.offset != 3 * K / 32 }.flatMap { withUnsafeBytes(of: $0.element) { Array($0) } }
        }
        #expect(quantized(.portable) == quantized(.avx2))
    }

    /// The reference quantizers round to nearest: for values uniform in ±1.43 (RMS 0.83) the RMS
    /// error is a step/√12, a step being amax/127 (q8_0: 0.0038 of the RMS), amax/8 (q4_0: 0.061),
    /// range/15 (q4_1, q4_K: 0.063), amax/16 or range/31 (q5_*: 0.030), amax of 16/32 (q6_K:
    /// 0.014). Bounds are those × 1.2 (measured: 0.0037, 0.065, 0.060, 0.031, 0.029, 0.060,
    /// 0.015, 0.029); a packing slip between quantizer and reader gives errors of the order of 1.
    @Test func quantizersRoundToNearest() {
        let w = MatMulTests.values(64 * 256, seed: 5)
        let bounds: [DType: Double] = [.q8_0: 0.0046, .q4_0: 0.074, .q4_1: 0.076, .q5_0: 0.036, .q5_1: 0.036,
                                       .q4_K: 0.076, .q5_K: 0.036, .q6_K: 0.017]
        let rms = (w.reduce(0.0) { $0 + Double($1 * $1) } / Double(w.count)).squareRoot()
        for t in Self.quantized {
            let q = Quantized(t, w)
            let err = (zip(w, q.values).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(w.count)).squareRoot()
            #expect(err / rms <= bounds[t]!, "\(t): relative RMS error \(err / rms)")
        }
    }

    /// Beyond the quantized streaming limit (longer passes than prefill's default), products
    /// dequantize tiles of rows for sgemm: the product of the dequantized weights with the raw f32
    /// activations.
    @Test func longPassesUseDequantizedTiles() {
        let M = MatMul.quantizedStreamingRowLimit + 8, N = 9, K = 256
        let x = MatMulTests.values(M * K, seed: 3)
        for t in Self.quantized {
            let w = Quantized(t, MatMulTests.values(N * K, seed: 4))
            Self.expectProduct(Self.product(t, w.bytes, N: N, K: K, x, M: M, isa: nil), w.values, x, M: M, N: N, K: K, "\(t)")
        }
    }

    /// Expects `y` within 1e-5 of Σ|w·x| of the double-precision product of `w` (N × K) and `x`
    /// (M × K).
    static func expectProduct(_ y: [Float], _ w: [Float], _ x: [Float], M: Int, N: Int, K: Int, _ label: String) {
        for m in 0..<M {
            for n in 0..<N {
                var ref = 0.0, mag = 0.0
                for k in 0..<K {
                    ref += Double(w[n * K + k]) * Double(x[m * K + k])
                    mag += abs(Double(w[n * K + k]) * Double(x[m * K + k]))
                }
                #expect(abs(Double(y[m * N + n]) - ref) <= 1e-5 * max(1, mag), "\(label) (\(m),\(n))")
            }
        }
    }

    /// Prefill-sized passes (above the f32 kernels' streaming limit, within the quantized one)
    /// run the quantized kernel: each prompt row is bitwise the row decode would compute.
    @Test func prefillRowsEqualDecodeRows() {
        // M·K past `MatMul.quantizationParallelValues`: the rows are quantized on both threads.
        let M = MatMul.streamingRowLimit + 8, N = 19, K = 1024
        #expect(M * K >= MatMul.quantizationParallelValues)
        let x = MatMulTests.values(M * K, seed: 5)
        for t in Self.quantized {
            let w = Quantized(t, MatMulTests.values(N * K, seed: 6))
            let all = Self.product(t, w.bytes, N: N, K: K, x, M: M, isa: nil)
            for m in [0, 17, M - 1] {
                let alone = Self.product(t, w.bytes, N: N, K: K, Array(x[(m * K)..<((m + 1) * K)]), M: 1, isa: nil)
                #expect(Array(all[(m * N)..<((m + 1) * N)]) == alone, "\(t) row \(m) of \(M)")
            }
        }
    }
}

/// The row-independence contract of MatMulRowIndependenceTests for every quantized type: a row's
/// result is bitwise the same whether it is multiplied alone (decode) or with others
/// (verification), on every path, through `multiply` and `multiplyMany` (which quantizes the
/// activations once for weights of several types).
@Suite struct QuantizedRowIndependenceTests {
    @Test(arguments: [256, 512 + 256])
    func resultsAreBitwiseIndependentOfM(K: Int) {
        let N = 37, maxM = 13
        let x = MatMulTests.values(maxM * K, seed: 17)
        for t in QuantizedMatMulTests.quantized {
            let w = QuantizedMatMulTests.Quantized(t, MatMulTests.values(N * K, seed: 18))
            func multiply(rows: Range<Int>, isa: InstructionSet?) -> [Float] {
                QuantizedMatMulTests.product(t, w.bytes, N: N, K: K, Array(x[(rows.lowerBound * K)..<(rows.upperBound * K)]),
                                             M: rows.count, isa: isa)
            }
            for isa in [nil, InstructionSet.portable, .avx2, .avx512] where (isa?.rawValue ?? 0) <= InstructionSet.detected.rawValue {
                let all = multiply(rows: 0..<maxM, isa: isa)
                for m in 0..<maxM {
                    #expect(Array(all[(m * N)..<((m + 1) * N)]) == multiply(rows: m..<(m + 1), isa: isa), "\(t) \(String(describing: isa)) K=\(K) row \(m): M=\(maxM) vs M=1")
                }
                for M in [2, 3, 4, 5, 8, 9] {
                    #expect(Array(all[0..<(M * N)]) == multiply(rows: 0..<M, isa: isa), "\(t) \(String(describing: isa)) K=\(K): M=\(maxM) vs M=\(M)")
                }
            }
        }
    }

    /// The portable and AVX2 paths run the same float operations for every (weight row,
    /// activation row) pair, so they agree bitwise (before the 8-row tiles the AVX2 path summed
    /// each pair in 8 lanes and differed in the last bits).
    @Test func portableAndAVX2AgreeBitwise() throws {
        try #require(InstructionSet.detected.rawValue >= InstructionSet.avx2.rawValue, "no AVX2 on this CPU")
        let K = 512 + 256, N = 21, M = 6
        let x = MatMulTests.values(M * K, seed: 19)
        for t in QuantizedMatMulTests.quantized {
            let w = QuantizedMatMulTests.Quantized(t, MatMulTests.values(N * K, seed: 20))
            let portable = QuantizedMatMulTests.product(t, w.bytes, N: N, K: K, x, M: M, isa: .portable)
            #expect(portable == QuantizedMatMulTests.product(t, w.bytes, N: N, K: K, x, M: M, isa: .avx2), "\(t)")
            // The AVX-512 level: the VNNI tiles where the CPU has AVX-512 VNNI (vpdpbusd sums the
            // same products in int32), the AVX2 code on other AVX-512 CPUs.
            if InstructionSet.detected == .avx512 {
                #expect(portable == QuantizedMatMulTests.product(t, w.bytes, N: N, K: K, x, M: M, isa: .avx512), "\(t) (VNNI: \(dg_cpu_has_vnni() != 0))")
            }
        }
    }

    /// Rows of 32-element blocks need not fill the AVX2 kernel's 8-group panels (SmolLM2's 576
    /// columns are 18 groups): a short last panel gives the dequantized product, the portable
    /// path's bits, and the same rows at M = 1 and M = 9.
    @Test(arguments: [96, 352, 576])
    func shortLastPanel(K: Int) {
        let N = 11, M = 9
        let x = MatMulTests.values(M * K, seed: 24)
        for t in QuantizedMatMulTests.quantized where t.blockElements == 32 {
            let w = QuantizedMatMulTests.Quantized(t, MatMulTests.values(N * K, seed: 25))
            let y = QuantizedMatMulTests.product(t, w.bytes, N: N, K: K, x, M: M, isa: nil)
            #expect(y == QuantizedMatMulTests.product(t, w.bytes, N: N, K: K, x, M: M, isa: .portable), "\(t) K=\(K): AVX2 vs portable")
            let alone = QuantizedMatMulTests.product(t, w.bytes, N: N, K: K, Array(x[((M - 1) * K)...]), M: 1, isa: nil)
            #expect(Array(y[((M - 1) * N)...]) == alone, "\(t) K=\(K): row \(M - 1) of \(M) vs alone")
            let (_, xq) = QuantizedMatMulTests.quantizedActivations(x, M: M, K: K)
            QuantizedMatMulTests.expectProduct(y, w.values, xq, M: M, N: N, K: K, "\(t) K=\(K)")
        }
    }

    /// Rows are bitwise the same whichever 8-row tile they land in (a thread's range may start
    /// anywhere) and however many passes the activation rows take (more than the 32 rows whose
    /// accumulators one pass holds).
    @Test func tilesAndPassesDoNotChangeRows() {
        let K = 256, N = 29, M = 40
        let x = MatMulTests.values(M * K, seed: 22)
        let blocks = UnsafeMutablePointer<dg_q8_block>.allocate(capacity: M * K / Int(DG_Q8_BLOCK))
        defer { blocks.deallocate() }
        x.withUnsafeBufferPointer { dg_quantize_activations($0.baseAddress!, M, K, K, blocks) }
        for t in QuantizedMatMulTests.quantized {
            let w = QuantizedMatMulTests.Quantized(t, MatMulTests.values(N * K, seed: 23))
            let tiled = w.bytes.withUnsafeBytes { WeightMatrix(base: $0.baseAddress!, dtype: t, rows: N, columns: K) }
            func rows(_ n: Range<Int>, M: Int, from m0: Int) -> [Float] {
                var y = [Float](repeating: .nan, count: M * N)
                dg_matmul_quant_isa(dg_cpu_isa(), t.rawValue, tiled.base, K, n.lowerBound, n.upperBound,
                                    blocks + m0 * K / Int(DG_Q8_BLOCK), M, &y, N)
                return y
            }
            let all = rows(0..<N, M: M, from: 0)
            let shifted = rows(3..<N, M: M, from: 0)
            for m in 0..<M {
                #expect(Array(all[(m * N + 3)..<((m + 1) * N)]) == Array(shifted[(m * N + 3)..<((m + 1) * N)]), "\(t) row \(m): tiles from 3")
            }
            let last = rows(0..<N, M: 1, from: M - 1)
            #expect(Array(all[((M - 1) * N)..<(M * N)]) == Array(last[0..<N]), "\(t): row \(M - 1) of \(M) vs alone")
        }
    }

    /// The tiled layout is a permutation of the rows' bytes: tiling then untiling gives the rows
    /// back for every type (29 rows: the last tile padded), the padding is zero, and widening a
    /// tiled row gives what dequantizing the row gives.
    @Test func tiledLayoutKeepsEveryByte() {
        let K = 512, N = 29
        for t in QuantizedMatMulTests.quantized {
            let w = QuantizedMatMulTests.Quantized(t, MatMulTests.values(N * K, seed: 26))
            let matrix = w.bytes.withUnsafeBytes { WeightMatrix(base: $0.baseAddress!, dtype: t, rows: N, columns: K) }
            let size = dg_tiled_bytes(t.rawValue, N, K)
            #expect(size == 32 * matrix.rowBytes, "\(t): 29 rows take 4 tiles")
            var back = [UInt8](repeating: 0xAA, count: N * matrix.rowBytes)
            dg_untile_rows(t.rawValue, matrix.base, K, 0, N, &back)
            #expect(back == w.bytes, "\(t): untiled rows")
            var padding = [UInt8](repeating: 0xAA, count: 3 * matrix.rowBytes)
            dg_untile_rows(t.rawValue, matrix.base, K, N, 3, &padding)
            #expect(padding.allSatisfy { $0 == 0 }, "\(t): padding rows")
            var widened = [Float](repeating: .nan, count: 5 * K)
            matrix.widen(rows: 20..<25, into: &widened)
            #expect(widened == Array(w.values[(20 * K)..<(25 * K)]), "\(t): widened rows 20..<25")
        }
    }

    /// `multiplyMany` over weights of different types (q4_K beside q6_K and f32, as a Q4_K_M layer
    /// mixes them) gives each product bitwise what `multiply` gives it alone.
    @Test func multiplyManyMatchesSeparateProducts() {
        let K = 512, M = 5
        let x = MatMulTests.values(M * K, seed: 21)
        let types: [(DType, Int)] = [(.q4_K, 12), (.q6_K, 8), (.f32, 4), (.q8_0, 16)]
        let stored = types.enumerated().map { i, tn in
            tn.0 == .f32 ? MatMulTests.values(tn.1 * K, seed: 30).withUnsafeBytes { Array($0) }
                         : QuantizedMatMulTests.Quantized(tn.0, MatMulTests.values(tn.1 * K, seed: UInt64(30 + i))).bytes
        }
        var together = types.map { [Float](repeating: .nan, count: M * $0.1) }
        let pool = ComputePool(threadCount: 2)
        x.withUnsafeBufferPointer { xp in
            let pointers = stored.map { b in b.withUnsafeBytes { raw in
                let copy = UnsafeMutableRawPointer.allocate(byteCount: b.count, alignment: 64)
                copy.copyMemory(from: raw.baseAddress!, byteCount: b.count)
                return copy
            } }
            defer { pointers.forEach { $0.deallocate() } }
            let outputs = together.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: M * 16) }
            defer { outputs.forEach { $0.deallocate() } }
            let weights = types.indices.map { WeightMatrix(base: pointers[$0], dtype: types[$0].0, rows: types[$0].1, columns: K) }
            MatMul.multiplyMany(xp.baseAddress!, rows: M, ldx: K, weights.indices.map { (weights[$0], outputs[$0], types[$0].1) }, pool: pool,
                              activations: .q8)
            for i in types.indices { together[i] = Array(UnsafeBufferPointer(start: outputs[i], count: M * types[i].1)) }
        }
        for (i, (t, n)) in types.enumerated() {
            let alone = QuantizedMatMulTests.product(t, stored[i], N: n, K: K, x, M: M, isa: nil)
            #expect(together[i] == alone, "\(t)")
        }
    }
}

/// Against the `gguf` Python package (llama.cpp's own Python reading of the formats):
/// Tests/Fixtures/quant/gguf_blocks.json, written by tools/oracle/make_quant_fixtures.py.
@Suite struct QuantizedGGUFOracleTests {
    struct Entry: Decodable {
        var ggml_type: UInt32
        var blocks: String
        var values: [Double]
        var inputs: [Double]?
        var quantized: String?
    }

    static let entries: [String: Entry] = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        let file = url.appendingPathComponent("Fixtures/quant/gguf_blocks.json")
        struct Root: Decodable { var types: [String: Entry] }
        guard let data = try? Data(contentsOf: file), let root = try? JSONDecoder().decode(Root.self, from: data) else { return [:] }
        return root.types
    }()

    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
    }

    @Test(arguments: QuantizedMatMulTests.quantized)
    func dequantizationMatchesGGUF(_ t: DType) throws {
        let entry = try #require(Self.entries[t.description], "no fixture for \(t)")
        #expect(DType(ggmlType: entry.ggml_type) == t)
        let values = QuantizedMatMulTests.dequantized(t, Self.bytes(entry.blocks), count: entry.values.count)
        #expect(values == entry.values.map { Float($0) }, "\(t)")
    }

    /// Q8_0 … Q5_1: the reference quantizer writes the bytes ggml's quantize_row_*_ref writes.
    @Test(arguments: QuantizedMatMulTests.quantized.filter { $0.blockElements == 32 })
    func quantizationMatchesGGUF(_ t: DType) throws {
        let entry = try #require(Self.entries[t.description])
        let inputs = try #require(entry.inputs).map { Float($0) }
        #expect(QuantizedMatMulTests.Quantized(t, inputs).bytes == Self.bytes(try #require(entry.quantized)), "\(t)")
    }
}

/// The `f32` activation mode on quantized weights: the products of the dequantized weights with
/// the f32 activations, exactly the f32 weights' own results (transformers' reading of a GGUF).
@Suite struct QuantizedExactModeTests {
    static func product(_ w: WeightMatrix, _ x: [Float], M: Int, activations: ActivationPrecision) -> [Float] {
        var y = [Float](repeating: .nan, count: M * w.rows)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                MatMul.multiply(xp.baseAddress!, rows: M, ldx: w.columns, by: w, into: yp.baseAddress!, ldy: w.rows,
                                pool: ComputePool(threadCount: 2), activations: activations)
            }
        }
        return y
    }

    @Test(arguments: [1, 5, MatMul.streamingRowLimit])
    func smallBatchesEqualTheDequantizedWeightsBitwise(M: Int) {
        let N = 37, K = 512
        let x = MatMulTests.values(M * K, seed: 21)
        for t in QuantizedMatMulTests.quantized {
            let q = QuantizedMatMulTests.Quantized(t, MatMulTests.values(N * K, seed: 22))
            let exact = q.bytes.withUnsafeBytes { raw in
                Self.product(WeightMatrix(base: raw.baseAddress!, dtype: t, rows: N, columns: K), x, M: M, activations: .f32)
            }
            let reference = q.values.withUnsafeBytes { raw in
                Self.product(WeightMatrix(base: raw.baseAddress!, dtype: .f32, rows: N, columns: K), x, M: M, activations: .f32)
            }
            #expect(exact == reference, "\(t) M = \(M)")
            let integer = q.bytes.withUnsafeBytes { raw in
                Self.product(WeightMatrix(base: raw.baseAddress!, dtype: t, rows: N, columns: K), x, M: M, activations: .q8)
            }
            #expect(integer != exact, "\(t): q8 activations are the integer path, not the exact one")
        }
    }

    /// Prefill-sized passes in f32 mode go through dequantized tiles and sgemm: the double
    /// product of the dequantized weights within f32 rounding.
    @Test func prefillPassesAreExactToo() {
        let M = MatMul.streamingRowLimit + 9, N = 21, K = 256
        let x = MatMulTests.values(M * K, seed: 23)
        for t in QuantizedMatMulTests.quantized {
            let q = QuantizedMatMulTests.Quantized(t, MatMulTests.values(N * K, seed: 24))
            let y = q.bytes.withUnsafeBytes { raw in
                Self.product(WeightMatrix(base: raw.baseAddress!, dtype: t, rows: N, columns: K), x, M: M, activations: .f32)
            }
            QuantizedMatMulTests.expectProduct(y, q.values, x, M: M, N: N, K: K, "\(t)")
        }
    }

    @Test func autoResolvesToQ8ForQuantizedWeights() {
        for t in QuantizedMatMulTests.quantized {
            #expect(ActivationPrecision.auto.resolved(for: t) == .q8)
            #expect(ActivationPrecision.f32.quantizes(t) == false && ActivationPrecision.q8.quantizes(t) && ActivationPrecision.bf16.quantizes(t))
        }
        #expect(ActivationPrecision.q8.quantizes(.bf16) == false && ActivationPrecision.q8.rounds(.bf16) == false)
    }
}
