import Foundation
import Support
import Tokenization

/// A JSON value as a chat template receives it: messages, tool schemas, documents and extra
/// variables. Objects keep their members in order, because templates print them (`tojson`,
/// `items()`) in that order, as Python's dicts do.
public enum ChatValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([ChatValue])
    /// Members in order; a later duplicate key replaces the earlier value, as in Python.
    case object([(String, ChatValue)])

    public static func == (a: ChatValue, b: ChatValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// A `{"role": role, "content": content}` message.
    /// - Parameters:
    ///   - role: `system`, `user`, `assistant`, `tool`, …
    ///   - content: the message text.
    /// - Returns: the message object.
    public static func message(role: String, content: String) -> ChatValue {
        .object([("role", .string(role)), ("content", .string(content))])
    }

    /// The member `key` of an object, else nil.
    public subscript(key: String) -> ChatValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    /// Parses a JSON text (objects keep their order).
    /// - Parameters:
    ///   - data: the UTF-8 JSON text.
    ///   - displayName: the file name errors name.
    /// - Returns: the value.
    /// - Throws: `TokenizerError` (`.malformed`) with the line and column of a syntax error.
    public static func parse(json data: Data, displayName: String) throws -> ChatValue {
        ChatValue(parsed: try JSONDocument.parse(data, displayName: displayName))
    }

    /// Converts a value from `JSONDocument.parse`.
    init(parsed raw: Any) {
        switch raw {
        case let o as JSONObject: self = .object(zip(o.keys, o.values.map(ChatValue.init(parsed:))).map { ($0, $1) })
        case let a as [Any]: self = .array(a.map(ChatValue.init(parsed:)))
        case let s as String: self = .string(s)
        case let n as NSNumber:
            switch JSONDocument.scalar(n) {
            case .bool(let b): self = .bool(b)
            case .int(let i): self = .int(i)
            case .double(let d): self = .double(d)
            }
        default: self = .null
        }
    }

    /// The template-side value.
    var templateValue: Value {
        switch self {
        case .null: return Value.none
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .array(let a): return .list(a.map(\.templateValue))
        case .object(let members): return .dict(Dict(members.map { (.string($0.0), $0.1.templateValue) }))
        }
    }
}

extension ChatValue {
    /// The value as compact JSON text, members in order (what a client sends a server).
    public var jsonText: String {
        var out = ""
        append(to: &out)
        return out
    }

    private func append(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? "\(d)" : "null"
        case .string(let s): JSONString.append(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.append(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, member) in members.enumerated() {
                if i > 0 { out += "," }
                JSONString.append(member.0, to: &out)
                out += ":"
                member.1.append(to: &out)
            }
            out += "}"
        }
    }
}
