import Foundation
import Graph

extension CommandSpec {
    /// `decograph check GRAPH…`: compiles graphs and reports every mistake.
    static let check = CommandSpec(
        "check",
        abstract: "Check graph files and report every mistake as path:line:col: error: message.",
        discussion: "Exits 1 when any graph has an error (diagnostics on standard error), 0 otherwise, printing 'PATH: ok' for each graph, or 'PATH: ok, lossy: …' naming the nodes that make its output only approximate its models (early exits, a small model standing in). A model path that does not exist is an error too (run would fail to load it); the model files are not read.",
        positionals: [PositionalSpec("GRAPH", variadic: true, help: "Graph files to check.")],
        body: { arguments, context in
            var failed = false
            for path in arguments.positionals {
                guard let plan = DecographCLI.compileGraph(path, context: context) else {
                    failed = true
                    continue
                }
                // Loading a model is run's work; a path that is not there is what it would fail on first.
                let missing = plan.models.filter { model in model.path.map { !FileManager.default.fileExists(atPath: $0) } ?? false }
                for model in missing {
                    context.printError("\(model.location): error: model '\(model.name)' cannot be loaded: \(model.path!): no such file or directory (a Hugging Face model directory or a .gguf file)")
                }
                guard missing.isEmpty else {
                    failed = true
                    continue
                }
                context.print("\(path): ok" + (plan.isLossless ? "" : ", lossy: " + plan.lossyDescription))
            }
            return failed ? 1 : 0
        })
}
