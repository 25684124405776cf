/// One parameter: its name, type, default, allowed range and documentation.
///
/// The same table describes op parameters, subgraph `params:`, and the fields of `models`,
/// `stores`, `constraints` and `limits`, so every value in a graph file is checked, reported and
/// documented one way.
public struct ParameterSpec: Sendable, Hashable {
    /// The key in the graph file (`tokens`, `top_p`), snake_case.
    public var name: String
    /// Its type.
    public var type: ParameterType
    /// The value used when the key is absent; `nil` with `optional == false` makes it required.
    public var defaultValue: ParameterValue?
    /// Whether it may be absent without a default (the op then behaves as documented).
    public var optional: Bool
    /// Allowed numbers, for `int`, `float` and lists of them.
    public var range: ValueRange?
    /// Whether a string, or each string of a list, must have at least one character (an empty
    /// stop string would stop before the first token; an empty phrase is always present).
    public var nonEmpty: Bool
    /// One sentence: what it does, and the paper or measurement its default comes from.
    public var doc: String

    /// Creates a parameter.
    /// - Parameters:
    ///   - name: its key.
    ///   - type: its type.
    ///   - defaultValue: its default; `nil` for a required or optional-without-default parameter.
    ///   - optional: whether it may be left out without a default.
    ///   - range: allowed numbers.
    ///   - nonEmpty: whether strings must not be empty.
    ///   - doc: what it does.
    public init(_ name: String, _ type: ParameterType, default defaultValue: ParameterValue? = nil,
                optional: Bool = false, range: ValueRange? = nil, nonEmpty: Bool = false, doc: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.optional = optional
        self.range = range
        self.nonEmpty = nonEmpty
        self.doc = doc
    }

    /// Whether the graph must give it.
    public var isRequired: Bool { defaultValue == nil && !optional }

    /// The type and range as one phrase (`int in [1, 64]`).
    public var typeSummary: String {
        if nonEmpty {
            if case .list = type { return "\(type), each non-empty" }
            return "\(type), non-empty"
        }
        guard let range else { return type.description }
        if case .list = type { return "\(type), each in \(range)" }
        return range.description.first == "[" || range.description.first == "(" ? "\(type) in \(range)" : "\(type) \(range)"
    }
}
