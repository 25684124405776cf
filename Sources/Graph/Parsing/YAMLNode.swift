/// A YAML node with the place it was written: the located tree the graph compiler reads.
///
/// Only the three YAML kinds are kept. Scalars keep whether they were plain (unquoted), because
/// only a plain `6` is an integer; a quoted `"6"` is a string.
public struct YAMLNode: Sendable, Hashable {
    /// One `key: value` pair of a mapping, in file order.
    public struct Entry: Sendable, Hashable {
        /// The key (a scalar in graph files; other keys are reported as errors).
        public var key: YAMLNode
        /// The value.
        public var value: YAMLNode

        /// Creates a pair.
        public init(key: YAMLNode, value: YAMLNode) {
            self.key = key
            self.value = value
        }
    }

    /// The shape of a node.
    public enum Kind: Sendable, Hashable {
        /// A scalar's text, and whether it was written plain (unquoted, not a block scalar).
        case scalar(String, plain: Bool)
        /// A mapping's entries in file order (duplicate keys are reported, the first is kept).
        case mapping([Entry])
        /// A sequence's items.
        case sequence([YAMLNode])
    }

    /// What the node is.
    public var kind: Kind
    /// Where the node starts.
    public var location: SourceLocation

    /// Creates a node.
    /// - Parameters:
    ///   - kind: its shape and content.
    ///   - location: where it starts.
    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// The scalar text, if the node is a scalar.
    public var scalar: String? {
        if case .scalar(let text, _) = kind { return text }
        return nil
    }

    /// Whether the node is a plain scalar spelling YAML's null (`null`, `~`, or nothing).
    public var isNull: Bool {
        if case .scalar(let text, true) = kind { return text.isEmpty || text == "null" || text == "~" || text == "Null" || text == "NULL" }
        return false
    }

    /// A word for the node's kind, for messages (`a mapping`, `a list`, `'six'`).
    var kindDescription: String {
        switch kind {
        case .scalar(let text, _): "'\(text)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}
