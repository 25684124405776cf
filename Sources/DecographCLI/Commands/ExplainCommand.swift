import Graph

extension CommandSpec {
    /// `decograph explain GRAPH`: prints the lowered plan.
    static let explain = CommandSpec(
        "explain",
        abstract: "Print a graph's lowered plan: models, limits, runtime needs, the per-step schedule and every node.",
        options: [.flag("json", help: "Print the plan as JSON.")],
        positionals: [PositionalSpec("GRAPH", help: "The graph file.")],
        body: { arguments, context in
            guard let plan = DecographCLI.compileGraph(arguments.positionals[0], context: context) else { return 1 }
            context.write(arguments.flag("json") ? plan.json() : plan.explanation())
            return 0
        })
}
