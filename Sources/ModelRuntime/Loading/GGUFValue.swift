/// The value types of GGUF metadata (`gguf_type` in gguf.h; `GGUFValueType` in the `gguf`
/// Python package's constants.py).
enum GGUFValueType: UInt32, Sendable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Bytes of a value of this type when it is fixed-size; `nil` for strings and arrays.
    var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// Fewest bytes any value of this type occupies: a string is at least its 8-byte length, an
    /// array its 4-byte element type and 8-byte count. Bounds counts read from the file.
    var minimumSize: Int { fixedSize ?? (self == .string ? 8 : 12) }
}

/// One metadata value of a GGUF file.
enum GGUFValue: Sendable, Equatable {
    /// uint8, uint16, uint32 or uint64.
    case unsigned(UInt64)
    /// int8, int16, int32 or int64.
    case signed(Int64)
    /// float32 or float64.
    case float(Double)
    /// bool.
    case bool(Bool)
    /// A UTF-8 string.
    case string(String)
    /// An array of one element type (possibly arrays again).
    case array(GGUFArray)

    /// The value as a non-negative integer, if it is an integer that fits `Int`.
    var integer: Int? {
        switch self {
        case .unsigned(let u): u <= UInt64(Int.max) ? Int(u) : nil
        case .signed(let s): s >= 0 ? Int(s) : nil
        default: nil
        }
    }

    /// The value as a number (any integer or float type).
    var number: Double? {
        switch self {
        case .unsigned(let u): Double(u)
        case .signed(let s): Double(s)
        case .float(let f): f
        default: nil
        }
    }

    /// How the value is described in messages.
    var kind: String {
        switch self {
        case .unsigned: "unsigned integer"
        case .signed: "signed integer"
        case .float: "float"
        case .bool: "bool"
        case .string: "string"
        case .array(let a): "array of \(a.count) \(a.elementType)"
        }
    }
}

/// A metadata array. Arrays of numbers stay in the file's map and are decoded on access, so a
/// long array costs no memory beyond the map; strings and nested arrays are decoded on open.
struct GGUFArray: @unchecked Sendable, Equatable {
    enum Storage {
        /// Fixed-size elements at this address inside the map.
        case fixed(UnsafeRawPointer)
        case strings([String])
        case arrays([GGUFArray])
    }

    /// Type of every element.
    let elementType: GGUFValueType
    /// Number of elements.
    let count: Int
    let storage: Storage

    /// Element `index` (0..<count).
    subscript(index: Int) -> GGUFValue {
        precondition(index >= 0 && index < count)
        switch storage {
        case .strings(let s): return .string(s[index])
        case .arrays(let a): return .array(a[index])
        case .fixed(let base):
            let p = base + index * elementType.fixedSize!
            return GGUFValue.decodeFixed(elementType, p)!
        }
    }

    static func == (a: GGUFArray, b: GGUFArray) -> Bool {
        a.elementType == b.elementType && a.count == b.count && (0..<a.count).allSatisfy { a[$0] == b[$0] }
    }
}

extension GGUFValue {
    /// Decodes a fixed-size little-endian value at `p` (`nil` for a bool byte other than 0 or 1,
    /// which the spec calls invalid).
    static func decodeFixed(_ type: GGUFValueType, _ p: UnsafeRawPointer) -> GGUFValue? {
        switch type {
        case .uint8: .unsigned(UInt64(p.load(as: UInt8.self)))
        case .int8: .signed(Int64(p.load(as: Int8.self)))
        case .uint16: .unsigned(UInt64(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))))
        case .int16: .signed(Int64(Int16(littleEndian: p.loadUnaligned(as: Int16.self))))
        case .uint32: .unsigned(UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))))
        case .int32: .signed(Int64(Int32(littleEndian: p.loadUnaligned(as: Int32.self))))
        case .uint64: .unsigned(UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
        case .int64: .signed(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
        case .float32: .float(Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))))
        case .float64: .float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
        case .bool:
            switch p.load(as: UInt8.self) {
            case 0: .bool(false)
            case 1: .bool(true)
            default: nil
            }
        case .string, .array: nil
        }
    }
}
