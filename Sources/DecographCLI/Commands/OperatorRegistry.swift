import Graph
import Operators

extension DecographCLI {
    /// The ops every command compiles graphs against — the one place the CLI learns which ops
    /// exist: the Operators module's registry.
    /// - Returns: the registry.
    public static func operatorRegistry() -> OpRegistry {
        OperatorRegistry.all
    }

    /// Compiles a graph file, printing its diagnostics (errors and warnings) on standard error.
    /// - Parameters:
    ///   - path: the graph file.
    ///   - context: where diagnostics go.
    /// - Returns: the plan, or `nil` when the graph has errors.
    static func compileGraph(_ path: String, context: CommandContext) -> Plan? {
        let result = GraphCompiler(registry: operatorRegistry()).compile(file: path)
        for diagnostic in result.diagnostics { context.printError(diagnostic.description) }
        return result.plan
    }
}
