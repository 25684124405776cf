import Kernels

/// The tensor types of ggml (`enum ggml_type` in ggml.h; `GGMLQuantizationType` and
/// `GGML_QUANT_SIZES` in the `gguf` Python package's constants.py, version 0.19.0), with the
/// block layout every type has: `blockElements` consecutive elements of a row are stored as one
/// block of `blockBytes` bytes. Ids 4 and 5 (Q4_2, Q4_3) were removed from ggml and are unknown.
enum GGMLType: UInt32, CaseIterable, Sendable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_XXS = 16, iq2_XS = 17, iq3_XXS = 18, iq1_S = 19, iq4_NL = 20, iq3_S = 21, iq2_S = 22, iq4_XS = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_M = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35, mxfp4 = 39

    /// Elements per block and bytes per block.
    var block: (elements: Int, bytes: Int) {
        switch self {
        case .f32: (1, 4)
        case .f16: (1, 2)
        case .q4_0: (32, 18)
        case .q4_1: (32, 20)
        case .q5_0: (32, 22)
        case .q5_1: (32, 24)
        case .q8_0: (32, 34)
        case .q8_1: (32, 40)
        case .q2_K: (256, 84)
        case .q3_K: (256, 110)
        case .q4_K: (256, 144)
        case .q5_K: (256, 176)
        case .q6_K: (256, 210)
        case .q8_K: (256, 292)
        case .iq2_XXS: (256, 66)
        case .iq2_XS: (256, 74)
        case .iq3_XXS: (256, 98)
        case .iq1_S: (256, 50)
        case .iq4_NL: (32, 18)
        case .iq3_S: (256, 110)
        case .iq2_S: (256, 82)
        case .iq4_XS: (256, 136)
        case .i8: (1, 1)
        case .i16: (1, 2)
        case .i32: (1, 4)
        case .i64: (1, 8)
        case .f64: (1, 8)
        case .iq1_M: (256, 56)
        case .bf16: (1, 2)
        case .tq1_0: (256, 54)
        case .tq2_0: (256, 66)
        case .mxfp4: (32, 17)
        }
    }

    /// The name ggml and llama.cpp print (`Q4_K`, `IQ4_XS`, `BF16`).
    var name: String {
        switch self {
        case .iq2_XXS: "IQ2_XXS"
        case .iq2_XS: "IQ2_XS"
        case .iq3_XXS: "IQ3_XXS"
        case .iq1_S: "IQ1_S"
        case .iq4_NL: "IQ4_NL"
        case .iq3_S: "IQ3_S"
        case .iq2_S: "IQ2_S"
        case .iq4_XS: "IQ4_XS"
        case .iq1_M: "IQ1_M"
        case .mxfp4: "MXFP4"
        default: "\(self)".uppercased()
        }
    }

    /// The weight precision decograph computes with for this type, or `nil` where it has no
    /// kernel: Kernels' `DType` knows the GGML ids it runs (F32, F16, BF16 and the block types
    /// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K), whose rows are handed over as the raw
    /// blocks they are.
    var dtype: DType? { DType(ggmlType: rawValue) }

    /// Names of the types `dtype` maps, for messages.
    static var supportedNames: String {
        allCases.filter { $0.dtype != nil }.map(\.name).joined(separator: ", ")
    }
}
