/// One graph file's sections, shaped but not yet checked against the op registry: the located
/// AST of the graph language.
public struct GraphDocument: Sendable {
    /// A named entry of `models`, `stores`, `constraints` or `params`: its fields as written.
    public struct Entry: Sendable, Hashable {
        /// The entry's name and where it was written.
        public var name: Located<String>
        /// Its fields in file order.
        public var fields: [YAMLNode.Entry]
        /// Where its mapping starts.
        public var location: SourceLocation
    }

    /// One entry of `nodes`.
    public struct Node: Sendable, Hashable {
        /// What a node is.
        public enum Body: Sendable, Hashable {
            /// An op, with its fields (parameters and ports) other than `op`.
            case op(Located<String>, fields: [YAMLNode.Entry])
            /// Another graph file used as a subgraph, with its parameter values.
            case use(Located<String>, with: [YAMLNode.Entry])
        }
        /// The node's name and where it was written.
        public var name: Located<String>
        /// Op or subgraph.
        public var body: Body

        /// Creates a node.
        public init(name: Located<String>, body: Body) {
            self.name = name
            self.body = body
        }
    }

    /// The file's path as the user named it.
    public var file: String
    /// `graph:`, the graph's name.
    public var name: Located<String>?
    /// `description:`.
    public var description: String?
    /// `params:`, the parameters a subgraph takes from its `use:`.
    public var params: [Entry] = []
    /// `models:`.
    public var models: [Entry] = []
    /// `stores:`.
    public var stores: [Entry] = []
    /// `constraints:`.
    public var constraints: [Entry] = []
    /// `nodes:` in file order.
    public var nodes: [Node] = []
    /// `output:`.
    public var output: Located<String>?
    /// `lossless:`, the author's claim that the committed tokens are exactly the models' (the
    /// compiler refuses it when a node they depend on approximates its model).
    public var lossless: Located<Bool>?
    /// `limits:` fields, and where the mapping is.
    public var limits: (fields: [YAMLNode.Entry], location: SourceLocation)?
    /// Where the document starts (diagnostics about a missing section point here).
    public var start: SourceLocation

    /// Creates an empty document.
    /// - Parameter file: the file's path.
    public init(file: String) {
        self.file = file
        start = SourceLocation(file: file, line: 1, column: 1)
    }
}
