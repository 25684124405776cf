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
        JSONValue(raw: try jsonObject(data, displayName: displayName), file: displayName)
    }

    /// The value of a JSON text, objects as `JSONObject` (keys kept byte for byte, see there).
    /// - Throws: `TokenizerError` (`.malformed`) naming `displayName` and the line and column
    ///   where the text stops being JSON.
    static func jsonObject(_ data: Data, displayName: String = "JSON text") throws -> Any {
        let bytes = [UInt8](data)
        return try bytes.withUnsafeBufferPointer { p throws(TokenizerError) -> Any in
            do throws(JSONSyntaxError) {
                return try JSONParser.parse(p)
            } catch {
                throw TokenizerError(.malformed, file: displayName,
                                     "not valid JSON at \(error.location(in: p)): \(error.message)")
            }
        }
    }

    func error(_ message: String, code: TokenizerError.Code = .malformed) -> TokenizerError {
        TokenizerError(code, file: file, jsonPath: path, message)
    }

    /// `JSONParser` gives booleans as `NSNumber(value: Bool)`, a distinct NSNumber subclass (on
    /// Linux and Darwin alike), so `true` is not taken for the number 1.
    private static let booleanType = ObjectIdentifier(type(of: NSNumber(value: true)))

    private static func isBoolean(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return ObjectIdentifier(type(of: n)) == booleanType
    }

    var isNull: Bool { raw is NSNull }

    func object() throws -> JSONObject {
        guard let o = raw as? JSONObject else { throw error("expected an object") }
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

    func double() throws -> Double {
        if !Self.isBoolean(raw), let n = raw as? NSNumber { return n.doubleValue }
        throw error("expected a number")
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
        guard let v = o.value(key), !(v is NSNull) else { return nil }
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
