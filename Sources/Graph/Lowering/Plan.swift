/// A checked graph lowered for execution: node instances bound to shared models and stores, the
/// per-step schedule, the limits, and what the runtime must support.
///
/// A plan is an immutable value: every session and every hypothesis of a run reads the same plan,
/// and per-hypothesis state lives in the engine, so one plan serves concurrent sessions.
public struct Plan: Sendable, Hashable {
    /// A model, store or constraint the plan binds nodes to, shared by name across the process.
    public struct Resource: Sendable, Hashable {
        /// Qualified name (`spec/draft` for one declared in a subgraph).
        public var name: String
        /// `path` resolved against the declaring file's directory, when it has one.
        public var path: String?
        /// Every field, defaults included.
        public var fields: [String: ParameterValue]
        /// Where it was declared.
        public var location: SourceLocation
    }

    /// One input port of a node and the nodes feeding it.
    public struct Input: Sendable, Hashable {
        /// The port's name.
        public var port: String
        /// Indices into `nodes`, in the order written.
        public var sources: [Int]
        /// Whether it reads this step's values or the previous step's.
        public var timing: PortSpec.Timing
    }

    /// One node instance.
    public struct Node: Sendable, Hashable {
        /// Its index in `nodes`.
        public var index: Int
        /// Qualified name.
        public var name: String
        /// Its op's name (look the spec up in the registry the plan was compiled with).
        public var op: String
        /// Its op's family.
        public var family: OpFamily
        /// Every parameter's value, defaults filled in; references hold qualified names.
        public var parameters: [String: ParameterValue]
        /// The parameters written in the graph (the others are defaults).
        public var written: Set<String>
        /// Its connected input ports.
        public var inputs: [Input]
        /// What it produces.
        public var outputType: PortType
        /// Properties its output carries (draft probabilities, …).
        public var properties: Set<PortProperty>
        /// The step-schedule stage it runs in (0-based).
        public var stage: Int
        /// Where it was declared.
        public var location: SourceLocation
        /// The compiled graph of each `graphFile` parameter, by parameter name (a `draft.graph`
        /// node's inner graph); empty for other nodes.
        public var graphs: [String: Plan] = [:]
    }

    /// The stop conditions of a run.
    public struct Limits: Sendable, Hashable {
        /// Generated tokens after which the run stops.
        public var maxNewTokens: Int
        /// Strings whose appearance stops the run.
        public var stop: [String]
        /// Token ids that stop the run after being emitted.
        public var stopTokenIDs: [Int]
        /// Whether the end-of-sequence token is ignored.
        public var ignoreEOS: Bool
    }

    /// `graph:`, or the file name when absent.
    public var name: String
    /// `description:`.
    public var description: String?
    /// The root graph file.
    public var file: String
    /// Models the nodes use.
    public var models: [Resource]
    /// Stores the nodes use.
    public var stores: [Resource]
    /// Constraints the nodes use.
    public var constraints: [Resource]
    /// The graph's declared parameters (`params:`), with their defaults: what a caller may set
    /// (`GraphCompiler.compile(file:arguments:edit:)`).
    public var parameters: [ParameterSpec] = []
    /// Every node instance, in declaration order (subgraph nodes where their `use:` stands).
    public var nodes: [Node]
    /// The schedule of one step: stage by stage, the nodes of a stage depend only on earlier
    /// stages, so they may run in parallel.
    public var stages: [[Int]]
    /// The node whose selection (or frontier) is committed each step.
    public var output: Int
    /// Stop conditions.
    public var limits: Limits
    /// Runtime features the plan needs, sorted.
    public var capabilities: [RuntimeCapability]
    /// The nodes that make the committed tokens approximate their model's (early exits, a small
    /// model standing in), with the reason each op gives; empty for a lossless graph.
    public var approximations: [Approximated]

    /// A node whose output only approximates its model and that the committed tokens depend on.
    public struct Approximated: Sendable, Hashable {
        /// Index into `nodes`.
        public var node: Int
        /// The op's reason.
        public var reason: String
    }

    /// Whether the committed tokens are exactly what the graph's models decide: no node they
    /// depend on approximates its model. Drafts never count — a verifier decides what they are
    /// worth — so speculative graphs are lossless when their scores are.
    public var isLossless: Bool { approximations.isEmpty }

    /// The approximating nodes and their reasons (`'exit' (score.exit) exits …`), for messages.
    public var lossyDescription: String {
        approximations.map { "'\(nodes[$0.node].name)' (\(nodes[$0.node].op)) \($0.reason)" }.joined(separator: "; ")
    }

    /// The node with this qualified name.
    /// - Parameter name: the name.
    /// - Returns: the node, if present.
    public func node(named name: String) -> Node? { nodes.first { $0.name == name } }
}
