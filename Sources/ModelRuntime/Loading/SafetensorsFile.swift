import Foundation
import Kernels

/// One tensor of a safetensors file: its name, stored dtype, shape and bytes (inside the map).
public struct TensorView: @unchecked Sendable {
    /// The tensor's name in the file.
    public let name: String
    /// Stored precision; `nil` for non-float dtypes (listed, but not usable as weights).
    public let dtype: DType?
    /// The dtype as spelled in the file.
    public let dtypeName: String
    /// Dimensions.
    public let shape: [Int]
    /// First byte of the data.
    public let data: UnsafeRawPointer
    /// File it lives in (for messages).
    public let file: String

    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A memory-mapped safetensors file (https://github.com/huggingface/safetensors format: an
/// 8-byte little-endian header length, a JSON header, then the data), validated on open so that
/// a damaged file is an error naming the file and tensor rather than a crash or a huge allocation.
final class SafetensorsFile: @unchecked Sendable {
    /// Largest header accepted. Real headers are a few hundred KB even for 400-tensor models;
    /// 100 MB matches the cap of the reference implementation.
    static let maxHeaderBytes = 100_000_000

    let map: MappedFile
    /// Tensors by name.
    let tensors: [String: TensorView]
    /// The `__metadata__` string map.
    let metadata: [String: String]

    /// Opens and validates `path`.
    /// - Parameter path: a `.safetensors` file.
    /// - Throws: `RuntimeError` (`.io`, `.corruptWeights`) naming the file and tensor.
    init(path: String) throws {
        map = try MappedFile(path: path)
        func corrupt(_ why: String) -> RuntimeError { RuntimeError(.corruptWeights, "\(path): \(why)") }
        guard map.size >= 8, let base = map.base else {
            throw corrupt("file is \(map.size) bytes, too short for a safetensors header")
        }
        let headerLength = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw corrupt("header length \(headerLength) exceeds the \(Self.maxHeaderBytes)-byte limit (not a safetensors file, or damaged)")
        }
        guard Int(headerLength) <= map.size - 8 else {
            throw corrupt("header length \(headerLength) runs past the end of the \(map.size)-byte file (truncated?)")
        }
        let headerData = Data(bytes: base + 8, count: Int(headerLength))
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw corrupt("header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw corrupt("header is not a JSON object") }
        let dataStart = 8 + Int(headerLength)
        let dataSize = map.size - dataStart
        var tensors: [String: TensorView] = [:]
        var metadata: [String: String] = [:]
        var spans: [(name: String, start: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw corrupt("__metadata__ is not an object") }
                for (k, v) in m { metadata[k] = v as? String ?? "\(v)" }
                continue
            }
            guard let entry = value as? [String: Any] else { throw corrupt("tensor '\(name)': entry is not an object") }
            guard let dtypeName = entry["dtype"] as? String else { throw corrupt("tensor '\(name)': missing dtype") }
            guard let shapeAny = entry["shape"] as? [Any], let offsetsAny = entry["data_offsets"] as? [Any],
                  offsetsAny.count == 2 else {
                throw corrupt("tensor '\(name)': missing or malformed shape/data_offsets")
            }
            var shape: [Int] = []
            for d in shapeAny {
                guard let n = (d as? NSNumber)?.int64Value, n >= 0, n <= Int64(Int32.max) else {
                    throw corrupt("tensor '\(name)': bad dimension \(d)")
                }
                shape.append(Int(n))
            }
            let offsets = offsetsAny.compactMap { ($0 as? NSNumber)?.int64Value }
            guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw corrupt("tensor '\(name)': bad data_offsets \(offsetsAny)")
            }
            guard offsets[1] <= Int64(dataSize) else {
                throw corrupt("tensor '\(name)': data_offsets end \(offsets[1]) past the \(dataSize)-byte data section (truncated file?)")
            }
            guard let elementSize = Self.elementSize(dtypeName) else {
                throw corrupt("tensor '\(name)': unknown dtype '\(dtypeName)'")
            }
            var elements = 1
            for d in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw corrupt("tensor '\(name)': shape \(shape) overflows") }
                elements = product
            }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: elementSize)
            guard !overflow, Int64(bytes) == offsets[1] - offsets[0] else {
                throw corrupt("tensor '\(name)': \(dtypeName) \(shape) needs \(overflow ? "too many" : "\(bytes)") bytes but data_offsets span \(offsets[1] - offsets[0])")
            }
            guard offsets[0] % Int64(elementSize) == 0 else {
                throw corrupt("tensor '\(name)': data_offsets start \(offsets[0]) is not a multiple of its \(dtypeName) element size \(elementSize)")
            }
            tensors[name] = TensorView(name: name, dtype: DType(safetensorsName: dtypeName), dtypeName: dtypeName,
                                       shape: shape, data: base + dataStart + Int(offsets[0]), file: path)
            spans.append((name, Int(offsets[0]), Int(offsets[1])))
        }
        try Self.checkCoverage(spans, dataSize: dataSize, corrupt: corrupt)
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Requires the tensors' byte ranges to tile the data section: in order they start at 0, each
    /// begins where the one before ends, and the last ends at the end of the file, as the format
    /// requires. An overlap would alias two tensors' weights; a gap or a trailing byte means the
    /// header and the data disagree — a header length one byte off leaves every tensor shifted by
    /// a byte, which only the extra byte at the end gives away.
    /// - Parameters:
    ///   - spans: each tensor's name and `data_offsets`, already checked to lie inside the data.
    ///   - dataSize: bytes after the header.
    ///   - corrupt: builds the error naming the file.
    /// - Throws: `RuntimeError.corruptWeights` naming the tensors at the first gap or overlap.
    private static func checkCoverage(_ spans: [(name: String, start: Int, end: Int)], dataSize: Int,
                                      corrupt: (String) -> RuntimeError) throws {
        // Ties broken by end then name, so zero-byte tensors sort first and messages are stable.
        let ordered = spans.sorted { ($0.start, $0.end, $0.name) < ($1.start, $1.end, $1.name) }
        // Overlaps first: an aliased tensor also leaves its own range a gap, and the alias is the
        // mistake to name.
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.start < a.end {
            throw corrupt("tensor '\(b.name)': data_offsets [\(b.start), \(b.end)] overlap those of '\(a.name)' [\(a.start), \(a.end)]")
        }
        var covered = 0
        var previous: String?
        for span in ordered {
            if span.start > covered {
                let after = previous.map { "after '\($0)' " } ?? ""
                throw corrupt("tensor '\(span.name)': data_offsets start at \(span.start), leaving bytes \(covered)..<\(span.start) \(after)unused; tensors must cover the data section without gaps")
            }
            covered = span.end
            previous = span.name
        }
        guard covered == dataSize else {
            throw corrupt("the tensors' data ends at byte \(covered) of a \(dataSize)-byte data section: \(dataSize - covered) trailing bytes (header length wrong, or data appended)")
        }
    }

    /// Bytes per element of a safetensors dtype, or `nil` if unknown.
    static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": 8
        case "F32", "I32", "U32": 4
        case "F16", "BF16", "I16", "U16": 2
        case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": 1
        default: nil
        }
    }
}
