/// The type of an op parameter, a subgraph parameter, or a field of `models`, `stores`,
/// `constraints` and `limits`.
public indirect enum ParameterType: Sendable, Hashable, CustomStringConvertible {
    /// A whole number (`6`).
    case int
    /// A number; a whole number is accepted too (`0.7`, `1`).
    case float
    /// `true` or `false`.
    case bool
    /// Any text.
    case string
    /// One of the listed words.
    case enumeration([String])
    /// A list of values of one type; a single value stands for a list of one.
    case list(ParameterType)
    /// The name of an entry of `models`.
    case modelRef
    /// The name of an entry of `stores`.
    case storeRef
    /// The name of an entry of `constraints`.
    case constraintRef
    /// The name of a node (a reference that is not a data edge, e.g. a subgraph's input).
    case nodeRef
    /// Any YAML, kept as written (an inline JSON Schema).
    case document

    /// How the type reads in messages and references (`int`, `one of greedy, sampling`).
    public var description: String {
        switch self {
        case .int: "int"
        case .float: "float"
        case .bool: "bool"
        case .string: "string"
        case .enumeration(let cases): "one of " + cases.joined(separator: ", ")
        case .list(let element): "list of \(element)"
        case .modelRef: "model name"
        case .storeRef: "store name"
        case .constraintRef: "constraint name"
        case .nodeRef: "node name"
        case .document: "YAML document"
        }
    }

    /// The section a reference type names entries of, if it is a reference.
    var referencedSection: String? {
        switch self {
        case .modelRef: "models"
        case .storeRef: "stores"
        case .constraintRef: "constraints"
        case .nodeRef: "nodes"
        default: nil
        }
    }

    /// Whether values of this type (or its elements) are names resolved in a scope.
    var isReference: Bool {
        if case .list(let element) = self { return element.isReference }
        return referencedSection != nil
    }
}

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
        if plain { return text }
        var out = "\""
        for c in text.unicodeScalars {
            switch c {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}

/// Allowed numeric values: an interval whose ends may be open, closed or absent.
public struct ValueRange: Sendable, Hashable, CustomStringConvertible {
    /// The lower end and whether it is included.
    public var lower: (value: Double, inclusive: Bool)?
    /// The upper end and whether it is included.
    public var upper: (value: Double, inclusive: Bool)?

    /// Creates a range.
    /// - Parameters:
    ///   - lower: the lower end and whether it is allowed, or `nil` for none.
    ///   - upper: the upper end and whether it is allowed, or `nil` for none.
    public init(lower: (value: Double, inclusive: Bool)?, upper: (value: Double, inclusive: Bool)?) {
        self.lower = lower
        self.upper = upper
    }

    /// `min ≤ x ≤ max`.
    /// - Parameters:
    ///   - min: smallest allowed value.
    ///   - max: largest allowed value.
    /// - Returns: the closed range.
    public static func closed(_ min: Double, _ max: Double) -> ValueRange {
        ValueRange(lower: (min, true), upper: (max, true))
    }

    /// `x ≥ min`.
    /// - Parameter min: smallest allowed value.
    /// - Returns: the half-bounded range.
    public static func atLeast(_ min: Double) -> ValueRange { ValueRange(lower: (min, true), upper: nil) }

    /// `x > min`.
    /// - Parameter min: the excluded lower end.
    /// - Returns: the half-bounded range.
    public static func greaterThan(_ min: Double) -> ValueRange { ValueRange(lower: (min, false), upper: nil) }

    /// `min < x ≤ max`.
    /// - Parameters:
    ///   - min: the excluded lower end.
    ///   - max: the largest allowed value.
    /// - Returns: the half-open range.
    public static func openClosed(_ min: Double, _ max: Double) -> ValueRange {
        ValueRange(lower: (min, false), upper: (max, true))
    }

    /// Whether `x` lies in the range.
    /// - Parameter x: the value.
    /// - Returns: `true` when allowed.
    public func contains(_ x: Double) -> Bool {
        if let lower, lower.inclusive ? x < lower.value : x <= lower.value { return false }
        if let upper, upper.inclusive ? x > upper.value : x >= upper.value { return false }
        return true
    }

    /// Interval notation: `[1, 64]`, `(0, 1]`, `>= 0`, `> 0`.
    public var description: String {
        func number(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }
        switch (lower, upper) {
        case let (l?, u?):
            return (l.inclusive ? "[" : "(") + number(l.value) + ", " + number(u.value) + (u.inclusive ? "]" : ")")
        case let (l?, nil): return (l.inclusive ? ">= " : "> ") + number(l.value)
        case let (nil, u?): return (u.inclusive ? "<= " : "< ") + number(u.value)
        case (nil, nil): return "any"
        }
    }

    public static func == (a: ValueRange, b: ValueRange) -> Bool { a.description == b.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}
