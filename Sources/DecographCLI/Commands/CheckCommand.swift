import Graph

extension CommandSpec {
    /// `decograph check GRAPH…`: compiles graphs and reports every mistake.
    static let check = CommandSpec(
        "check",
        abstract: "Check graph files and report every mistake as path:line:col: error: message.",
        discussion: "Exits 1 when any graph has an error (diagnostics on standard error), 0 otherwise, printing 'PATH: ok' for each graph, or 'PATH: ok, lossy: …' naming the nodes that make its output only approximate its models (early exits, a small model standing in).",
        positionals: [PositionalSpec("GRAPH", variadic: true, help: "Graph files to check.")],
        body: { arguments, context in
            var failed = false
            for path in arguments.positionals {
                guard let plan = DecographCLI.compileGraph(path, context: context) else {
                    failed = true
                    continue
                }
                context.print("\(path): ok" + (plan.isLossless ? "" : ", lossy: " + plan.lossyDescription))
            }
            return failed ? 1 : 0
        })
}
