/// Typed read access to the metadata of a GGUF file for modules that do not see the format (the
/// tokenizer loader): a value by key, `nil` when the key is absent, and an error naming the file,
/// the key's byte offset and the type found when it has another type.
public struct GGUFMetadata: Sendable {
    private let file: GGUFFile

    /// Opens and validates a GGUF file (its tensor data is mapped, not read).
    /// - Parameter path: the `.gguf` file.
    /// - Throws: `RuntimeError` when it cannot be read or is damaged.
    public init(path: String) throws {
        file = try GGUFFile(path: path)
    }

    /// The file's path, for messages.
    public var path: String { file.path }

    private func value(_ key: String) -> GGUFValue? { file.metadata[key] }

    private func mismatch(_ key: String, _ expected: String, _ found: GGUFValue) -> RuntimeError {
        file.error(at: file.keyOffsets[key] ?? 0, "key '\(key)': expected \(expected), found \(found.kind)")
    }

    /// A string value.
    /// - Throws: `RuntimeError` when the key holds another type.
    public func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw mismatch(key, "a string", v) }
        return s
    }

    /// A non-negative integer value (any integer type).
    /// - Throws: `RuntimeError` when the key holds another type or a negative number.
    public func integer(_ key: String) throws -> Int? {
        guard let v = value(key) else { return nil }
        guard let n = v.integer else { throw mismatch(key, "a non-negative integer", v) }
        return n
    }

    /// A bool value.
    /// - Throws: `RuntimeError` when the key holds another type.
    public func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw mismatch(key, "a bool", v) }
        return b
    }

    /// An array of strings.
    /// - Throws: `RuntimeError` when the key holds another type.
    public func strings(_ key: String) throws -> [String]? {
        guard let v = value(key) else { return nil }
        guard case .array(let a) = v, case .strings(let s) = a.storage else { throw mismatch(key, "an array of strings", v) }
        return s
    }

    /// An array of numbers as `Float` (float32 as stored; int32 converted, as llama.cpp accepts
    /// either for scores).
    /// - Throws: `RuntimeError` when the key holds another type.
    public func floats(_ key: String) throws -> [Float]? {
        guard let v = value(key) else { return nil }
        guard case .array(let a) = v, a.elementType == .float32 || a.elementType == .int32, case .fixed(let p) = a.storage else {
            throw mismatch(key, "an array of float32 or int32", v)
        }
        if a.elementType == .float32 {
            return (0..<a.count).map { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return (0..<a.count).map { Float(Int32(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
    }

    /// An array of int32.
    /// - Throws: `RuntimeError` when the key holds another type.
    public func int32s(_ key: String) throws -> [Int32]? {
        guard let v = value(key) else { return nil }
        guard case .array(let a) = v, a.elementType == .int32, case .fixed(let p) = a.storage else {
            throw mismatch(key, "an array of int32", v)
        }
        return (0..<a.count).map { Int32(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
    }
}
