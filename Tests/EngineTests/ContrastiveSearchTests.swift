import Foundation
import Graph
import Testing
@testable import Engine

/// graphs/contrastive-search.yaml against transformers 4.46's own contrastive search
/// (`generate(penalty_alpha:, top_k:)`, float32) on the demo target: token for token, for the 8
/// prompts of examples/prompts.txt under three settings
/// (`tools/oracle/make_transformers4_fixtures.py`).
@Suite struct ContrastiveSearchTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var prompt: [Int32]
            var top_k: Int
            var penalty_alpha: Double
            var generated: [Int32]
        }
        var new_tokens: Int
        var cases: [Case]
    }

    static let fixture: Fixture = {
        let path = DemoGraphs.repository + "/Tests/Fixtures/operators/contrastive_search.json"
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }()

    @Test(arguments: [(4, 0.6), (2, 0.3), (6, 0.9)] as [(Int, Double)])
    func matchesTransformers(topK: Int, alpha: Double) throws {
        let cases = Self.fixture.cases.filter { $0.top_k == topK && $0.penalty_alpha == alpha }
        #expect(cases.count == 8)
        let plan = try DemoGraphs.plan("contrastive-search.yaml", edits: [
            ("top_k: 4, penalty_alpha: 0.6", "top_k: \(topK), penalty_alpha: \(alpha)"),
            ("limits: { max_new_tokens: 256 }", "limits: { max_new_tokens: \(Self.fixture.new_tokens) }"),
        ])
        #expect(plan.isLossless, "a method of its own, not an approximation")
        let session = try Session(plan: plan, resources: DemoGraphs.resources)
        var differsFromGreedy = false
        let greedy = try Session(plan: try DemoGraphs.plan("greedy.yaml", edits: [("max_new_tokens: 256", "max_new_tokens: \(Self.fixture.new_tokens)")]),
                                 resources: DemoGraphs.resources)
        for c in cases {
            let result = try session.run(prompt: c.prompt)
            #expect(result.tokens == c.generated, "top_k \(topK), alpha \(alpha), prompt \(c.prompt)")
            #expect(result.metrics.targetCalls == result.tokens.count + 1, "one pass per step, plus the first read of the prompt")
            if try greedy.run(prompt: c.prompt).tokens != result.tokens { differsFromGreedy = true }
        }
        #expect(differsFromGreedy, "the degeneration penalty changes some choices")
    }
}
