import CKernels

/// Row-wise numeric kernels over f32 buffers: normalisation, activations, reductions.
/// 16-wide SIMD with several accumulators where a reduction is long.
public enum Vector {
    /// Dot product of two f32 vectors.
    /// - Parameters:
    ///   - a: first vector.
    ///   - b: second vector.
    ///   - count: length.
    /// - Returns: Σ a[i]·b[i].
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i + 32 <= count {
            s0 += ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            s1 += ra.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
                * rb.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
            i += 32
        }
        var s = (s0 + s1).sum()
        while i < count {
            s += a[i] * b[i]
            i += 1
        }
        return s
    }

    /// `y += a · x`.
    /// - Parameters:
    ///   - a: scale.
    ///   - x: input vector.
    ///   - y: accumulated vector.
    ///   - count: length.
    @inline(__always)
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        let va = SIMD16<Float>(repeating: a)
        while i + 16 <= count {
            let v = ry.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                + va * rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            y[i] += a * x[i]
            i += 1
        }
    }

    /// `y[i] += x[i]`.
    /// - Parameters:
    ///   - x: addend.
    ///   - y: accumulated vector.
    ///   - count: length.
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        axpy(1, x, y, count: count)
    }

    /// `y[i] = e^x[i]`, within 2 ulp of `expf` (16-wide where the CPU has it); `-inf` gives 0.
    /// - Parameters:
    ///   - x: exponents.
    ///   - y: results (may alias `x`).
    ///   - count: length.
    public static func exp(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        dg_exp(x, y, count)
    }

    /// RMSNorm (Zhang & Sennrich 2019) as Llama uses it: `y = w ⊙ x / sqrt(mean(x²) + ε)`.
    /// - Parameters:
    ///   - x: input row.
    ///   - weight: per-feature gain (f32).
    ///   - epsilon: added to the mean square (`rms_norm_eps`).
    ///   - y: output row (may alias `x`).
    ///   - count: features.
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, epsilon: Float,
                               into y: UnsafeMutablePointer<Float>, count: Int) {
        let meanSquare = dot(x, x, count: count) / Float(count)
        let scale = 1 / (meanSquare + epsilon).squareRoot()
        for i in 0..<count { y[i] = weight[i] * (x[i] * scale) }
    }

    /// SwiGLU gate: `gate[i] = silu(gate[i]) · up[i]` with `silu(z) = z / (1 + e^{-z})`; in C
    /// (`dg_silu_mul`, AVX-512 / AVX2 / portable) because Swift's SIMD compares and selects run
    /// lane by lane on this target.
    /// - Parameters:
    ///   - gate: gate projections, overwritten with the result.
    ///   - up: up projections.
    ///   - count: length.
    public static func siluMultiply(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        dg_silu_mul(gate, up, count)
    }

    /// Index of the largest value (the first on ties, as `torch.argmax`).
    /// - Parameters:
    ///   - x: the row.
    ///   - count: length (> 0).
    /// - Returns: the index.
    public static func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        for i in 1..<max(count, 1) where x[i] > x[best] { best = i }
        return best
    }
}
