import Constraints
@testable import Operators
import Testing
@testable import Engine

/// `search.mcts` through the engine: simulations forked by longest shared prefix give what the
/// search gives on fresh contexts, one pass per step; a command reward reads the program's verdict.
@Suite struct MCTSSessionTests {
    static func yaml(_ reward: String) -> String {
        """
        graph: mcts
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          tree: { op: search.mcts, from: scores, simulations: 12, parallel: 3, branch: 3, \(reward) }
        output: tree
        limits: { max_new_tokens: 8 }
        """
    }

    @Test func engineSearchMatchesDirectSearch() throws {
        let resources = ResourceRegistry(pool: Fixtures.resources.pool)
        let session = try Session(plan: try Fixtures.plan(Self.yaml("reward: loglik")), resources: resources)
        let service = try resources.model(at: Fixtures.target)
        for prompt: [Int32] in [[1, 7, 9], [4, 4, 4, 20]] {
            let passes = service.counters.passes
            let engine = try session.run(prompt: prompt)
            // One pass per step, plus a prefill pass in a step where a re-opened simulation lacks two or
            // more tokens of its prefix (the scorer feeds those without their logits first).
            let used = service.counters.passes - passes
            #expect(used >= engine.metrics.steps + 1 && used <= 2 * engine.metrics.steps + 1)
            let search = try TokenMCTS(simulations: 12, parallel: 3, branch: 3, exploration: 1, maxNewTokens: 8, eosTokens: session.eosTokens,
                                       reward: { _, mean in mean })
            var state = try search.start()
            let fresh = FreshScorer(service: service)
            while !state.isDone {
                try search.step(&state, logits: state.running.map { try fresh.nextLogits(context: prompt + $0) })
            }
            #expect(engine.candidates.map(\.tokens) == state.finished.map(\.tokens), "prompt \(prompt)")
            #expect(engine.tokens == state.finished.first?.tokens)
        }
    }

    /// A constraint reward on the demo target (it has a tokenizer): each candidate's score is its
    /// text's validity under the declared regex, as a byte walk of the constraint gives it.
    @Test func constraintRewardScoresValidity() throws {
        let plan = try DemoGraphs.plan("mcts.yaml", edits: [
            ("models:", "constraints:\n  ret: { kind: regex, pattern: \"\\n    return [a-z]+\\n\" }\nmodels:"),
            ("simulations: 32, parallel: 4, branch: 3, exploration: 1.0, reward: loglik", "simulations: 10, parallel: 2, branch: 3, reward: constraint, constraint: ret"),
            ("max_new_tokens: 32", "max_new_tokens: 8"),
        ])
        let session = try Session(plan: plan)
        let result = try session.run(prompt: try #require(session.tokenizer).encode("def add(a, b):"))
        #expect(!result.candidates.isEmpty)
        let grammar = try Grammar.regex("\n    return [a-z]+\n")
        for candidate in result.candidates {
            let text = Array(try #require(session.tokenizer).decode(candidate.tokens, skipSpecialTokens: true).utf8)
            #expect(Double(candidate.score) == Double(Float(ConstraintReward.score(text, grammar: grammar))), "\(candidate.tokens)")
        }
        #expect(zip(result.candidates, result.candidates.dropFirst()).allSatisfy { $0.score >= $1.score })
    }

    @Test func commandRewardRanksByTheProgramsVerdict() throws {
        // Without a tokenizer the program reads the token ids: reward 1 for outputs holding " 2 ".
        let session = try Session(plan: try Fixtures.plan(Self.yaml("reward: command, command: [\"grep\", \"-q\", \" 2 \"], timeout: 5")))
        let result = try session.run(prompt: [1, 7, 9])
        #expect(!result.candidates.isEmpty)
        for candidate in result.candidates {
            let text = " " + candidate.tokens.map(String.init).joined(separator: " ") + " "
            #expect(candidate.score == (text.contains(" 2 ") ? 1 : 0), "\(candidate.tokens)")
        }
        #expect(zip(result.candidates, result.candidates.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(throws: (any Error).self) { try Fixtures.plan(Self.yaml("reward: command")) }
        #expect(throws: (any Error).self) { try Fixtures.plan(Self.yaml("command: [\"true\"]")) }
    }
}
