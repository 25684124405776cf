import CKernels

/// Storage precision of a tensor. Raw values match the C kernels' `dg_dtype`.
///
/// From `q8_0` on, ggml's block-quantized formats, byte for byte as a GGUF file stores them: a row
/// is a whole number of blocks (`blockElements` values in `blockBytes` bytes), and products with
/// such weights run on the packed blocks (`MatMul`; docs/ARCHITECTURE.md, "Precision and kernels").
public enum DType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0
    case f16 = 1
    case bf16 = 2
    /// 32 int8 quants and an f16 scale (34 bytes per 32 values).
    case q8_0 = 3
    /// 32 4-bit quants, value = d·(q − 8) (18 bytes).
    case q4_0 = 4
    /// 32 4-bit quants, value = d·q + m (20 bytes).
    case q4_1 = 5
    /// 32 5-bit quants, value = d·(q − 16) (22 bytes).
    case q5_0 = 6
    /// 32 5-bit quants, value = d·q + m (24 bytes).
    case q5_1 = 7
    /// Super-blocks of 256: 8 sub-blocks of 32 4-bit quants with 6-bit scales and mins (144 bytes).
    case q4_K = 8
    /// Super-blocks of 256: 16 sub-blocks of 16 6-bit quants with int8 scales (210 bytes).
    case q6_K = 9
    /// Super-blocks of 256: as `q4_K` with 5-bit quants (176 bytes).
    case q5_K = 10

    /// Bytes per element of an unquantized type. Block-quantized types have no whole number of
    /// bytes per element: use `byteCount(elements:)` or `blockBytes` for them (calling this is a
    /// programming error).
    public var size: Int {
        precondition(!isQuantized, "\(self) has no per-element size; use byteCount(elements:)")
        return self == .f32 ? 4 : 2
    }

    /// Whether this is a block-quantized format.
    public var isQuantized: Bool { rawValue >= DType.q8_0.rawValue }

    /// Bytes of one block (the element size for f32, f16 and bf16).
    public var blockBytes: Int { dg_block_bytes(rawValue) }

    /// Values per block (1 for f32, f16 and bf16; 32, or 256 for the K-quants).
    public var blockElements: Int { dg_block_elements(rawValue) }

    /// Bytes that `elements` values occupy (a multiple of `blockElements`).
    /// - Parameter elements: number of values.
    /// - Returns: the byte count.
    public func byteCount(elements: Int) -> Int { elements / blockElements * blockBytes }

    /// Checks that a row of `columns` values is a whole number of blocks.
    /// - Parameters:
    ///   - columns: values per row.
    ///   - tensor: the tensor's name, for the message.
    /// - Throws: `DTypeError` naming the tensor, the row length and the block size.
    public func checkRow(columns: Int, tensor: String) throws(DTypeError) {
        guard columns % blockElements != 0 else { return }
        throw DTypeError(message: "tensor '\(tensor)': rows of \(columns) values are not a whole number of \(self) blocks "
                                + "(\(blockElements) values each); store it in another type or pad its rows")
    }

    /// The safetensors spelling (`F32`, `F16`, `BF16`; the quantized types have none, and use
    /// their ggml names in upper case, `Q4_0`, `Q4_K`).
    public var safetensorsName: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        default: description.uppercased()
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

    /// Parses a name as `decograph bench kernels --dtype` takes it: `f32`, `bf16`, `q4_0`, `q4_k`, …
    /// (case-insensitive).
    /// - Parameter name: the name.
    /// - Returns: the dtype, or `nil`.
    public init?(name: String) {
        guard let match = DType.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = match
    }

    /// The GGML type id a GGUF tensor header stores (ggml.h's `ggml_type`).
    public var ggmlType: UInt32 {
        switch self {
        case .f32: 0
        case .f16: 1
        case .q4_0: 2
        case .q4_1: 3
        case .q5_0: 6
        case .q5_1: 7
        case .q8_0: 8
        case .q4_K: 12
        case .q5_K: 13
        case .q6_K: 14
        case .bf16: 30
        }
    }

    /// The dtype of a GGUF tensor's GGML type id, or `nil` for types these kernels do not run.
    /// - Parameter ggmlType: the id.
    public init?(ggmlType: UInt32) {
        guard let match = DType.allCases.first(where: { $0.ggmlType == ggmlType }) else { return nil }
        self = match
    }

    /// Lower-case names: `f32`, `f16`, `bf16`, `q8_0`, …, `q4_k`, `q6_k`, `q5_k`.
    public var description: String {
        switch self {
        case .f32: "f32"
        case .f16: "f16"
        case .bf16: "bf16"
        case .q8_0: "q8_0"
        case .q4_0: "q4_0"
        case .q4_1: "q4_1"
        case .q5_0: "q5_0"
        case .q5_1: "q5_1"
        case .q4_K: "q4_k"
        case .q6_K: "q6_k"
        case .q5_K: "q5_k"
        }
    }
}

/// A tensor whose shape its dtype cannot store (a row that is not a whole number of blocks).
public struct DTypeError: Error, CustomStringConvertible {
    /// What is wrong, where, and what to do.
    public let message: String
    public var description: String { message }
}

/// Widens `count` elements of `dtype` at `source` into f32 (exact for f16 and bf16; the values the
/// blocks stand for when quantized, `count` then a multiple of `blockElements`).
/// - Parameters:
///   - dtype: the stored precision.
///   - source: the stored elements.
///   - destination: where the f32 values go.
///   - count: number of elements.
@inlinable
public func convertToF32(_ dtype: DType, _ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, count: Int) {
    dg_to_f32(dtype.rawValue, source, destination, count)
}

/// Narrows f32 values to bf16 or f16, rounding to nearest even, or quantizes them to blocks (round
/// to nearest, as ggml's reference quantizers; `count` a multiple of `blockElements`).
/// - Parameters:
///   - source: f32 values.
///   - dtype: `.bf16`, `.f16` or a quantized type (`.f32` copies).
///   - destination: room for `dtype.byteCount(elements: count)` bytes.
///   - count: number of elements.
public func convertFromF32(_ source: UnsafePointer<Float>, to dtype: DType, _ destination: UnsafeMutableRawPointer, count: Int) {
    switch dtype {
    case .f32: destination.copyMemory(from: source, byteCount: count * 4)
    case .bf16: dg_f32_to_bf16(source, destination.assumingMemoryBound(to: UInt16.self), count)
    case .f16: dg_f32_to_f16(source, destination.assumingMemoryBound(to: UInt16.self), count)
    default: dg_quantize(dtype.rawValue, source, destination, count)
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

/// What the products read as activations, by how the weights are stored.
///
/// - `f32`: activations stay f32 and weights are widened exactly — block-quantized weights
///   dequantized row by row — so the transformers parity contract (≤ 1e-4 relative against the
///   same weights in f32) holds for every weight precision, a GGUF's quantized types included.
/// - `bf16`: activations are rounded to bf16 (nearest even) before every product with a bf16
///   weight — llama.cpp's convention for bf16 tensors, and closer to f32 than transformers'
///   own bf16 inference, whose residual stream, norms and attention are bf16 too; here only the
///   matrix inputs are rounded and everything accumulates in f32. On CPUs with AVX-512 BF16 the
///   products run as `vdpbf16ps`, twice the multiply-adds per instruction of the f32 path, which
///   is what verifying several drafted tokens is bound by. f16 and f32 weights are unaffected;
///   quantized weights read 8-bit activations as under `q8`.
/// - `q8`: products with block-quantized weights read the activations quantized to 8-bit blocks
///   of 32 (one scale per block, llama.cpp's `q8` dot products) and run as integer dot products
///   over the packed blocks; other weights read f32.
/// - `auto` (the default a model is loaded with): `q8` for block-quantized weights, `bf16` for
///   bf16 weights on a CPU with AVX-512 BF16, and `f32` otherwise (`resolved(for:)`).
public enum ActivationPrecision: String, Sendable, CaseIterable, CustomStringConvertible {
    case auto
    case f32
    case bf16
    case q8

    public var description: String { rawValue }

    /// The mode a model with `weights` runs in: `self`, or for `auto` the rule above.
    /// - Parameter weights: the precision most of the model's weights are stored in.
    /// - Returns: `f32`, `bf16` or `q8`.
    public func resolved(for weights: DType) -> ActivationPrecision {
        guard self == .auto else { return self }
        if weights.isQuantized { return .q8 }
        return weights == .bf16 && Self.hasBF16DotProducts ? .bf16 : .f32
    }

    /// Whether a product with weights stored as `weights` rounds its activations in this mode: only
    /// `bf16` with bf16 weights does.
    /// - Parameter weights: the weights' precision.
    /// - Returns: `true` for the rounded (bf16 dot-product) products.
    public func rounds(_ weights: DType) -> Bool { self == .bf16 && weights == .bf16 }

    /// Whether a product with weights stored as `weights` quantizes its activations to 8-bit
    /// blocks (integer dot products): block-quantized weights in every mode but `f32`.
    /// - Parameter weights: the weights' precision.
    /// - Returns: `true` for the integer-dot-product path.
    public func quantizes(_ weights: DType) -> Bool { weights.isQuantized && self != .f32 }

    /// Whether this CPU has AVX-512 BF16 (`vdpbf16ps`), the instruction that makes `bf16` pay.
    public static var hasBF16DotProducts: Bool { dg_cpu_has_bf16_dot() != 0 }
}
