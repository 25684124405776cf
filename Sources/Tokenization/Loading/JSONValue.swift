import Foundation

/// A value inside a parsed JSON document together with where it came from, so every shape error
/// names the file and the JSON path.
struct JSONValue {
    let raw: Any
    let file: String
    let path: String

    init(raw: Any, file: String, path: String = "$") {
        self.raw = raw
        self.file = file
        self.path = path
    }

    /// Parses a whole file.
    static func parse(contentsOf url: URL, displayName: String) throws -> JSONValue {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError(.unreadable, file: displayName, "cannot read the file (\(error.localizedDescription))")
        }
        return try parse(data: data, displayName: displayName)
    }

    /// Parses JSON text.
    static func parse(data: Data, displayName: String) throws -> JSONValue {
        do {
            return JSONValue(raw: try jsonObject(data), file: displayName)
        } catch {
            throw TokenizerError(.malformed, file: displayName, "not valid JSON (\(error.localizedDescription))")
        }
    }

    /// `JSONSerialization.jsonObject`, except that a literal U+FEFF inside a string survives:
    /// swift-corelibs-foundation drops it (vocabularies can hold it), so it is rewritten as the
    /// equivalent escape `\uFEFF` first (a BOM outside strings is only valid at the start, where
    /// it is removed).
    static func jsonObject(_ data: Data) throws -> Any {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if let first = bytes.indices.first(where: { bytes[$0] == 0xEF && $0 + 2 < bytes.count && bytes[$0 + 1] == 0xBB && bytes[$0 + 2] == 0xBF }) {
            var out = [UInt8](bytes[..<first])
            out.reserveCapacity(bytes.count + 64)
            var i = first
            while i < bytes.count {
                if bytes[i] == 0xEF, i + 2 < bytes.count, bytes[i + 1] == 0xBB, bytes[i + 2] == 0xBF {
                    out += Array("\\uFEFF".utf8)
                    i += 3
                } else {
                    out.append(bytes[i])
                    i += 1
                }
            }
            bytes = out
        }
        return try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }

    func error(_ message: String, code: TokenizerError.Code = .malformed) -> TokenizerError {
        TokenizerError(code, file: file, jsonPath: path, message)
    }

    /// JSONSerialization gives booleans as a distinct NSNumber subclass (on Linux and Darwin alike).
    private static let booleanType = ObjectIdentifier(type(of: NSNumber(value: true)))

    private static func isBoolean(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return ObjectIdentifier(type(of: n)) == booleanType
    }

    var isNull: Bool { raw is NSNull }

    func object() throws -> [String: Any] {
        guard let o = raw as? [String: Any] else { throw error("expected an object") }
        return o
    }

    func array() throws -> [JSONValue] {
        guard let a = raw as? [Any] else { throw error("expected an array") }
        return a.enumerated().map { JSONValue(raw: $1, file: file, path: "\(path)[\($0)]") }
    }

    func string() throws -> String {
        guard let s = raw as? String else { throw error("expected a string") }
        return s
    }

    func bool() throws -> Bool {
        if Self.isBoolean(raw), let b = raw as? Bool { return b }
        throw error("expected true or false")
    }

    func int() throws -> Int {
        if !Self.isBoolean(raw), let n = raw as? NSNumber {
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        }
        throw error("expected an integer")
    }

    /// The member `key`, or `nil` when absent (a JSON `null` counts as absent).
    func member(_ key: String) throws -> JSONValue? {
        let o = try object()
        guard let v = o[key], !(v is NSNull) else { return nil }
        return JSONValue(raw: v, file: file, path: "\(path).\(key)")
    }

    /// The member `key`, which must be present.
    func required(_ key: String) throws -> JSONValue {
        guard let v = try member(key) else { throw error("missing required member '\(key)'") }
        return v
    }

    func string(_ key: String) throws -> String { try required(key).string() }
    func optionalString(_ key: String) throws -> String? { try member(key)?.string() }
    func bool(_ key: String, default value: Bool) throws -> Bool { try member(key)?.bool() ?? value }
    func int(_ key: String, default value: Int) throws -> Int { try member(key)?.int() ?? value }

    /// The `type` member of a component object.
    func typeName() throws -> String { try string("type") }

    /// An error for a component type this implementation does not handle.
    func unsupported(_ what: String, _ name: String) -> TokenizerError {
        error("unsupported \(what) '\(name)'", code: .unsupported)
    }
}
