import Graph
import ModelRuntime
import Operators
import Testing
@testable import Engine

/// DESIGN.md's oracle: under greedy decoding every lossless graph emits exactly the tokens of
/// plain greedy decoding of the same target, here computed without the engine, one forward per
/// token on a fresh sequence.
@Suite struct GreedyIdentityTests {
    static let newTokens = 128
    static let limits = "limits: { max_new_tokens: \(newTokens), ignore_eos: true }"

    /// The lossless graphs of graphs/, written against the fixture models.
    static let graphs: [(name: String, nodes: String)] = [
        ("greedy", """
          scores: { op: score, model: target }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        """),
        ("speculative", """
          small: { op: draft.model, model: draft, tokens: 3 }
          scores: { op: score, model: target, tree: small }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        """),
        ("lookup", """
          recall: { op: draft.lookup, tokens: 6, min_match: 1, max_match: 3 }
          scores: { op: score, model: target, tree: recall }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        """),
        ("tree", """
          small: { op: draft.model, model: draft, tokens: 2 }
          recall: { op: draft.lookup, tokens: 6 }
          merged: { op: tree.merge, from: [small, recall], budget: 12 }
          scores: { op: score, model: target, tree: merged }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        """),
    ]

    /// 20 prompts: random ids, and repetitive ones where lookup finds matches at once.
    static let prompts: [[Int32]] = {
        var rng = Xoshiro256StarStar(seed: 20_261_124)
        return (0..<20).map { i in
            let length = 3 + i % 9
            let base = (0..<length).map { _ in Int32(rng.next() % 80) }
            return i % 3 == 0 ? base + base : base
        }
    }()

    static func yaml(_ nodes: String) -> String {
        "graph: identity\n\(Fixtures.models)\nnodes:\n\(nodes)\noutput: accept\n\(limits)\n"
    }

    /// Plain greedy decoding: argmax after each token, one forward per token.
    static func reference(_ prompt: [Int32], model: Model) throws -> [Int32] {
        let sequence = model.makeSequence()
        var logits = try model.forward([ForwardItem(sequence: sequence, tokens: prompt, outputs: .last)])[0]
        var out: [Int32] = []
        while out.count < newTokens {
            let next = Int32(Distribution.argmax(Array(logits.row(0))))
            out.append(next)
            logits = try model.forward([ForwardItem(sequence: sequence, tokens: [next], outputs: .last)])[0]
        }
        return out
    }

    static let expected: [[Int32]] = {
        let model = try! Fixtures.resources.model(at: Fixtures.target).model
        return prompts.map { try! reference($0, model: model) }
    }()

    @Test(arguments: graphs.map(\.name))
    func losslessGraphMatchesGreedy(name: String) throws {
        let nodes = try #require(Self.graphs.first { $0.name == name }).nodes
        let session = try Session(plan: try Fixtures.plan(Self.yaml(nodes)), resources: Fixtures.resources)
        var targetCalls = 0
        for (prompt, expected) in zip(Self.prompts, Self.expected) {
            let result = try session.run(prompt: prompt)
            #expect(result.tokens == expected, "graph \(name), prompt \(prompt)")
            #expect(result.finishReason == "max_tokens")
            targetCalls += result.metrics.targetCalls
        }
        let tokens = Self.prompts.count * Self.newTokens
        if name == "greedy" {
            #expect(targetCalls == tokens)
        } else {
            // Drafts must be accepted sometimes, or the test would not exercise verification.
            #expect(targetCalls < tokens, "graph \(name) accepted no draft token in \(tokens) tokens")
        }
    }
}
