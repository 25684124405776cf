import CBLAS
import CKernels

/// `Y = X · Wᵀ` for activations `X [M, K]` (f32) and a weight matrix `W [N, K]` in its stored
/// precision, parallel over the compute pool by output rows.
///
/// Two paths, chosen by `M`:
/// - small batches (decode, speculative verification) stream each weight row once for all rows of
///   `X` through the C kernel `dg_matmul_wt_isa` (f32 accumulation, weights widened in registers),
///   or `dg_matmul_bf16x_isa` for bf16 weights in the `bf16` activation mode, or for
///   block-quantized weights `dg_matmul_quant_isa` (integer dot products over the packed blocks
///   with the activations quantized to int8 blocks once per call);
/// - larger batches (prefill) call OpenBLAS `sgemm` per thread on disjoint row slices, widening
///   bf16/f16 weights (or dequantizing quantized ones, above `quantizedStreamingRowLimit`) slice
///   by slice into a per-thread f32 scratch tile — except quantized weights and, with AVX-512
///   BF16, bf16 weights in the `bf16` mode, which stay on the small-batch kernels up to 512 rows.
public enum MatMul {
    /// Largest `M` sent to the streaming kernel for f32/f16/bf16 weights. Above it, OpenBLAS's
    /// blocked GEMM wins because the streaming kernel becomes compute bound (it re-reads each
    /// weight row from L1/L2 per 4 activation rows). Chosen with `decograph bench runtime`
    /// (verify-k rows): see docs/ARCHITECTURE.md.
    public static let streamingRowLimit = 32

    /// Largest `M` sent to the quantized streaming kernel (block-quantized weights). Its integer
    /// dot products on 8-row tiles beat dequantizing 64-row tiles for `sgemm` at every M up to a
    /// prefill pass (`Model.defaultPassTokens`, 512): one thread, 512 × 2048 weights, 2.1–4.6×
    /// faster at M = 16–64 and 1.07–1.33× at M = 512 (docs/measurements.md, "Quantized
    /// verification: 8-row tiles"). Prompt rows then go through the same kernel as decode rows.
    public static let quantizedStreamingRowLimit = 512

    /// Activation values (rows × columns) from which a quantized product's activation rows are
    /// quantized on the pool's threads rather than the calling thread: ~10 µs of one core (0.3 ns
    /// a value with AVX2), where a parallel region costs 1–3 µs. Decode and verification rows
    /// stay on the calling thread; a prompt's are split.
    public static let quantizationParallelValues = 1 << 15

    /// Most rows a product over `weight` may have while each row's result is bitwise the same
    /// whatever other rows share the call (the streaming kernels; above it OpenBLAS's blocking
    /// makes a row's last bits depend on the others).
    /// - Parameters:
    ///   - weight: the weight type.
    ///   - activations: the activation mode.
    /// - Returns: the row count.
    public static func rowIndependentLimit(_ weight: DType, activations: ActivationPrecision) -> Int {
        streamingLimit(weight, activations)
    }

    /// Largest `M` sent to the bf16 dot-product kernel (bf16 weights, activations rounded to bf16,
    /// a CPU with AVX-512 BF16): its 4 × 4 tiles of `vdpbf16ps` do twice the multiply-adds per
    /// instruction of OpenBLAS's f32 `sgemm` over widened weights, so a whole prefill pass goes
    /// through it (docs/measurements.md, "bf16 prefill through the dot-product kernel").
    public static let bf16DotRowLimit = 512

    /// The streaming limit of a product with `weight` in mode `activations`.
    @inline(__always)
    static func streamingLimit(_ weight: DType, _ activations: ActivationPrecision) -> Int {
        if activations.quantizes(weight) { return quantizedStreamingRowLimit }
        if activations.rounds(weight) && ActivationPrecision.hasBF16DotProducts { return bf16DotRowLimit }
        return streamingRowLimit
    }

    /// Weight rows widened per scratch tile on the BLAS path: 64 rows × K f32 stays within L2
    /// for K ≤ 8192 (2 MiB).
    static let blasTileRows = 64

    /// Computes `y[m * ldy + n] = Σ_k x[m * ldx + k] · W[n, k]` for `m < M`, `n < W.rows`.
    /// - Parameters:
    ///   - x: activations, `M` rows of `W.columns` values with stride `ldx`.
    ///   - M: number of activation rows.
    ///   - ldx: row stride of `x` in elements.
    ///   - weight: the weight matrix.
    ///   - y: output, `M` rows of `W.rows` values with stride `ldy`.
    ///   - ldy: row stride of `y` in elements.
    ///   - pool: the threads to use.
    ///   - activations: what a product with a bf16 weight reads (`ActivationPrecision`).
    public static func multiply(_ x: UnsafePointer<Float>, rows M: Int, ldx: Int, by weight: WeightMatrix,
                                into y: UnsafeMutablePointer<Float>, ldy: Int, pool: ComputePool = .shared,
                                activations: ActivationPrecision = .f32) {
        if M == 0 || weight.rows == 0 { return }
        let quantized = activations.quantizes(weight.dtype)
        if M <= streamingLimit(weight.dtype, activations) {
            QuantizedActivations.ifNeeded(quantized, x, rows: M, ldx: ldx, columns: weight.columns, pool: pool) { xq in
                pool.parallelFor(count: weight.rows, alignment: tileRows(quantized), work: M * weight.rows * weight.columns) { r in
                    streaming(weight, r, x, M, ldx, y, ldy, activations, xq)
                }
            }
        } else if activations.rounds(weight.dtype) {
            // Prefill reads the same rounded activations as the streaming path.
            let K = weight.columns
            let rounded = UnsafeMutablePointer<Float>.allocate(capacity: M * K)
            defer { rounded.deallocate() }
            pool.parallelFor(count: M) { r in
                dg_round_to_bf16(x + r.lowerBound * ldx, r.count, ldx, K, rounded + r.lowerBound * K, K)
            }
            pool.parallelFor(count: weight.rows, alignment: blasTileRows) { r in
                blas(rounded, rows: M, ldx: K, weight: weight, outputRows: r, y: y, ldy: ldy)
            }
        } else {
            pool.parallelFor(count: weight.rows, alignment: blasTileRows) { r in
                blas(x, rows: M, ldx: ldx, weight: weight, outputRows: r, y: y, ldy: ldy)
            }
        }
    }

    /// Rows `r` of one small-batch product on the calling thread (the best instruction set unless
    /// one is given).
    /// `xq`: the activations quantized (`QuantizedActivations`) when `weight` is quantized.
    @inline(__always)
    private static func streaming(_ weight: WeightMatrix, _ r: Range<Int>, _ x: UnsafePointer<Float>, _ M: Int,
                                  _ ldx: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int,
                                  _ activations: ActivationPrecision, _ xq: UnsafePointer<dg_q8_block>?,
                                  isa: Int32 = dg_cpu_isa()) {
        if weight.dtype.isQuantized, let xq {
            dg_matmul_quant_isa(isa, weight.dtype.rawValue, weight.base, weight.columns, r.lowerBound, r.upperBound,
                                xq, M, y, ldy)
        } else if weight.dtype.isQuantized {
            exactQuantized(weight, r, x, M, ldx, y, ldy, isa: isa)
        } else if activations.rounds(weight.dtype) {
            dg_matmul_bf16x_isa(isa, weight.base.assumingMemoryBound(to: UInt16.self), weight.columns, r.lowerBound,
                                r.upperBound, x, M, ldx, y, ldy)
        } else {
            dg_matmul_wt_isa(isa, weight.dtype.rawValue, weight.base, weight.columns, r.lowerBound, r.upperBound,
                             x, M, ldx, y, ldy)
        }
    }

    /// Rows `r` of a product with block-quantized weights and f32 activations (the `f32` mode):
    /// each tile of rows dequantized exactly into f32 and multiplied by the f32 streaming kernel,
    /// so a row's result is the f32 weights' result, the same whatever `M` is.
    private static func exactQuantized(_ weight: WeightMatrix, _ r: Range<Int>, _ x: UnsafePointer<Float>, _ M: Int,
                                       _ ldx: Int, _ y: UnsafeMutablePointer<Float>, _ ldy: Int, isa: Int32) {
        forEachWidenedTile(weight, rows: r, tileRows: tileRows(false)) { tile, n, count in
            dg_matmul_wt_isa(isa, DType.f32.rawValue, tile, weight.columns, 0, count, x, M, ldx, y + n, ldy)
        }
    }

    /// Widens rows `r` of `weight` to f32, `tileRows` at a time, into one scratch tile, and hands
    /// each tile with its first row and row count to `body`.
    private static func forEachWidenedTile(_ weight: WeightMatrix, rows r: Range<Int>, tileRows: Int,
                                           _ body: (UnsafePointer<Float>, Int, Int) -> Void) {
        let K = weight.columns
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * K)
        defer { tile.deallocate() }
        var n = r.lowerBound
        while n < r.upperBound {
            let count = min(tileRows, r.upperBound - n)
            weight.widen(rows: n..<(n + count), into: tile)
            body(tile, n, count)
            n += count
        }
    }

    /// The small-batch kernel on the calling thread with an explicit instruction set (clamped to
    /// what the CPU has; `multiply` always uses the best) — for comparing the paths while other
    /// threads multiply.
    /// - Parameters:
    ///   - x: activations, `M` rows with stride `ldx`.
    ///   - M: number of activation rows.
    ///   - ldx: row stride of `x`.
    ///   - weight: the weight matrix.
    ///   - y: output rows with stride `ldy`.
    ///   - ldy: row stride of `y`.
    ///   - instructionSet: the kernel path.
    ///   - activations: what a product with a bf16 weight reads.
    public static func multiplyOnCallingThread(_ x: UnsafePointer<Float>, rows M: Int, ldx: Int, by weight: WeightMatrix,
                                               into y: UnsafeMutablePointer<Float>, ldy: Int,
                                               instructionSet: InstructionSet,
                                               activations: ActivationPrecision = .f32) {
        QuantizedActivations.ifNeeded(activations.quantizes(weight.dtype), x, rows: M, ldx: ldx, columns: weight.columns) { xq in
            streaming(weight, 0..<weight.rows, x, M, ldx, y, ldy, activations, xq, isa: instructionSet.rawValue)
        }
    }

    /// Several products of the same activations in one parallel region (q/k/v, gate/up): the
    /// rows of all weights are split across threads together, halving synchronisation per layer.
    /// - Parameters:
    ///   - x: activations, `M` rows with stride `ldx`.
    ///   - M: number of activation rows.
    ///   - ldx: row stride of `x`.
    ///   - products: (weight, output, output row stride) triples; all weights have `columns` = K.
    ///   - pool: the threads to use.
    ///   - activations: what a product with a bf16 weight reads.
    public static func multiplyMany(_ x: UnsafePointer<Float>, rows M: Int, ldx: Int,
                                    _ products: [(WeightMatrix, UnsafeMutablePointer<Float>, Int)],
                                    pool: ComputePool = .shared, activations: ActivationPrecision = .f32) {
        if M > products.map({ streamingLimit($0.0.dtype, activations) }).min() ?? streamingRowLimit {
            for (w, y, ldy) in products {
                multiply(x, rows: M, ldx: ldx, by: w, into: y, ldy: ldy, pool: pool, activations: activations)
            }
            return
        }
        // Every weight's row count is a multiple of 8 in practice; splitting the concatenated row
        // space at multiples of the tile keeps the kernels on whole tiles.
        let total = products.reduce(0) { $0 + $1.0.rows }
        guard let K = products.first?.0.columns else { return }
        let quantized = products.contains { activations.quantizes($0.0.dtype) }
        // One quantization of the activations serves every quantized weight (they may differ in
        // type: Q4_K_M files mix q4_K and q6_K in a layer).
        QuantizedActivations.ifNeeded(quantized, x, rows: M, ldx: ldx, columns: K, pool: pool) { xq in
            pool.parallelFor(count: total, alignment: tileRows(quantized), work: M * products.reduce(0) { $0 + $1.0.rows * $1.0.columns }) { r in
                var start = 0
                for (w, y, ldy) in products {
                    let lo = max(r.lowerBound, start), hi = min(r.upperBound, start + w.rows)
                    if lo < hi { streaming(w, (lo - start)..<(hi - start), x, M, ldx, y, ldy, activations, xq) }
                    start += w.rows
                }
            }
        }
    }

    /// Weight rows per tile of the streaming kernels: 4 for f32/f16/bf16 weights, 8 for the
    /// quantized kernel (`DG_QUANT_TILE_ROWS`, one weight row per int32 lane). A thread's rows
    /// start at multiples of it so that no tile is split between threads (a split tile is still
    /// exact, only slower).
    @inline(__always)
    static func tileRows(_ quantized: Bool) -> Int { quantized ? Int(DG_QUANT_TILE_ROWS) : 4 }

    private static func blas(_ x: UnsafePointer<Float>, rows M: Int, ldx: Int, weight: WeightMatrix,
                             outputRows: Range<Int>, y: UnsafeMutablePointer<Float>, ldy: Int) {
        BLASThreads.pinToOne()
        let K = weight.columns
        if weight.dtype == .f32 {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(M), blasint(outputRows.count), blasint(K),
                        1, x, blasint(ldx), weight.row(outputRows.lowerBound).assumingMemoryBound(to: Float.self),
                        blasint(K), 0, y + outputRows.lowerBound, blasint(ldy))
            return
        }
        forEachWidenedTile(weight, rows: outputRows, tileRows: blasTileRows) { tile, n, count in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(M), blasint(count), blasint(K),
                        1, x, blasint(ldx), tile, blasint(K), 0, y + n, blasint(ldy))
        }
    }
}

/// The activation rows of one small-batch product quantized to int8 blocks of 32
/// (`dg_q8_block`), once per call, for the quantized-weight kernel.
enum QuantizedActivations {
    /// Runs `body` with `x` quantized when `needed` (some weight of the call is quantized), else
    /// with `nil`.
    /// Quantization is per row and the same whatever `M` is, so rows stay independent.
    /// - Parameters:
    ///   - needed: whether a weight the activations will multiply is quantized.
    ///   - x: activations, `M` rows of `K` values with stride `ldx`.
    ///   - M: rows.
    ///   - ldx: row stride.
    ///   - K: values per row (a multiple of 32, as every quantized row is).
    ///   - pool: threads that share the rows when there are enough values (a prompt's rows);
    ///     `nil` quantizes on the calling thread.
    ///   - body: the products.
    @inline(__always)
    static func ifNeeded(_ needed: Bool, _ x: UnsafePointer<Float>, rows M: Int, ldx: Int, columns K: Int,
                         pool: ComputePool? = nil, _ body: (UnsafePointer<dg_q8_block>?) -> Void) {
        guard needed else { return body(nil) }
        let nb = K / Int(DG_Q8_BLOCK)
        let blocks = UnsafeMutablePointer<dg_q8_block>.allocate(capacity: M * nb)
        defer { blocks.deallocate() }
        if let pool, M > 1, M * K >= MatMul.quantizationParallelValues {
            pool.parallelFor(count: M) { r in
                dg_quantize_activations(x + r.lowerBound * ldx, r.count, ldx, K, blocks + r.lowerBound * nb)
            }
        } else {
            dg_quantize_activations(x, M, ldx, K, blocks)
        }
        body(blocks)
    }
}

/// Keeps OpenBLAS single-threaded: parallelism comes from `ComputePool` (see its documentation).
public enum BLASThreads {
    private static let pinned: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// Sets OpenBLAS to one thread (once per process).
    public static func pinToOne() { _ = pinned }

    /// OpenBLAS's name for the kernel family it selected (`Haswell`, `SkylakeX`, …).
    public static var coreName: String { String(cString: openblas_get_corename()) }
}
