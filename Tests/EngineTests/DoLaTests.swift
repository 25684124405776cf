import Foundation
import Graph
import Testing
@testable import Engine

/// graphs/dola.yaml against transformers 4.46.3's own DoLa (`generate(dola_layers:,
/// repetition_penalty:)`, float32) on the demo target: token for token, for the 8 prompts of
/// examples/prompts.txt under three settings — the `high` bucket (layers 3 and 5: the
/// Jensen–Shannon choice between two), the `low` bucket (layer 2 alone: the embeddings are tied, so
/// transformers starts at 2) and an explicit list without the penalty
/// (`tools/oracle/make_transformers4_fixtures.py`).
@Suite struct DoLaTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var prompt: [Int32]
            var layers: String
            var repetition_penalty: Double
            var generated: [Int32]

            enum CodingKeys: String, CodingKey { case prompt, dola_layers, repetition_penalty, generated }

            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                prompt = try c.decode([Int32].self, forKey: .prompt)
                repetition_penalty = try c.decode(Double.self, forKey: .repetition_penalty)
                generated = try c.decode([Int32].self, forKey: .generated)
                if let bucket = try? c.decode(String.self, forKey: .dola_layers) {
                    layers = "premature: \(bucket)"
                } else {
                    layers = "premature_layers: \(try c.decode([Int].self, forKey: .dola_layers))"
                }
            }
        }
        var new_tokens: Int
        var cases: [Case]
    }

    static let fixture: Fixture = {
        let path = DemoGraphs.repository + "/Tests/Fixtures/operators/dola.json"
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }()

    @Test(arguments: ["premature: high", "premature: low", "premature_layers: [1, 3]"])
    func matchesTransformers(layers: String) throws {
        let cases = Self.fixture.cases.filter { $0.layers == layers }
        #expect(cases.count == 8)
        let plan = try DemoGraphs.plan("dola.yaml", edits: [
            ("premature: high", layers),
            ("repetition_penalty: 1.2", "repetition_penalty: \(cases[0].repetition_penalty)"),
            ("limits: { max_new_tokens: 256 }", "limits: { max_new_tokens: \(Self.fixture.new_tokens) }"),
        ])
        let session = try Session(plan: plan, resources: DemoGraphs.resources)
        let greedy = try Session(plan: try DemoGraphs.plan("greedy.yaml", edits: [("max_new_tokens: 256", "max_new_tokens: \(Self.fixture.new_tokens)")]),
                                 resources: DemoGraphs.resources)
        var differsFromGreedy = false
        for c in cases {
            let result = try session.run(prompt: c.prompt)
            if try greedy.run(prompt: c.prompt).tokens != result.tokens { differsFromGreedy = true }
            #expect(result.tokens == c.generated, "\(layers), prompt \(c.prompt)")
            #expect(result.metrics.targetCalls == result.tokens.count, "one full pass per token, the premature layers read inside it")
        }
        #expect(differsFromGreedy, "the contrast changes some choices")
    }
}
