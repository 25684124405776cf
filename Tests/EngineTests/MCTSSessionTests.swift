import Constraints
import Graph
@testable import Operators
import Testing
@testable import Engine

/// `search.mcts` through the engine: simulations forked by longest shared prefix give what the
/// search gives on fresh contexts, one pass per step; a command reward reads the program's verdict.
@Suite struct MCTSSessionTests {
    /// An MCTS graph on the fixtures, its search's reward the node `judge` when one is given.
    static func yaml(judge: String? = nil, output: String = "tree", extra: String = "", rolloutBeams: Int = 1, parallel: Int = 3) -> String {
        """
        graph: mcts
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
        \(judge.map { "  judge: { op: reward, \($0) }" } ?? "")
          tree: { op: search.mcts, from: scores, simulations: 12, parallel: \(parallel), branch: 3, rollout_beams: \(rolloutBeams)\(judge == nil ? "" : ", reward: judge") }
        \(extra)
        output: \(output)
        limits: { max_new_tokens: 8 }
        """
    }

    @Test(arguments: [1, 2])
    func engineSearchMatchesDirectSearch(rolloutBeams: Int) throws {
        let resources = ResourceRegistry(pool: Fixtures.resources.pool)
        let session = try Session(plan: try Fixtures.plan(Self.yaml(rolloutBeams: rolloutBeams)), resources: resources)
        let service = try resources.model(at: Fixtures.target)
        for prompt: [Int32] in [[1, 7, 9], [4, 4, 4, 20]] {
            let passes = service.counters.passes
            let engine = try session.run(prompt: prompt)
            // One pass per step: the tokens a re-opened simulation lacks are fed in it (a chain that
            // returns only its last row); these short prompts ride in the first step's pass too.
            let used = service.counters.passes - passes
            #expect(used == engine.metrics.steps)
            let search = try TokenMCTS(simulations: 12, parallel: 3, branch: 3, exploration: 1, rolloutBeams: rolloutBeams, maxNewTokens: 8,
                                       eosTokens: session.eosTokens, reward: { _, mean in mean })
            var state = try search.start()
            let fresh = FreshScorer(service: service)
            while !state.isDone {
                try search.step(&state, logits: state.running.map { try fresh.nextLogits(context: prompt + $0) })
            }
            #expect(engine.candidates.map(\.tokens) == state.finished.map(\.tokens), "prompt \(prompt)")
            #expect(engine.tokens == state.finished.first?.tokens)
        }
    }

    /// Greedy roll-outs over a drafter's trees (prompt lookup, SuffixDecoding's suffix trees): with
    /// one simulation in flight, the same candidates as the undrafted search (their scores to the
    /// last bits), in fewer passes. (With several in flight, drafted roll-outs finish sooner, so later simulations start
    /// on other statistics: the same algorithm, another schedule.) A beam roll-out reads root rows
    /// only, so a drafter is refused there.
    @Test(arguments: ["{ op: draft.lookup, tokens: 4 }", "{ op: draft.suffix, tokens: 4 }"])
    func draftedRolloutsMatchTheSearchInFewerPasses(drafter: String) throws {
        let resources = ResourceRegistry(pool: Fixtures.resources.pool)
        let plain = try Session(plan: try Fixtures.plan(Self.yaml(parallel: 1)), resources: resources)
        let drafted = try Session(plan: try Fixtures.plan(Self.yaml(parallel: 1).replacingOccurrences(
            of: "  scores: { op: score, model: target }", with: "  recall: \(drafter)\n  scores: { op: score, model: target, tree: recall }")),
                                  resources: resources)
        let service = try resources.model(at: Fixtures.target)
        var plainPasses = 0, draftedPasses = 0
        // Prompts that repeat themselves, so the drafters find continuations.
        for prompt: [Int32] in [[1, 7, 9, 1, 7, 9, 1, 7], [4, 4, 4, 20, 4, 4, 4, 20, 4]] {
            var passes = service.counters.passes
            let expected = try plain.run(prompt: prompt)
            plainPasses += service.counters.passes - passes
            passes = service.counters.passes
            let result = try drafted.run(prompt: prompt)
            draftedPasses += service.counters.passes - passes
            #expect(result.candidates.map(\.tokens) == expected.candidates.map(\.tokens), "prompt \(prompt)")
            // A re-opened simulation's root row comes from the tree's kernels when its pass scores a
            // tree, from the prefill path when it does not: equal at most to the last bits.
            #expect(zip(result.candidates, expected.candidates).allSatisfy { abs($0.score - $1.score) <= 1e-5 * max(1, abs($1.score)) },
                    "prompt \(prompt)")
            #expect(result.tokens == expected.tokens)
        }
        // (A re-opened simulation whose pass scores a tree has its missing tokens prefilled in a
        // pass of their own, so passes exceed steps by those; still fewer in all.)
        #expect(draftedPasses < plainPasses, "\(draftedPasses) passes with drafts against \(plainPasses)")
        #expect(throws: (any Error).self) {
            try Fixtures.plan(Self.yaml(rolloutBeams: 2).replacingOccurrences(
                of: "  scores: { op: score, model: target }", with: "  recall: \(drafter)\n  scores: { op: score, model: target, tree: recall }"))
        }
    }

    /// A constraint reward on the demo target (it has a tokenizer): each candidate's score is its
    /// text's validity under the declared regex, as a byte walk of the constraint gives it.
    @Test func constraintRewardScoresValidity() throws {
        let plan = try DemoGraphs.plan("mcts.yaml", edits: [
            ("models:", "constraints:\n  ret: { kind: regex, pattern: \"\\n    return [a-z]+\\n\" }\nmodels:"),
            ("judge: { op: reward, by: loglik }", "judge: { op: reward, by: constraint, constraint: ret }"),
            ("simulations: 32, parallel: 4, branch: 3, exploration: 1.0", "simulations: 10, parallel: 2, branch: 3"),
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
        let session = try Session(plan: try Fixtures.plan(Self.yaml(judge: Self.grep)))
        let result = try session.run(prompt: [1, 7, 9])
        #expect(!result.candidates.isEmpty)
        for candidate in result.candidates {
            let text = " " + candidate.tokens.map(String.init).joined(separator: " ") + " "
            #expect(candidate.score == (text.contains(" 2 ") ? 1 : 0), "\(candidate.tokens)")
        }
        #expect(zip(result.candidates, result.candidates.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(throws: (any Error).self) { try Fixtures.plan(Self.yaml(judge: "by: command")) }
        #expect(throws: (any Error).self) { try Fixtures.plan(Self.yaml(judge: "command: [\"true\"]")) }
    }

    /// The judge of the command test: reward 1 for outputs whose token ids hold " 2 ".
    static let grep = "by: command, command: [\"grep\", \"-q\", \" 2 \"], timeout: 5"

    /// One reward node serves the search and a rerank of its results: the rerank's scores are the
    /// judge's verdicts, which are the search's own, so the order stands; a rerank of best-of-N
    /// samples by the same judge puts the outputs it rewards first.
    @Test func aRewardNodeServesTheSearchAndTheRerank() throws {
        let searched = try Session(plan: try Fixtures.plan(Self.yaml(judge: Self.grep)))
        let reranked = try Session(plan: try Fixtures.plan(Self.yaml(
            judge: Self.grep, output: "best", extra: "  best: { op: rerank, from: tree, by: reward, reward: judge }")))
        for prompt: [Int32] in [[1, 7, 9], [4, 4, 4, 20]] {
            let alone = try searched.run(prompt: prompt)
            let ranked = try reranked.run(prompt: prompt)
            #expect(ranked.candidates.map(\.tokens) == alone.candidates.map(\.tokens), "prompt \(prompt)")
            #expect(ranked.candidates.map(\.score) == alone.candidates.map(\.score), "prompt \(prompt)")
        }
        // Best-of-N samples reranked by another judge: the program counts the bytes of the text
        // it reads (the token ids, without a tokenizer), so longer renderings win.
        let samples = try Session(plan: try Fixtures.plan("""
            graph: best-of-n
            \(Fixtures.models)
            nodes:
              scores: { op: score, model: target }
              judge: { op: reward, by: command, command: ["wc", "-c"], timeout: 5 }
              dist: { op: sample, from: scores, temperature: 1.2 }
              drawn: { op: search.sample, from: dist, samples: 6, finish: all }
              best: { op: rerank, from: drawn, by: reward, reward: judge }
            output: best
            limits: { max_new_tokens: 8 }
            """))
        var orders = Set<[Float]>()
        for seed: UInt64 in 0..<4 {
            let result = try samples.run(prompt: [1, 7, 9], seed: seed)
            let verdicts = result.candidates.map { Float($0.tokens.map(String.init).joined(separator: " ").utf8.count) }
            #expect(result.candidates.count == 6)
            #expect(result.candidates.map(\.score) == verdicts, "seed \(seed)")
            #expect(verdicts == verdicts.sorted(by: >), "the judge's verdicts come best first")
            orders.insert(verdicts)
        }
        #expect(orders.contains { Set($0).count > 1 }, "every sample got the same verdict: the test proves nothing")
    }

    /// The language's checks: a reward names a reward node; a reward node is no output; one that
    /// nothing names is wasted work.
    @Test func rewardNodesAreChecked() {
        let compile = { (yaml: String) in GraphCompiler(registry: OperatorRegistry.all).compile(source: yaml, file: "g.yaml") }
        let notAJudge = compile(Self.yaml().replacingOccurrences(of: "rollout_beams: 1 }", with: "rollout_beams: 1, reward: scores }")).rendered
        #expect(notAJudge.contains("'reward' of node 'tree' (search.mcts): 'scores' is not a reward node (op: reward)"), "\(notAJudge)")
        let missing = compile(Self.yaml().replacingOccurrences(of: "rollout_beams: 1 }", with: "rollout_beams: 1, reward: judge }")).rendered
        #expect(missing.contains("node 'tree' uses node 'judge', which is not defined"), "\(missing)")
        let asOutput = compile(Self.yaml(judge: "by: loglik", output: "judge")).rendered
        #expect(asOutput.contains("output 'judge' (reward) produces reward; a graph's output must produce selection or frontier"), "\(asOutput)")
        let unnamed = compile(Self.yaml().replacingOccurrences(of: "output: tree", with: "  judge: { op: reward }\noutput: tree"))
        #expect(unnamed.plan != nil)
        #expect(unnamed.rendered.contains("node 'judge' does not feed the graph's output"), "\(unnamed.rendered)")
        let named = compile(Self.yaml(judge: "by: loglik"))
        #expect(named.plan != nil && !named.rendered.contains("does not feed"), "\(named.rendered)")
        // The step never runs it; explain and the drawing show who calls it.
        if let plan = named.plan {
            #expect(!plan.stages.joined().contains(1), "the judge is scheduled: \(plan.stages)")
            #expect(plan.explanation().contains("judges (not run by the step; the searches and reranks naming them call them on finished outputs): judge (reward)"))
            #expect(plan.dot().contains("n1 -> n2 [label=\"reward\", style=dotted];"), "\(plan.dot())")
        }
        let rerankWithoutJudge = compile(Self.yaml(output: "best", extra: "  best: { op: rerank, from: tree, by: reward }")).rendered
        #expect(rerankWithoutJudge.contains("by: reward needs the reward node"), "\(rerankWithoutJudge)")
    }
}
