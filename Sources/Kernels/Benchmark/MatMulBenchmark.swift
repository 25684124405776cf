import Dispatch

/// `decograph bench kernels`: the matrix kernel's weight-streaming rate for M = 1…32 activation
/// rows, as a fraction of the probed memory bandwidth. Each kernel pass alternates with a probe
/// pass over a buffer of the same size, and the medians are compared, so load changes on the
/// machine hit both alike.
public enum MatMulBenchmark {
    /// Activation rows measured: decode (1) up to a wide verification batch (32).
    public static let rowCounts = [1, 2, 4, 8, 16, 32]
    /// Weight rows are rounded down to a multiple of this (whole kernel tiles).
    static let rowMultiple = 64
    /// The weight matrix's bytes: 0x3C is 1.06 as f16 or bf16 (and as the f16 scales of quantized
    /// blocks), finite in every dtype.
    static let weightByte: UInt8 = 0x3C
    /// Every activation value: small, so products stay finite.
    static let activationValue: Float = 0.01

    /// One row count's figures.
    public struct Row: Sendable {
        /// Activation rows M.
        public var rows: Int
        /// Median weight bytes streamed per second.
        public var bytesPerSecond: Double
        /// `bytesPerSecond` over the probe's median rate.
        public var fractionOfProbe: Double
        /// Median time over M = 1's.
        public var costVersusOne: Double
    }

    /// The figures of a run.
    public struct Report: Sendable {
        /// Weight rows N (output features).
        public var outputFeatures: Int
        /// Bytes of the weight matrix (packed bytes for block-quantized types).
        public var matrixBytes: Int
        /// Median probe rate, bytes per second.
        public var probeBytesPerSecond: Double
        /// One entry per row count of `rowCounts`.
        public var rows: [Row]
        /// The probe's checksum (printed so its reads cannot be optimised away).
        public var checksum: UInt64
    }

    /// Runs the benchmark.
    /// - Parameters:
    ///   - dtype: weight precision.
    ///   - activations: what products read (resolved for `dtype`).
    ///   - pool: the threads.
    ///   - megabytes: the weight matrix's size in MB (10⁶ bytes).
    ///   - columns: input features K; whole blocks of `dtype`.
    ///   - repeats: interleaved repetitions.
    ///   - progress: a line per repetition.
    /// - Returns: the figures.
    public static func run(dtype: DType, activations: ActivationPrecision, pool: ComputePool, megabytes: Int, columns K: Int,
                           repeats: Int, progress: (String) -> Void = { _ in }) -> Report {
        let rowBytes = dtype.byteCount(elements: K)
        let N = megabytes * 1_000_000 / rowBytes / rowMultiple * rowMultiple
        let weights = UnsafeMutableRawPointer.allocate(byteCount: N * rowBytes, alignment: 64)
        defer { weights.deallocate() }
        weights.initializeMemory(as: UInt8.self, repeating: weightByte, count: N * rowBytes)
        let w = WeightMatrix(base: UnsafeRawPointer(weights), dtype: dtype, rows: N, columns: K)
        let probe = MemoryBandwidth.Probe(bytes: w.byteCount)
        let maxRows = rowCounts.max()!
        let x = [Float](repeating: activationValue, count: maxRows * K)
        var y = [Float](repeating: 0, count: maxRows * N)
        var probeRates: [Double] = [], kernelSeconds: [Int: [Double]] = [:]
        for r in 0..<repeats {
            progress("repeat \(r + 1)/\(repeats)")
            for M in rowCounts {
                probeRates.append(probe.pass(pool: pool))
                let start = DispatchTime.now().uptimeNanoseconds
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        MatMul.multiply(xp.baseAddress!, rows: M, ldx: K, by: w, into: yp.baseAddress!, ldy: N, pool: pool,
                                        activations: activations)
                    }
                }
                kernelSeconds[M, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
        }
        func median(_ v: [Double]) -> Double { let s = v.sorted(); return s[s.count / 2] }
        let bandwidth = median(probeRates)
        let one = median(kernelSeconds[1]!)
        let rows = rowCounts.map { M in
            let t = median(kernelSeconds[M]!)
            let rate = Double(w.byteCount) / t
            return Row(rows: M, bytesPerSecond: rate, fractionOfProbe: rate / bandwidth, costVersusOne: t / one)
        }
        return Report(outputFeatures: N, matrixBytes: w.byteCount, probeBytesPerSecond: bandwidth, rows: rows,
                      checksum: probe.checksum)
    }
}
