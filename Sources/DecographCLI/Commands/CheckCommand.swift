import Graph

extension CommandSpec {
    /// `decograph check GRAPH…`: compiles graphs and reports every mistake.
    static let check = CommandSpec(
        "check",
        abstract: "Check graph files and report every mistake as path:line:col: error: message.",
        discussion: "Exits 1 when any graph has an error (diagnostics on standard error), 0 otherwise, printing 'PATH: ok' for each graph.",
        positionals: [PositionalSpec("GRAPH", variadic: true, help: "Graph files to check.")],
        body: { arguments, context in
            var failed = false
            for path in arguments.positionals {
                if DecographCLI.compileGraph(path, context: context) == nil {
                    failed = true
                } else {
                    context.print("\(path): ok")
                }
            }
            return failed ? 1 : 0
        })
}
