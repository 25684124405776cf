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
    /// The path of a graph file, relative to the file naming it: a graph the node runs inside
    /// itself (`draft.graph`). The compiler compiles it too, into `Plan.Node.graphs`.
    case graphFile

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
        case .graphFile: "graph file"
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
