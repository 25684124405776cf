import Graph

extension CommandSpec {
    /// `decograph graph GRAPH --dot`: draws the lowered plan.
    static let graph = CommandSpec(
        "graph",
        abstract: "Draw a graph's lowered plan as Graphviz DOT (pipe into 'dot -Tsvg').",
        options: [.flag("dot", help: "Print Graphviz DOT (the only format, and the default).")],
        positionals: [PositionalSpec("GRAPH", help: "The graph file.")],
        body: { arguments, context in
            guard let plan = DecographCLI.compileGraph(arguments.positionals[0], context: context) else { return 1 }
            context.write(plan.dot())
            return 0
        })
}
