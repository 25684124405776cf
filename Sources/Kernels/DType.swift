import CKernels

/// Storage precision of a tensor. Raw values match the C kernels' `dg_dtype`.
public enum DType: Int32, Sendable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case bf16 = 2

    /// Bytes per element.
    public var size: Int { self == .f32 ? 4 : 2 }

    /// The safetensors spelling (`F32`, `F16`, `BF16`).
    public var safetensorsName: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        }
    }

    /// Parses a safetensors dtype name.
    /// - Parameter name: `F32`, `F16` or `BF16`.
    /// - Returns: the dtype, or `nil` for others (integer and f64 tensors are not weights we run).
    public init?(safetensorsName name: String) {
        switch name {
        case "F32": self = .f32
        case "F16": self = .f16
        case "BF16": self = .bf16
        default: return nil
        }
    }

    public var description: String { safetensorsName.lowercased() }
}

/// Widens `count` elements of `dtype` at `source` into f32 (exact for f16 and bf16).
/// - Parameters:
///   - dtype: the stored precision.
///   - source: the stored elements.
///   - destination: where the f32 values go.
///   - count: number of elements.
@inlinable
public func convertToF32(_ dtype: DType, _ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, count: Int) {
    dg_to_f32(dtype.rawValue, source, destination, count)
}

/// Narrows f32 values to bf16 or f16, rounding to nearest even.
/// - Parameters:
///   - source: f32 values.
///   - dtype: `.bf16` or `.f16` (`.f32` copies).
///   - destination: room for `count` elements of `dtype`.
///   - count: number of elements.
public func convertFromF32(_ source: UnsafePointer<Float>, to dtype: DType, _ destination: UnsafeMutableRawPointer, count: Int) {
    switch dtype {
    case .f32: destination.copyMemory(from: source, byteCount: count * 4)
    case .bf16: dg_f32_to_bf16(source, destination.assumingMemoryBound(to: UInt16.self), count)
    case .f16: dg_f32_to_f16(source, destination.assumingMemoryBound(to: UInt16.self), count)
    }
}

/// The instruction-set level the C kernels use.
public enum InstructionSet: Int32, Sendable, CustomStringConvertible {
    case portable = 0
    case avx2 = 1
    case avx512 = 2

    /// The best level this CPU supports.
    public static var detected: InstructionSet { InstructionSet(rawValue: dg_cpu_isa()) ?? .portable }

    public var description: String {
        switch self {
        case .portable: "portable"
        case .avx2: "avx2"
        case .avx512: "avx512"
        }
    }
}

/// What the small-batch products read as activations when weights are stored in bf16.
///
/// - `f32`: activations stay f32 and weights are widened exactly: the transformers parity
///   contract (≤ 1e-4 relative) holds for every weight precision.
/// - `bf16`: activations are rounded to bf16 (nearest even) before every product with a bf16
///   weight — llama.cpp's convention for bf16 tensors, and closer to f32 than transformers'
///   own bf16 inference, whose residual stream, norms and attention are bf16 too; here only the
///   matrix inputs are rounded and everything accumulates in f32. On CPUs with AVX-512 BF16 the
///   products run as `vdpbf16ps`, twice the multiply-adds per instruction of the f32 path, which
///   is what verifying several drafted tokens is bound by. f16 and f32 weights are unaffected.
/// - `auto` (the default a model is loaded with): `bf16` where it pays — bf16 weights on a CPU
///   with AVX-512 BF16 — and `f32` otherwise (`resolved(for:)`).
public enum ActivationPrecision: String, Sendable, CaseIterable, CustomStringConvertible {
    case auto
    case f32
    case bf16

    public var description: String { rawValue }

    /// The mode a model with `weights` runs in: `self`, or for `auto` the rule above.
    /// - Parameter weights: the precision most of the model's weights are stored in.
    /// - Returns: `f32` or `bf16`.
    public func resolved(for weights: DType) -> ActivationPrecision {
        guard self == .auto else { return self }
        return weights == .bf16 && Self.hasBF16DotProducts ? .bf16 : .f32
    }

    /// Whether a product with weights stored as `weights` rounds its activations in this mode: only
    /// `bf16` with bf16 weights does.
    /// - Parameter weights: the weights' precision.
    /// - Returns: `true` for the rounded (bf16 dot-product) products.
    public func rounds(_ weights: DType) -> Bool { self == .bf16 && weights == .bf16 }

    /// Whether this CPU has AVX-512 BF16 (`vdpbf16ps`), the instruction that makes `bf16` pay.
    public static var hasBF16DotProducts: Bool { dg_cpu_has_bf16_dot() != 0 }
}
