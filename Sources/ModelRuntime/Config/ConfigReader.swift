import Foundation

/// Typed reads of a decoded `config.json` object. A key that is present with the wrong JSON type
/// (`"hidden_size": "64"`, `"rms_norm_eps": true`) is an error naming the file, the key and the
/// type expected — never a silent fall back to the default, which would load a model of another
/// shape or numerics than the file describes. An absent key or `null` takes the default.
struct ConfigReader {
    /// The object's members.
    let json: [String: Any]
    /// The file, for messages.
    let path: String
    /// Where the object sits in the file (`rope_scaling.`), prefixed to keys in messages.
    let prefix: String

    /// Wraps a decoded object.
    /// - Parameters:
    ///   - json: the object.
    ///   - path: the file it came from.
    ///   - prefix: the key path of the object inside the file, ending with `.`; empty at the top.
    init(json: [String: Any], path: String, prefix: String = "") {
        self.json = json
        self.path = path
        self.prefix = prefix
    }

    /// The error for a key whose value is unusable.
    func error(_ key: String, _ what: String) -> RuntimeError {
        RuntimeError(.badConfig, "\(path): '\(prefix)\(key)' \(what)")
    }

    /// A value as a message quotes it: JSON's spelling, with its type when that is the problem.
    private static func describe(_ value: Any) -> String {
        if let s = value as? String { return "the string \"\(s)\"" }
        if let n = value as? NSNumber { return isBoolean(n) ? "the boolean \(n.boolValue)" : "\(n)" }
        if value is [Any] { return "a list" }
        if value is [String: Any] { return "an object" }
        return "\(value)"
    }

    /// Foundation decodes `true` and `1` both as `NSNumber`; a boolean's Objective-C type is `c`.
    private static func isBoolean(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    /// The value of a key, `nil` when absent or `null`.
    func value(_ key: String) -> Any? {
        guard let v = json[key], !(v is NSNull) else { return nil }
        return v
    }

    /// Whether the key holds a value.
    func has(_ key: String) -> Bool { value(key) != nil }

    /// A number (integer or not), finite.
    private func finiteNumber(_ key: String, _ v: Any, expected: String) throws -> Double {
        guard let n = v as? NSNumber, !Self.isBoolean(n) else {
            throw error(key, "must be \(expected), found \(Self.describe(v))")
        }
        guard n.doubleValue.isFinite else { throw error(key, "must be \(expected), found \(n)") }
        return n.doubleValue
    }

    /// An integer of at least `minimum`.
    /// - Parameters:
    ///   - key: the key.
    ///   - defaultValue: the value when absent; `nil` makes the key required.
    ///   - minimum: the smallest value allowed.
    /// - Returns: the value.
    /// - Throws: `RuntimeError.badConfig` naming the key.
    func int(_ key: String, default defaultValue: Int? = nil, minimum: Int = 1) throws -> Int {
        guard let v = value(key) else {
            if let defaultValue { return defaultValue }
            throw RuntimeError(.badConfig, "\(path): missing '\(prefix)\(key)'")
        }
        let expected = minimum == 1 ? "a positive integer" : "an integer ≥ \(minimum)"
        let x = try finiteNumber(key, v, expected: expected)
        guard x == x.rounded(), x >= Double(minimum), x <= Double(Int32.max) else {
            throw error(key, "must be \(expected), found \(Self.describe(v))")
        }
        return Int(x)
    }

    /// A finite positive number (every real-valued setting the runtime reads: ε, θ, rope factors).
    /// - Parameters:
    ///   - key: the key.
    ///   - defaultValue: the value when absent; `nil` makes the key required.
    ///   - requiredBecause: what needs it (`rope scaling 'linear' needs it`), for the message when
    ///     it is missing.
    ///   - allowingZero: accept 0 (a temperature) as well as positive values.
    /// - Returns: the value.
    /// - Throws: `RuntimeError.badConfig` naming the key.
    func number(_ key: String, default defaultValue: Double? = nil,
                requiredBecause: String? = nil, allowingZero: Bool = false) throws -> Double {
        guard let v = value(key) else {
            if let defaultValue { return defaultValue }
            throw RuntimeError(.badConfig, "\(path): missing '\(prefix)\(key)'" + (requiredBecause.map { " (\($0))" } ?? ""))
        }
        let expected = allowingZero ? "a finite number ≥ 0" : "a finite positive number"
        let x = try finiteNumber(key, v, expected: expected)
        guard x > 0 || (allowingZero && x == 0) else { throw error(key, "must be \(expected), found \(Self.describe(v))") }
        return x
    }

    /// A boolean.
    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        guard let v = value(key) else { return defaultValue }
        guard let n = v as? NSNumber, Self.isBoolean(n) else {
            throw error(key, "must be true or false, found \(Self.describe(v))")
        }
        return n.boolValue
    }

    /// A string, `nil` when absent.
    func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v as? String else { throw error(key, "must be a string, found \(Self.describe(v))") }
        return s
    }

    /// A list of strings, `nil` when absent.
    func strings(_ key: String) throws -> [String]? {
        guard let v = value(key) else { return nil }
        guard let list = v as? [Any], let strings = list as? [String] else {
            throw error(key, "must be a list of strings, found \(Self.describe(v))")
        }
        return strings
    }

    /// A nested object, `nil` when absent.
    func object(_ key: String) throws -> ConfigReader? {
        guard let v = value(key) else { return nil }
        guard let o = v as? [String: Any] else { throw error(key, "must be an object, found \(Self.describe(v))") }
        return ConfigReader(json: o, path: path, prefix: prefix + key + ".")
    }

    /// Token ids: one integer or a list of them (`eos_token_id` may be either).
    func tokenIDs(_ key: String) throws -> [Int32] {
        guard let v = value(key) else { return [] }
        let items = (v as? [Any]) ?? [v]
        return try items.map { item in
            let expected = "a token id or a list of token ids (integers ≥ 0)"
            guard let n = item as? NSNumber, !Self.isBoolean(n), n.doubleValue == n.doubleValue.rounded(),
                  n.doubleValue >= 0, n.doubleValue <= Double(Int32.max) else {
                throw error(key, "must be \(expected), found \(Self.describe(item))")
            }
            return Int32(n.intValue)
        }
    }
}
