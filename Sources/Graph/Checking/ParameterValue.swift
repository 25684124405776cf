import Support

/// A checked parameter value. References hold the fully qualified name (`sub/draft`).
public indirect enum ParameterValue: Sendable, Hashable, CustomStringConvertible {
    /// A whole number.
    case int(Int)
    /// A number.
    case float(Double)
    /// A truth value.
    case bool(Bool)
    /// Text (also an enumeration's word).
    case string(String)
    /// A list.
    case list([ParameterValue])
    /// The qualified name of a model, store, constraint or node.
    case reference(String)
    /// YAML kept as written.
    case document(YAMLNode)

    /// The value as a number, for ints and floats.
    public var number: Double? {
        switch self {
        case .int(let v): Double(v)
        case .float(let v): v
        default: nil
        }
    }

    /// The value as YAML would spell it (`0.7`, `true`, `[a, b]`, `"\n\n"` quoted when needed).
    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .float(let v): "\(v)"
        case .bool(let v): String(v)
        case .string(let v): Self.quotedIfNeeded(v)
        case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .reference(let name): name
        case .document: "{…}"
        }
    }

    static func quotedIfNeeded(_ text: String) -> String {
        let plain = !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "._-/".contains($0) }
        // A JSON string literal is also a YAML double-quoted scalar.
        return plain ? text : JSONString.quoted(text)
    }
}
