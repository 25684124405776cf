import Foundation
import Graph
import ModelRuntime
import NGramStore
import Constraints
import Testing
@testable import Operators

/// `score.depth` and `score.exit` without a model: the schedules' budgets and layer sets, and the
/// exit measures, against their definitions.
@Suite struct DepthScheduleTests {
    /// An environment with no stores or constraints: the ops here bind none.
    struct NoResources: OperatorEnvironment {
        let plan: Plan
        func store(named name: String, writable: Bool) throws -> NGramStore { throw OperatorError(.invalidParameter, at: name, "no stores here") }
        func constraintVocabulary() throws -> TokenVocabulary { throw OperatorError(.invalidParameter, at: "constraint", "no vocabulary here") }
    }

    /// The node `op` of a one-node graph compiled with the real registry (defaults filled in).
    static func node(_ op: String, _ fields: String) throws -> (Plan.Node, NoResources) {
        let source = """
            graph: g
            models: { target: { path: t } }
            nodes:
              n: { op: \(op), model: target\(fields.isEmpty ? "" : ", " + fields) }
              p: { op: sample, from: n, temperature: 0 }
              v: { op: verify, from: p }
            output: v
            """
        let result = GraphCompiler(registry: OperatorRegistry.all).compile(source: source, file: "g.yaml")
        let plan = try #require(result.plan, "\(result.rendered)")
        return (try #require(plan.node(named: "n")), NoResources(plan: plan))
    }

    static func depthOp(_ fields: String) throws -> DepthOp {
        let (node, environment) = try node("score.depth", fields)
        return try DepthOp(node: node, environment: environment)
    }

    @Test func decayIsD3sPowerLawAboveTheFloor() throws {
        let op = try Self.depthOp("alpha: 0.99, min_layers: 10")
        for i in [0, 1, 10, 50, 100, 1000] {
            let expected = max(10, Int((30 * Foundation.pow(0.99, Double(i))).rounded(.down)))
            #expect(op.budget(at: i, of: 30) == expected, "token \(i)")
        }
        #expect(op.budget(at: 0, of: 30) == 30)
    }

    @Test func linearIsSkipDecodesLine() throws {
        let op = try Self.depthOp("schedule: linear, span: 100, min_layers: 10, max_layers: 26")
        #expect(op.budget(at: 0, of: 30) == 26)
        #expect(op.budget(at: 50, of: 30) == 18)
        #expect(op.budget(at: 100, of: 30) == 10)
        #expect(op.budget(at: 5000, of: 30) == 10)
        // A budget whose top is below its floor is refused when the graph is checked.
        let source = "graph: g\nmodels: { target: { path: t } }\nnodes:\n  n: { op: score.depth, model: target, max_layers: 3, min_layers: 4 }\n  p: { op: sample, from: n }\n  v: { op: verify, from: p }\noutput: v\n"
        let refused = GraphCompiler(registry: OperatorRegistry.all).compile(source: source, file: "g.yaml")
        #expect(refused.plan == nil)
        #expect(refused.rendered.contains("g.yaml:4:52: error: 'max_layers' of node 'n' (score.depth): 3 is below min_layers 4"), "\(refused.rendered)")
    }

    /// The property both papers build on: a later token runs a subset of an earlier one's layers,
    /// so its attention finds keys and values at every earlier position.
    @Test(arguments: ["upper", "lower", "middle"])
    func laterTokensRunSubsetsOfEarlierOnes(drop: String) throws {
        for schedule in ["decay", "linear"] {
            let op = try Self.depthOp("schedule: \(schedule), drop: \(drop), alpha: 0.97, span: 40, min_layers: 1, head_layers: 3")
            var previous = LayerSelection.all(12)
            for i in 0..<80 {
                let n = op.budget(at: i, of: 12)
                let selection = try op.selection(layers: n, of: 12)
                #expect(selection.layers.count == n)
                #expect(previous.covers(selection), "\(schedule) \(drop) token \(i): \(selection) after \(previous)")
                previous = selection
            }
            #expect(previous.layers.count == 1)
        }
        let middle = try Self.depthOp("drop: middle, head_layers: 2")
        #expect(try middle.selection(layers: 5, of: 12).layers == [0, 1, 9, 10, 11])
        #expect(try Self.depthOp("drop: lower").selection(layers: 5, of: 12).layers == [7, 8, 9, 10, 11])
    }

    @Test func exitMeasures() throws {
        // Margin: softmax of (ln 6, ln 3, ln 1) is (0.6, 0.3, 0.1).
        let logits: [Float] = [Foundation.log(6), Foundation.log(3), 0]
        #expect(abs(ExitOp.softmaxMargin(logits[...]) - 0.3) < 1e-6)
        #expect(ExitOp.softmaxMargin([2, 2][...]) == 0)
        #expect(abs(ExitOp.cosine([1, 0][...], [1, 1][...]) - 0.5.squareRoot()) < 1e-12)
        #expect(ExitOp.cosine([0, 0][...], [1, 1][...]) == 0)
        let (node, environment) = try Self.node("score.exit", "threshold: 0.5, every: 4, min_layers: 6")
        let op = try ExitOp(node: node, environment: environment)
        #expect(try op.depths(of: 16) == [6, 10, 14])
        #expect(throws: OperatorError.self) { try op.depths(of: 6) }
    }
}
