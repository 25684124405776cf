import Foundation
import Graph
import Operators
import Testing
@testable import Engine

/// graphs/ holds runnable examples: each compiles against the real op registry and opens with a
/// comment naming its method.
@Suite struct ExampleGraphsTests {
    static let files: [String] = {
        let directory = GraphGreedyIdentityTests.graphsDirectory
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    @Test func theMethodsOfTheIssueAreThere() {
        #expect(Set(Self.files).isSuperset(of: ["greedy.yaml", "sampling.yaml", "speculative.yaml", "lookup.yaml", "tree.yaml", "beam.yaml"]))
    }

    @Test(arguments: files)
    func compilesAndNamesItsMethod(file: String) throws {
        let path = GraphGreedyIdentityTests.graphsDirectory + "/" + file
        let result = GraphCompiler(registry: OperatorRegistry.all).compile(file: path)
        #expect(result.diagnostics.isEmpty, "\(result.rendered)")
        let first = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").first ?? ""
        #expect(first.hasPrefix("# ") && first.contains("("), "first line must name the method and its paper: \(first)")
    }

    /// The compiler decides from an op's type whether it keeps per-hypothesis state (searches that
    /// re-open hypotheses refuse such graphs); every op the example graphs bind must agree with
    /// what its instances do.
    @Test func statefulOpsSayTheyAre() throws {
        var checked = Set<String>()
        for file in Self.files {
            let text = try String(contentsOfFile: GraphGreedyIdentityTests.graphsDirectory + "/" + file, encoding: .utf8)
            guard !text.contains("stores:") else { continue }
            let session = try Session(plan: try DemoGraphs.plan(file))
            for case .hypothesis(let op) in session.ops {
                #expect((try op.makeState() != nil) == type(of: op).keepsHypothesisState, "\(type(of: op)) in \(file)")
                checked.insert(String(describing: type(of: op)))
            }
        }
        #expect(checked.isSuperset(of: ["ConstrainJSONSchemaOp", "DraftModelOp", "DraftLookupOp", "DraftSuffixOp", "ContrastiveSearchOp", "RouteOp", "ScoreOp", "SampleOp"]), "\(checked)")
    }
}
