import Foundation
import Graph
import Kernels
import ModelRuntime
import Testing
@testable import Engine
@testable import Operators

/// `draft.graph`, staged speculative decoding (Spector & Ré 2023): a graph drafts, and a draft of
/// a draft is recursion.
@Suite struct DraftGraphTests {
    /// Writes a graph into a fresh temporary file.
    /// - Returns: its absolute path.
    static func write(_ yaml: String, name: String = "inner.yaml") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("draft-graph-\(UUID().uuidString)-" + name).path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A greedy drafting graph on the fixture draft model, sped up by `drafter` (a node named `d`).
    static func drafting(_ drafter: String, model: String = Fixtures.draft) throws -> String {
        try write("""
        graph: drafting
        models:
          draft: { path: \(model) }
        nodes:
          d: \(drafter)
          scores: { op: score, model: draft, tree: d }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        output: accept
        """)
    }

    /// An outer graph on the fixture target whose drafter runs `inner`.
    static func outer(_ inner: String, tokens: Int, extraModels: String = "") -> String {
        """
        graph: staged
        models:
          target: { path: \(Fixtures.target) }
        \(extraModels)
        nodes:
          small: { op: draft.graph, graph: \(inner), tokens: \(tokens) }
          scores: { op: score, model: target, tree: small }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        output: accept
        limits: { max_new_tokens: 32, ignore_eos: true }
        """
    }

    /// The session's `draft.graph` op.
    static func graphOp(_ session: Session) throws -> DraftGraphOp {
        let n = try #require(session.plan.nodes.firstIndex { $0.op == DraftGraphOp.spec.name })
        guard case .hypothesis(let op) = session.ops[n], let drafter = op as? DraftGraphOp else {
            throw EngineError("node \(n) is not a draft.graph op")
        }
        return drafter
    }

    /// A lossless inner graph drafts exactly what `draft.model` at temperature 0 drafts with the
    /// same token count, step after step, while the outer commits accept part of each chain and
    /// then diverge from it (the inner graph's tokens past the outer commit are rolled back), or
    /// accept all of it and the draft model's next token (they are kept).
    @Test(arguments: ["{ op: draft.lookup, tokens: 3 }", "{ op: draft.suffix, min_match: 1 }"])
    func draftsWhatTheDraftModelDrafts(drafter: String) throws {
        let tokens = 4
        let session = try Session(plan: try Fixtures.plan(Self.outer(try Self.drafting(drafter), tokens: tokens)), resources: Fixtures.resources)
        let op = try Self.graphOp(session)
        let draftService = try Fixtures.resources.model(at: Fixtures.draft)
        let reference = try ModelDrafter(tokens: tokens, settings: SamplingSettings(temperature: 0))
        var rng = Xoshiro256StarStar(seed: 1)
        var rolledBack = 0, kept = 0
        for prompt in GraphGreedyIdentityTests.prompts.prefix(12) {
            let run = try op.runner.makeRun()
            let scorer = ModelSequenceScorer(service: draftService)
            var context = prompt
            for step in 0..<12 {
                let history = LogitsContext(tokens: context, promptCount: prompt.count)
                let chain = try run.continuation(of: history, count: tokens)
                let expected = try reference.draft(model: scorer, context: history, using: &rng).nodes.map(\.token)
                #expect(chain == expected, "prompt \(prompt), step \(step)")
                if step % 3 == 0 {
                    // The whole chain and the draft model's own next token: the inner graph keeps
                    // what it committed past the chain.
                    let longer = try reference.draft(model: scorer, context: history, limit: tokens + 1, using: &rng).nodes.map(\.token)
                    context += longer
                    kept += 1
                } else {
                    // A varying prefix, then a token other than the chain's next one: rolled back.
                    let accepted = step % tokens
                    context += chain.prefix(accepted)
                    context.append((chain[accepted] + 1) % 80)
                    rolledBack += 1
                }
            }
        }
        #expect(rolledBack > 0 && kept > 0)
    }

    /// The inner graph's models load as the outer graph's do: a model both name is one runtime,
    /// and the run reports the inner graph's calls under the node's name and its own MAT.
    @Test func innerModelsShareTheRuntimeAndAreCounted() throws {
        let inner = try Self.drafting("{ op: draft.lookup, tokens: 3 }")
        let yaml = Self.outer(inner, tokens: 3, extraModels: "  draft: { path: \(Fixtures.draft) }")
            .replacingOccurrences(of: "  scores: { op: score, model: target, tree: small }",
                                  with: "  scores: { op: score, model: target, tree: both }\n  other: { op: draft.model, model: draft, tokens: 2 }\n  both: { op: tree.merge, from: [small, other] }")
        let session = try Session(plan: try Fixtures.plan(yaml), resources: Fixtures.resources)
        let runner = try #require(try Self.graphOp(session).runner as? InnerGraph)
        let outerDraft = try #require(session.slots.first { $0.model == "draft" }?.service)
        #expect(runner.session.slots.allSatisfy { $0.service === outerDraft })
        let prompt = GraphGreedyIdentityTests.prompts[3]
        let result = try session.run(prompt: prompt)
        #expect(result.tokens == Array(GraphGreedyIdentityTests.expected[3].prefix(32)))
        let innerDraft = try #require(result.metrics.models.first { $0.name == "small/draft" })
        let innerRun = try #require(result.metrics.innerRuns.first)
        #expect(innerRun.node == "small")
        #expect(innerDraft.fullCalls > 0 && innerDraft.fullCalls == innerRun.targetCalls)
        #expect(innerRun.tokens >= result.metrics.steps * 3, "every step drafts 3 tokens from inner commits")
        #expect(result.metrics.summary.contains("inner graph of small:"))
    }

    /// A draft of a draft of a draft: the inner graph's own drafter is a graph; the three-stage
    /// graph still decodes the target greedily.
    @Test func stagesNest() throws {
        let innermost = try Self.drafting("{ op: draft.lookup, tokens: 2 }")
        let middle = try Self.drafting("{ op: draft.graph, graph: \(innermost), tokens: 3 }")
        let session = try Session(plan: try Fixtures.plan(Self.outer(middle, tokens: 4)), resources: Fixtures.resources)
        for (prompt, expected) in zip(GraphGreedyIdentityTests.prompts, GraphGreedyIdentityTests.expected).prefix(6) {
            let result = try session.run(prompt: prompt)
            #expect(result.tokens == Array(expected.prefix(32)), "prompt \(prompt)")
        }
    }

    /// Forked outer hypotheses (the samples of `search.sample` verifying their own drafts) fork
    /// their inner runs; each sample still commits what its target draws, and the search finishes.
    @Test func samplesForkTheInnerRun() throws {
        let inner = try Self.drafting("{ op: draft.lookup, tokens: 3 }")
        let session = try Session(plan: try Fixtures.plan("""
        graph: staged-samples
        models:
          target: { path: \(Fixtures.target) }
        nodes:
          small: { op: draft.graph, graph: \(inner), tokens: 3 }
          scores: { op: score, model: target, tree: small }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
          samples: { op: search.sample, steps: accept, samples: 3 }
        output: samples
        limits: { max_new_tokens: 24, ignore_eos: true }
        """), resources: Fixtures.resources)
        let prompt = GraphGreedyIdentityTests.prompts[0]
        let result = try session.run(prompt: prompt)
        #expect(result.candidates.count == 3)
        // Greedy samples all decode the target greedily, each through its own forked inner run.
        for candidate in result.candidates {
            #expect(candidate.tokens == Array(GraphGreedyIdentityTests.expected[0].prefix(24)))
        }
    }

    /// The compiled outer plan carries the inner plan, and `explain` shows it under the node.
    @Test func planCarriesAndExplainsTheInnerGraph() throws {
        let plan = try DemoGraphs.plan("staged.yaml")
        let node = try #require(plan.node(named: "small"))
        let inner = try #require(node.graphs["graph"])
        #expect(inner.name == "draft-suffix" && inner.nodes.map(\.op) == ["draft.suffix", "score", "sample", "verify"])
        let text = plan.explanation()
        #expect(text.contains("      graph runs, each step, until it committed the node's tokens:\n        graph draft-suffix ("))
        #expect(text.contains("        nodes:\n          recalled: draft.suffix → tokenTree"))
    }

    /// A budget the inner graph's models cannot hold is refused before the run, at the inner
    /// graph's model entry: the inner graph decodes the same context.
    @Test func admitHoldsTheBudgetToTheInnerModels() throws {
        let inner = try Self.drafting("{ op: draft.lookup, tokens: 3 }", model: Fixtures.draft + ", kv_cache_mb: 1")
        let session = try Session(plan: try Fixtures.plan(Self.outer(inner, tokens: 3)), resources: ResourceRegistry(pool: ComputePool(threadCount: 1)))
        #expect(try session.admit(promptTokens: 4, maxNewTokens: 32).isEmpty)
        #expect {
            _ = try session.admit(promptTokens: 4, maxNewTokens: 1 << 20)
        } throws: { error in
            "\(error)".hasPrefix(inner + ":3:3: error: the prompt's 4 tokens and up to 1048576 new ones need 1048580 KV-cache slots of model 'draft'")
        }
    }

    /// An inner graph whose target has another vocabulary is refused at the node when bound.
    @Test func innerVocabularyMustMatch() throws {
        let inner = try Self.drafting("{ op: draft.lookup, tokens: 3 }", model: DemoGraphs.repository + "/models/demo-draft")
        let plan = try Fixtures.plan(Self.outer(inner, tokens: 3))
        #expect {
            _ = try Session(plan: plan, resources: Fixtures.resources)
        } throws: { error in
            "\(error)".contains("node 'small' (draft.graph): its graph's target 'draft' has a vocabulary of 4096 tokens, the outer target's has 80")
        }
    }
}
