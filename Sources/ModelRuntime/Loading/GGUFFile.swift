import Foundation

/// One tensor of a GGUF file: its ggml type, shape and raw bytes (inside the map). Quantized
/// tensors are exposed as the blocks they are stored in; `GGMLType.dtype` says which types
/// decograph computes with.
struct GGUFTensor: @unchecked Sendable {
    /// The tensor's GGUF name (`blk.0.attn_q.weight`).
    let name: String
    /// Storage type.
    let type: GGMLType
    /// Dimensions in ggml order, innermost (contiguous) first: `[columns, rows]` for a matrix.
    let dims: [Int]
    /// First byte of the data.
    let data: UnsafeRawPointer
    /// Bytes of data.
    let byteCount: Int
    /// File offset of the tensor's info record (for messages).
    let infoOffset: Int
    /// File offset of its data.
    let dataOffset: Int

    /// Dimensions outermost first, as Hugging Face and `WeightSource` spell shapes.
    var shape: [Int] { dims.reversed() }
    /// Elements per row (the innermost dimension; 1 for a scalar).
    var rowElements: Int { dims.first ?? 1 }
    /// Bytes per row: whole blocks, since a row is a multiple of the block size.
    var rowBytes: Int { rowElements / type.block.elements * type.block.bytes }
}

/// A memory-mapped GGUF file (versions 2 and 3; ggml's docs/gguf.md): a header (magic `GGUF`,
/// version, tensor count, metadata count), the metadata key/value pairs, the tensor infos, then
/// the tensor data from the first `general.alignment` boundary (default 32) after the infos.
///
/// Every field is checked on open, so a damaged file is an error naming the byte offset and the
/// key or tensor, found in time and memory bounded by the file's size: no count read from the
/// file allocates before it is checked against the bytes left.
final class GGUFFile: @unchecked Sendable {
    /// `GGUF` read as a little-endian 32-bit word.
    static let magic: UInt32 = 0x4655_4747
    /// Versions read: 2 (64-bit counts and lengths) and 3 (adds big-endian files, which announce
    /// themselves by a byte-swapped version and are refused).
    static let supportedVersions: ClosedRange<UInt32> = 2...3
    /// Data alignment when `general.alignment` is absent (gguf.md).
    static let defaultAlignment = 32
    /// Most dimensions a tensor has (`GGML_MAX_DIMS`).
    static let maxDimensions = 4
    /// Deepest nesting of arrays accepted. Real files nest at most once; the limit only keeps a
    /// crafted file from exhausting the stack (each level costs it just 12 bytes).
    static let maxArrayNesting = 8
    /// Bytes of the fixed header: magic, version, tensor count, metadata count.
    static let headerBytes = 24
    /// Fewest bytes of one metadata pair: key length, type, and a 1-byte value.
    static let minimumPairBytes = 8 + 4 + 1
    /// Fewest bytes of one tensor info: name length, dimension count, type, offset.
    static let minimumTensorInfoBytes = 8 + 4 + 4 + 8

    let map: MappedFile
    /// The file's path, for messages.
    var path: String { map.path }
    /// Format version (2 or 3).
    let version: UInt32
    /// Metadata by key.
    let metadata: [String: GGUFValue]
    /// File offset of each key's record (for messages).
    let keyOffsets: [String: Int]
    /// Tensors by name.
    let tensors: [String: GGUFTensor]
    /// Tensor names in file order.
    let tensorNames: [String]
    /// Alignment of the data section and of every tensor in it.
    let alignment: Int
    /// File offset of the data section.
    let dataStart: Int

    /// Opens and validates `path`.
    /// - Parameter path: a `.gguf` file.
    /// - Throws: `RuntimeError.io` when it cannot be read, `.corruptWeights` naming the byte
    ///   offset and the key or tensor at fault.
    init(path: String) throws {
        map = try MappedFile(path: path)
        var r = Reader(base: map.base, size: map.size, path: path)
        r.context = "header"
        let magic = try r.u32("magic")
        guard magic == Self.magic else {
            throw r.error(at: 0, "not a GGUF file (magic \(Self.describeMagic(magic)), expected \"GGUF\")")
        }
        let version = try r.u32("version")
        if version == 1 {
            throw r.error(at: 4, "GGUF version 1 is not supported (it used 32-bit counts); convert the model again with a current llama.cpp")
        }
        if version.byteSwapped >= 1 && version.byteSwapped <= Self.supportedVersions.upperBound {
            throw r.error(at: 4, "big-endian GGUF (version \(version.byteSwapped) byte-swapped) is not supported; use a little-endian file")
        }
        guard Self.supportedVersions.contains(version) else {
            throw r.error(at: 4, "GGUF version \(version) is not supported (supported: \(Self.supportedVersions.lowerBound)...\(Self.supportedVersions.upperBound))")
        }
        self.version = version
        let tensorCount = try r.count("tensor count", minimumBytes: Self.minimumTensorInfoBytes)
        let pairCount = try r.count("metadata count", minimumBytes: Self.minimumPairBytes)

        var metadata: [String: GGUFValue] = [:]
        var keyOffsets: [String: Int] = [:]
        for index in 0..<pairCount {
            let (key, start) = try r.recordName(section: "metadata pair #\(index)", kind: "key", seen: keyOffsets)
            let type = try r.valueType("value type")
            metadata[key] = try r.value(type, depth: 0)
            keyOffsets[key] = start
        }
        self.metadata = metadata
        self.keyOffsets = keyOffsets

        var alignment = Self.defaultAlignment
        if let value = metadata["general.alignment"] {
            guard let a = value.integer, a > 0, a & (a - 1) == 0, a <= Int(UInt32.max) else {
                throw r.error(at: keyOffsets["general.alignment"]!, "key 'general.alignment': must be a power of two, found \(value)")
            }
            alignment = a
        }
        self.alignment = alignment

        struct Info {
            var name: String, type: GGMLType, dims: [Int], byteCount: Int, relativeOffset: Int, infoOffset: Int
        }
        var infos: [Info] = []
        infos.reserveCapacity(tensorCount)
        var infoOffsets: [String: Int] = [:]
        for index in 0..<tensorCount {
            let (name, start) = try r.recordName(section: "tensor #\(index)", kind: "tensor", seen: infoOffsets)
            let dimCount = try r.u32("dimension count")
            guard dimCount <= Self.maxDimensions else {
                throw r.error(at: r.offset - 4, "\(dimCount) dimensions; ggml tensors have at most \(Self.maxDimensions)")
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0..<Int(dimCount) {
                let n = try r.u64("dimension \(d)")
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(clamping: n))
                guard n <= UInt64(Int.max), !overflow else {
                    throw r.error(at: r.offset - 8, "dimensions \(dims + [Int(clamping: n)]) overflow the element count")
                }
                dims.append(Int(n))
                elements = product
            }
            let typeOffset = r.offset
            let rawType = try r.u32("ggml type")
            guard let type = GGMLType(rawValue: rawType) else {
                throw r.error(at: typeOffset, "unknown ggml type \(rawType) (not in ggml's type list; the file is damaged or newer than decograph)")
            }
            let block = type.block
            guard (dims.first ?? 1) % block.elements == 0 else {
                throw r.error(at: start, "rows of \(dims.first ?? 1) elements are not a whole number of \(type.name) blocks of \(block.elements)")
            }
            let (bytes, overflow) = (elements / block.elements).multipliedReportingOverflow(by: block.bytes)
            guard !overflow else { throw r.error(at: start, "\(type.name) \(dims) needs more bytes than an address holds") }
            let offsetAt = r.offset
            let offset = try r.u64("data offset")
            guard offset <= UInt64(Int.max), Int(offset) % alignment == 0 else {
                throw r.error(at: offsetAt, "data offset \(offset) is not a multiple of the alignment \(alignment)")
            }
            infoOffsets[name] = start
            infos.append(Info(name: name, type: type, dims: dims, byteCount: bytes, relativeOffset: Int(offset), infoOffset: start))
        }

        r.context = "data section"
        let infosEnd = r.offset
        let padded = (infosEnd + alignment - 1) / alignment * alignment
        dataStart = tensorCount == 0 ? min(padded, map.size) : padded
        guard dataStart <= map.size else {
            throw r.error(at: map.size, "file ends at byte \(map.size), before its data section at byte \(dataStart) (truncated?)")
        }
        let dataBytes = map.size - dataStart
        var tensors: [String: GGUFTensor] = [:]
        for info in infos {
            guard info.relativeOffset <= dataBytes, info.byteCount <= dataBytes - info.relativeOffset else {
                throw r.error(at: info.infoOffset, "tensor '\(info.name)': \(info.type.name) \(info.dims) needs \(info.byteCount) bytes at data offset \(info.relativeOffset), past the \(dataBytes)-byte data section (truncated file?)")
            }
            tensors[info.name] = GGUFTensor(name: info.name, type: info.type, dims: info.dims,
                                            data: map.base! + dataStart + info.relativeOffset, byteCount: info.byteCount,
                                            infoOffset: info.infoOffset, dataOffset: dataStart + info.relativeOffset)
        }
        let byOffset = infos.sorted { ($0.relativeOffset, $0.infoOffset) < ($1.relativeOffset, $1.infoOffset) }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.relativeOffset + a.byteCount > b.relativeOffset {
            throw r.error(at: b.infoOffset, "tensor '\(b.name)': data at offset \(b.relativeOffset) overlaps tensor '\(a.name)' (offsets \(a.relativeOffset)..<\(a.relativeOffset + a.byteCount))")
        }
        self.tensors = tensors
        tensorNames = infos.map(\.name)
    }

    /// A located error about this file.
    func error(at offset: Int, _ message: String) -> RuntimeError {
        RuntimeError(.corruptWeights, "\(path): byte \(offset): \(message)")
    }

    private static func describeMagic(_ magic: UInt32) -> String {
        let bytes = withUnsafeBytes(of: magic.littleEndian) { Array($0) }
        if bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return "\"\(String(decoding: bytes, as: UTF8.self))\"" }
        return bytes.map { String($0, radix: 16) }.joined(separator: " ")
    }
}

/// A bounds-checked cursor over the map. Every read checks the bytes left first; errors name
/// the offset and the current `context` (key or tensor).
private struct Reader {
    let base: UnsafeRawPointer?
    let size: Int
    let path: String
    var offset = 0
    var context = ""

    init(base: UnsafeRawPointer?, size: Int, path: String) {
        self.base = base
        self.size = size
        self.path = path
    }

    var remaining: Int { size - offset }

    func error(at offset: Int, _ message: String) -> RuntimeError {
        RuntimeError(.corruptWeights, "\(path): byte \(offset): \(context): \(message)")
    }

    /// Claims `n` bytes and returns their address.
    mutating func take(_ n: Int, _ what: String) throws -> UnsafeRawPointer {
        guard n <= remaining, let base else {
            throw error(at: offset, "\(what) needs \(n) bytes but the file ends at byte \(size) (truncated?)")
        }
        defer { offset += n }
        return base + offset
    }

    mutating func u32(_ what: String) throws -> UInt32 {
        UInt32(littleEndian: try take(4, what).loadUnaligned(as: UInt32.self))
    }

    mutating func u64(_ what: String) throws -> UInt64 {
        UInt64(littleEndian: try take(8, what).loadUnaligned(as: UInt64.self))
    }

    /// A 64-bit count of items of at least `minimumBytes` each, checked against the bytes left.
    mutating func count(_ what: String, minimumBytes: Int) throws -> Int {
        let at = offset
        let n = try u64(what)
        guard n <= UInt64(remaining / minimumBytes) else {
            throw error(at: at, "\(what) \(n) cannot fit in the \(remaining) bytes left (each takes at least \(minimumBytes))")
        }
        return Int(n)
    }

    mutating func string(_ what: String) throws -> String {
        let at = offset
        let n = try u64("\(what) length")
        guard n <= UInt64(remaining) else {
            throw error(at: at, "\(what) length \(n) runs past the end of the file at byte \(size) (truncated?)")
        }
        let p = try take(Int(n), what)
        guard let s = String(validating: UnsafeRawBufferPointer(start: p, count: Int(n)), as: UTF8.self) else {
            throw error(at: at + 8, "\(what) is not valid UTF-8")
        }
        return s
    }

    /// Reads the name opening a metadata pair or tensor info, makes it the context of later
    /// errors, and refuses a name `seen` before (names map to their record's offset).
    mutating func recordName(section: String, kind: String, seen: [String: Int]) throws -> (name: String, start: Int) {
        let start = offset
        context = section
        let name = try string("\(kind) name")
        context = "\(kind) '\(name)'"
        if let first = seen[name] { throw error(at: start, "duplicate \(kind) name (first at byte \(first))") }
        return (name, start)
    }

    mutating func valueType(_ what: String) throws -> GGUFValueType {
        let at = offset
        let raw = try u32(what)
        guard let type = GGUFValueType(rawValue: raw) else {
            throw error(at: at, "unknown metadata value type \(raw) (known: 0...12)")
        }
        return type
    }

    mutating func value(_ type: GGUFValueType, depth: Int) throws -> GGUFValue {
        let at = offset
        switch type {
        case .string:
            return .string(try string("string value"))
        case .array:
            return .array(try array(depth: depth + 1))
        default:
            let p = try take(type.fixedSize!, "\(type) value")
            guard let v = GGUFValue.decodeFixed(type, p) else {
                throw error(at: at, "bool byte \(p.load(as: UInt8.self)) is neither 0 nor 1")
            }
            return v
        }
    }

    mutating func array(depth: Int) throws -> GGUFArray {
        guard depth <= GGUFFile.maxArrayNesting else {
            throw error(at: offset, "arrays nested deeper than \(GGUFFile.maxArrayNesting) levels")
        }
        let elementType = try valueType("array element type")
        let count = try self.count("array length", minimumBytes: elementType.minimumSize)
        switch elementType {
        case .string:
            var strings: [String] = []
            strings.reserveCapacity(count)
            for _ in 0..<count { strings.append(try string("array string")) }
            return GGUFArray(elementType: elementType, count: count, storage: .strings(strings))
        case .array:
            var arrays: [GGUFArray] = []
            arrays.reserveCapacity(count)
            for _ in 0..<count { arrays.append(try array(depth: depth + 1)) }
            return GGUFArray(elementType: elementType, count: count, storage: .arrays(arrays))
        default:
            let at = offset
            let p = try take(count * elementType.fixedSize!, "array of \(count) \(elementType)")
            if elementType == .bool, let bad = (0..<count).first(where: { p.load(fromByteOffset: $0, as: UInt8.self) > 1 }) {
                throw error(at: at + bad, "bool array element \(bad) is neither 0 nor 1")
            }
            return GGUFArray(elementType: elementType, count: count, storage: .fixed(p))
        }
    }
}
