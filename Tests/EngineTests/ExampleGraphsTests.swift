import Foundation
import Graph
import Operators
import Testing

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
}
