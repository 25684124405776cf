#if canImport(Glibc)
import Glibc
#endif

/// Row-wise numeric kernels over f32 buffers: normalisation, activations, softmax, reductions.
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

    /// SwiGLU gate: `gate[i] = silu(gate[i]) · up[i]` with `silu(z) = z / (1 + e^{-z})`.
    /// - Parameters:
    ///   - gate: gate projections, overwritten with the result.
    ///   - up: up projections.
    ///   - count: length.
    public static func siluMultiply(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
        var i = 0
        let rg = UnsafeMutableRawPointer(gate), ru = UnsafeRawPointer(up)
        let one = SIMD16<Float>(repeating: 1)
        while i + 16 <= count {
            let z = rg.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            let u = ru.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            rg.storeBytes(of: z / (one + exp(-z)) * u, toByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            let z = gate[i]
            gate[i] = z / (1 + expf(-z)) * up[i]
            i += 1
        }
    }

    /// e^x for 16 lanes, within 2 ulp of `expf` over the float range (Cody–Waite reduction
    /// x = n·ln2 + r with |r| ≤ ln2/2, degree-7 Taylor polynomial for e^r — truncation error
    /// |r|⁸/8! < 3e-8 relative — and 2ⁿ applied as two powers of two built from exponent bits,
    /// so n = 128 and subnormal results are right). Inputs above 88.7 give +∞, below −103.9 give 0.
    /// - Parameter x: the arguments.
    /// - Returns: e^x per lane.
    @inline(__always)
    public static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let lo = SIMD16<Float>(repeating: -103.97208), hi = SIMD16<Float>(repeating: 88.72283)
        let overflow = x .> hi, underflow = x .< lo
        let xc = x.clamped(lowerBound: lo, upperBound: hi)
        // Round to nearest by adding 1.5·2²³: the integer lands in the low mantissa bits. (The
        // generic `rounded()` and `SIMD16<Int32>(_:)` are per-lane library calls, not vector code.)
        let magic = SIMD16<Float>(repeating: 12_582_912)
        let shifted = xc * 1.442695041 + magic
        let n = shifted - magic
        // ln 2 split so n·ln2High is exact in float.
        let r = (xc - n * 0.693359375) - n * -2.12194440e-4
        var p = SIMD16<Float>(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // 2ⁿ = 2^(n/2) · 2^(n − n/2), each factor a normal float for n in [-150, 128].
        let ni = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let half = ni &>> 1
        let a = unsafeBitCast((half &+ 127) &<< 23, to: SIMD16<Float>.self)
        let b = unsafeBitCast((ni &- half &+ 127) &<< 23, to: SIMD16<Float>.self)
        var result = (p * a) * b
        result.replace(with: .infinity, where: overflow)
        result.replace(with: 0, where: underflow)
        return result
    }

    /// In-place softmax of a row; returns the log of the normaliser (log Σ e^{x - max} + max).
    /// - Parameters:
    ///   - x: the row.
    ///   - count: length.
    /// - Returns: log-sum-exp of the input row.
    @discardableResult
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) -> Float {
        var m = -Float.infinity
        for i in 0..<count where x[i] > m { m = x[i] }
        if m == -.infinity { return m }
        var sum: Float = 0
        for i in 0..<count {
            let e = expf(x[i] - m)
            x[i] = e
            sum += e
        }
        let inv = 1 / sum
        for i in 0..<count { x[i] *= inv }
        return logf(sum) + m
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
