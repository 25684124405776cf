import Graph
@testable import Operators

/// A drafting graph for op tests: the given drafter nodes, then `s: score` over `tree`, greedy
/// `sample` and `verify`, compiled with the real registry (defaults filled in).
enum DraftedGraph {
    /// Compiles the graph.
    /// - Parameters:
    ///   - drafters: node lines (YAML, one per line, without indentation).
    ///   - tree: the node `score` reads.
    /// - Returns: the compilation (its plan, or its diagnostics).
    static func compile(_ drafters: [String], tree: String) -> GraphCompiler.Compilation {
        let source = """
            graph: g
            models: { target: { path: t } }
            nodes:
            \(drafters.map { "  " + $0 }.joined(separator: "\n"))
              s: { op: score, model: target, tree: \(tree) }
              p: { op: sample, from: s, temperature: 0 }
              v: { op: verify, from: p }
            output: v
            """
        return GraphCompiler(registry: OperatorRegistry.all).compile(source: source, file: "g.yaml")
    }

    /// A node of the compiled graph with an environment without stores or constraints.
    /// - Parameters:
    ///   - name: the node.
    ///   - drafters: as `compile`.
    ///   - tree: as `compile`.
    /// - Returns: the node and the environment to bind it with.
    /// - Throws: when the graph does not compile or has no such node.
    static func node(_ name: String, of drafters: [String], tree: String) throws -> (Plan.Node, DepthScheduleTests.NoResources) {
        let result = compile(drafters, tree: tree)
        guard let plan = result.plan, let node = plan.node(named: name) else {
            throw OperatorError(.invalidParameter, at: name, "\(result.rendered)")
        }
        return (node, DepthScheduleTests.NoResources(plan: plan))
    }
}
