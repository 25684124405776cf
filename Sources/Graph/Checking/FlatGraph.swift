/// The graph with every `use:` node replaced by the subgraph's nodes, namespaced `use/sub`.
///
/// Names written in a subgraph resolve in its namespace; names passed in through `with:` resolve
/// where they were written. The expander marks a name already resolved by a leading `/`
/// (`/tree`), which no written name can start with, so the checker resolves both kinds alike.
struct FlatGraph {
    /// One op node.
    struct Node {
        /// Qualified name (`spec/draft`).
        var name: String
        /// The namespace its written names resolve in (`spec/`, or empty at the root).
        var scope: String
        /// Where its name was written.
        var location: SourceLocation
        /// Its op's name.
        var op: Located<String>
        /// Its fields other than `op`, with `$param`s substituted.
        var fields: [YAMLNode.Entry]
        /// Notes locating the `use:` chain that brought it in (empty at the root).
        var context: [Diagnostic]
    }

    /// One entry of `models`, `stores` or `constraints`.
    struct Resource {
        var name: String
        var values: [String: ParameterValue]
        var location: SourceLocation
        /// The directory of the file declaring it (paths are relative to it).
        var directory: String
    }

    var nodes: [Node] = []
    var models: [Resource] = []
    var stores: [Resource] = []
    var constraints: [Resource] = []
    /// A `use:` node's qualified name → its subgraph's qualified output, and where that output
    /// was named.
    var aliases: [String: (target: String, location: SourceLocation)] = [:]
    /// `use:` nodes whose subgraph could not be expanded (already reported): names that resolve
    /// to them are not reported again.
    var failedUses: Set<String> = []
    /// Values that stand for an already reported mistake (an unknown `$param`, a rejected `with:`
    /// value): later diagnostics at these places would repeat it.
    var suppressed: Set<SourceLocation> = []
}

/// The values of a graph's parameters, for `$name` substitution.
struct Bindings {
    /// Parameter name → value as written (references marked resolved).
    var values: [String: YAMLNode] = [:]
    /// Parameters that exist but whose value was rejected (reported already).
    var poisoned: Set<String> = []
}
