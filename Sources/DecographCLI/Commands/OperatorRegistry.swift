import Foundation
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
    static func compileGraph(_ path: String, context: CommandContext, parameters: [String] = []) -> Plan? {
        let arguments = parameters.map { item -> (name: String, value: YAMLNode) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count == 2 ? String(parts[1]) : ""
            return (String(parts[0]), YAMLNode(.scalar(value, plain: true), at: SourceLocation(file: "--param", line: 1, column: 1)))
        }
        let result = GraphCompiler(registry: operatorRegistry()).compile(file: path, arguments: arguments, edit: nil)
        for diagnostic in result.diagnostics { context.printError(diagnostic.description) }
        return result.plan
    }

    /// The `--model` option of the commands that run graphs.
    static let modelOption = OptionSpec.value(
        "model", "[NAME=]PATH",
        help: "Run the graph with this model directory or .gguf file in place of the one it declares: NAME=PATH for the model entry NAME, a bare PATH for 'target' (or the only model). Repeat it or comma-separate for several.")

    /// A plan with the models `--model` names put in place of the declared ones.
    /// - Parameters:
    ///   - plan: the compiled plan.
    ///   - option: the option's value (`PATH` or `NAME=PATH,…`), `nil` when not given.
    /// - Returns: the plan with the paths replaced.
    /// - Throws: `CommandFailure` naming an unknown model entry or a path that does not exist.
    static func replacingModels(in plan: Plan, option: String?) throws -> Plan {
        guard let option else { return plan }
        var plan = plan
        for item in option.split(separator: ",").map(String.init) {
            let name: String
            let path: String
            if let equals = item.firstIndex(of: "="), !FileManager.default.fileExists(atPath: item) {
                name = String(item[..<equals])
                path = String(item[item.index(after: equals)...])
            } else if plan.models.contains(where: { $0.name == "target" }) || plan.models.count != 1 {
                name = "target"
                path = item
            } else {
                name = plan.models[0].name
                path = item
            }
            guard let index = plan.models.firstIndex(where: { $0.name == name }) else {
                let names = plan.models.map(\.name).joined(separator: ", ")
                throw CommandFailure("--model \(item): the graph declares no model '\(name)' (its models: \(names.isEmpty ? "none" : names))")
            }
            guard FileManager.default.fileExists(atPath: path) else {
                throw CommandFailure("--model \(item): '\(path)' does not exist (a model directory or a .gguf file)")
            }
            plan.models[index].path = path
        }
        return plan
    }
}
