import Foundation
import Graph
import ModelRuntime
import Operators
import NGramStore
import Constraints
import Testing
@testable import Engine

/// `score.focus` (Dynamic Focus Decoding) against transformers: the per-step temperature its
/// output implies — the final logits divided by it — equals the one computed from transformers'
/// own hidden states and LM head (`tools/oracle/make_focus_fixture.py`), at the end of each of the
/// 8 prompts, under the reference defaults and a variant with explicit layers.
@Suite struct FocusOpTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var prompt: [Int32]
            var layers: [Int]?
            var relative_top: Double
            var base_temperature: Double
            var sigma: Double
            var temperature: Double
        }
        var cases: [Case]
    }

    static let fixture: Fixture = {
        let path = DemoGraphs.repository + "/Tests/Fixtures/operators/focus.json"
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }()

    @Test func temperatureMatchesTransformers() throws {
        let model = try DemoGraphs.resources.model(at: DemoGraphs.repository + "/models/demo-target")
        #expect(Self.fixture.cases.count == 16)
        var distinct = Set<Int>()
        for c in Self.fixture.cases {
            let layers = c.layers.map { ", focus_layers: \($0)" } ?? ""
            let source = """
                graph: g
                models: { target: { path: m } }
                nodes:
                  f: { op: score.focus, model: target, relative_top: \(c.relative_top), base_temperature: \(c.base_temperature), sigma: \(c.sigma)\(layers) }
                  p: { op: sample, from: f }
                  v: { op: verify, from: p }
                output: v
                """
            let plan = try #require(GraphCompiler(registry: OperatorRegistry.all).compile(source: source, file: "g.yaml").plan)
            let op = try FocusOp(node: try #require(plan.node(named: "f")), environment: NoResourcesEnvironment(plan: plan))
            var rng = Xoshiro256StarStar(seed: 0)
            let input = StepInput(history: LogitsContext(tokens: c.prompt, promptCount: c.prompt.count), inputs: [:],
                                  models: ["model": ModelSequenceScorer(service: model)])
            guard case .scores(_, let rows) = try op.run(input, rng: &rng) else { Issue.record("not scores"); return }
            let plain = try ModelSequenceScorer(service: model).nextLogits(context: c.prompt)
            // The implied temperature, read at the final distribution's top token.
            let top = plain.indices.max { plain[$0] < plain[$1] }!
            let implied = Double(plain[top]) / Double(rows[0][top])
            #expect(abs(implied - c.temperature) <= 1e-4 * c.temperature, "prompt \(c.prompt): \(implied) against \(c.temperature)")
            distinct.insert(Int((c.temperature * 1000).rounded()))
        }
        #expect(distinct.count > 4, "the temperature varies with the step")
    }
}

/// An environment with no stores or constraints, for building ops outside a session.
struct NoResourcesEnvironment: OperatorEnvironment {
    let plan: Plan
    func store(named name: String, writable: Bool) throws -> NGramStore { throw OperatorError(.invalidParameter, at: name, "no stores here") }
    func constraintVocabulary() throws -> TokenVocabulary { throw OperatorError(.invalidParameter, at: "constraint", "no vocabulary here") }
}
