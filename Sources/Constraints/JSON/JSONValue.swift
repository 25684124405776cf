import Support

/// A JSON document as parsed for schemas and test instances: numbers keep their source text (so `1.0`
/// stays `1.0` and big numbers stay exact) and object members keep their order.
public indirect enum JSONValue: Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// The number's text as written (valid JSON number syntax).
    case number(String)
    /// A string, decoded.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// Members in source order.
    case object([(key: String, value: JSONValue)])

    /// The member named `key` of an object (the last one, as most parsers do, if repeated).
    /// - Parameter key: the member name.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    /// The JSON Schema type name of the value (`integer` for numbers with no fractional part).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number(let text): return DecimalNumber(text)?.isInteger == true ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

extension JSONValue: Equatable {
    /// JSON Schema equality (`const`, `enum`): numbers by mathematical value, objects regardless of
    /// member order.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return DecimalNumber(x) == DecimalNumber(y)
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            return x.allSatisfy { member in y.contains { $0.key == member.key && $0.value == member.value } }
        default: return false
        }
    }
}

extension JSONValue {
    /// The value as JSON text.
    /// - Parameter compact: `true` for `,`/`:` separators, `false` for the standard `", "`/`": "`.
    /// - Returns: the text, with numbers as they were written and non-ASCII characters unescaped.
    public func serialized(compact: Bool = false) -> String {
        var out = ""
        write(into: &out, itemSeparator: compact ? "," : ", ", keySeparator: compact ? ":" : ": ")
        return out
    }

    private func write(into out: inout String, itemSeparator: String, keySeparator: String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let text): out += text
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += itemSeparator }
                item.write(into: &out, itemSeparator: itemSeparator, keySeparator: keySeparator)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { out += itemSeparator }
                JSONValue.writeString(member.key, into: &out)
                out += keySeparator
                member.value.write(into: &out, itemSeparator: itemSeparator, keySeparator: keySeparator)
            }
            out += "}"
        }
    }

    /// Writes a JSON string literal with the short escapes and `\u00xx` for other control characters.
    static func writeString(_ s: String, into out: inout String) { JSONString.append(s, to: &out) }
}

extension JSONValue {
    /// Whether the value is a string.
    var isString: Bool { if case .string = self { true } else { false } }
    /// Whether the value is `true` or `false`.
    var isBool: Bool { if case .bool = self { true } else { false } }
    /// Whether the value is an array.
    var isArray: Bool { if case .array = self { true } else { false } }
    /// The string, if the value is one.
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    /// An array's items; empty for other values.
    var arrayItems: [JSONValue] { if case .array(let items) = self { items } else { [] } }
    /// An object's members; empty for other values.
    var objectMembers: [(key: String, value: JSONValue)] { if case .object(let m) = self { m } else { [] } }
}
