import Testing
import Foundation
@testable import Graph

/// The directory of the graph fixtures, found from this file.
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/graphs").path

@Suite struct GraphCompilerTests {
    let compiler = GraphCompiler(registry: TestRegistry.registry, baseDirectory: fixtures)

    @Test func registryIsConsistent() {
        #expect(TestRegistry.registry.validate() == [])
    }

    @Test func lowersMergedSpeculativeGraph() throws {
        let result = compiler.compile(file: "valid/speculative.yaml")
        #expect(result.rendered == "")
        let plan = try #require(result.plan)
        #expect(plan.name == "merged")
        let stage = { (name: String) in plan.node(named: name)!.stage }
        #expect(stage("small") == 0 && stage("recall") == 0)
        #expect(stage("tree") == 1 && stage("scores") == 2 && stage("pick") == 3 && stage("accept") == 4)
        #expect(plan.stages[0] == [0, 1])
        #expect(plan.capabilities == [.rollback, .tokenTrees])
        #expect(plan.models.map(\.path) == ["../models/target", "../models/draft"])
        #expect(plan.limits == Plan.Limits(maxNewTokens: 128, stop: ["\n\n"], stopTokenIDs: [], ignoreEOS: false))
        // Defaults are filled in, written values kept.
        let small = try #require(plan.node(named: "small"))
        #expect(small.parameters["tokens"] == .int(6))
        #expect(small.parameters["temperature"] == .float(0))
        #expect(small.parameters["model"] == .reference("draft"))
        #expect(small.written == ["model", "tokens", "min_prob"])
        // A merged tree of a probabilistic and a deterministic drafter: both are deterministic at temperature 0.
        #expect(plan.node(named: "tree")!.properties == [.deterministic])
        #expect(plan.nodes[plan.output].name == "accept")
    }

    @Test func expandsSubgraphsIntoNamespaces() throws {
        let result = compiler.compile(file: "valid/uses-subgraph.yaml")
        #expect(result.rendered == "")
        let plan = try #require(result.plan)
        let drafted = try #require(plan.node(named: "d/propose"))
        #expect(drafted.parameters["model"] == .reference("draft"))
        #expect(drafted.parameters["tokens"] == .int(6))
        let scores = try #require(plan.node(named: "scores"))
        #expect(scores.inputs.first?.sources == [drafted.index])
    }
}
