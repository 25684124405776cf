import Graph

extension CommandSpec {
    /// `decograph ops [--json | --markdown]`: the op reference from the registry.
    static let ops = CommandSpec(
        "ops",
        abstract: "List every op with its parameters (type, default, range), ports and output.",
        discussion: "--markdown prints the generated part of docs/graph-language.md (a test keeps the file equal to it).",
        options: [.flag("json", help: "Print JSON for scripts and editors."),
                  .flag("markdown", help: "Print the generated reference section of docs/graph-language.md.")],
        body: { arguments, context in
            let registry = DecographCLI.operatorRegistry()
            if arguments.flag("json"), arguments.flag("markdown") {
                throw UsageError("'--json' and '--markdown' cannot be combined.", usage: "Usage: decograph ops [options]")
            }
            if arguments.flag("json") {
                context.write(registry.jsonReference())
            } else if arguments.flag("markdown") {
                context.write(GraphReference.markdown(registry: registry))
            } else {
                context.write(registry.textReference())
            }
            return 0
        })
}
