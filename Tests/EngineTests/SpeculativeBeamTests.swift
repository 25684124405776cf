import Graph
import Operators
import Testing
@testable import Engine

/// Beam searches over drafted trees: each pass scores every beam's draft, and the search takes as
/// many beam steps as the drafts cover — every surviving beam's next row must lie in its parent's
/// scored tree. The oracle is the same search over root-only scores: the same answer, the same
/// finished hypotheses with the same scores, in no more passes.
@Suite struct SpeculativeBeamTests {
    /// A beam graph; `draft` names the tree below the score (`nil`: the plain root-only search).
    static func yaml(beam: String, draft: String?, budget: Int = 12) -> String {
        """
        graph: speculative-beam
        \(Fixtures.models)
        nodes:
        \(draft.map { "  grow: \($0)\n  scores: { op: score, model: target, tree: grow }" } ?? "  scores: { op: score, model: target }")
          beams: { op: search.beam, from: scores, \(beam) }
        output: beams
        limits: { max_new_tokens: \(budget) }
        """
    }

    static let beams = ["width: 2", "width: 4, length_penalty: 0.5", "width: 4, groups: 2, diversity_penalty: 0.7",
                        "width: 3, phrase_ids: [[17, 18], [30]]", "width: 2, phrase_ids: [[17, 18], [30]], allocation: grid"]
    /// The target drafting for itself (a tree of its own likeliest continuations, so beams are often
    /// covered), another model's tree, and a chain recalled from the context.
    static let drafters = ["{ op: draft.model, model: target, tokens: 4, nodes: 16 }",
                           "{ op: draft.model, model: draft, tokens: 3, nodes: 8 }",
                           "{ op: draft.lookup, tokens: 4, min_match: 1 }"]

    @Test(arguments: beams)
    func draftedBeamsEqualPlainBeams(beam: String) throws {
        let resources = ResourceRegistry(pool: Fixtures.resources.pool)
        let plain = try Session(plan: try Fixtures.plan(Self.yaml(beam: beam, draft: nil)), resources: resources)
        let prompts: [[Int32]] = [[1, 7, 9], [4, 4, 4, 20, 4, 4], [33, 2]]
        let expected = try prompts.map { try plain.run(prompt: $0) }
        for drafter in Self.drafters {
            let drafted = try Session(plan: try Fixtures.plan(Self.yaml(beam: beam, draft: drafter)), resources: resources)
            var passes = (plain: 0, drafted: 0)
            for (prompt, reference) in zip(prompts, expected) {
                let result = try drafted.run(prompt: prompt)
                #expect(result.tokens == reference.tokens, "\(drafter), prompt \(prompt)")
                #expect(result.candidates.map(\.tokens) == reference.candidates.map(\.tokens), "\(drafter), prompt \(prompt)")
                // The same rows up to f32 rounding: a row computed inside a tree item comes from a
                // product over more rows than the root-only pass's, summed in another order.
                #expect(result.candidates.count == reference.candidates.count)
                for (got, want) in zip(result.candidates, reference.candidates) {
                    #expect(abs(got.score - want.score) <= 1e-5 * max(1, abs(want.score)), "\(drafter), prompt \(prompt)")
                }
                #expect(result.metrics.steps <= reference.metrics.steps, "\(drafter), prompt \(prompt)")
                passes.plain += reference.metrics.steps
                passes.drafted += result.metrics.steps
            }
            // Lexically constrained beams keep a beam on a forced phrase token most steps, which
            // no draft proposes; the others' steps are often covered by the target's own tree.
            if drafter.contains("model: target"), !beam.contains("phrase_ids") {
                #expect(passes.drafted < passes.plain, "the target's own tree covers some beam steps (\(passes))")
            }
        }
    }

    /// Each new beam tells its drafters which of their nodes it took (the commit a verifier would
    /// give): the run's acceptance counts them, and a gated drafter (`schedule: optimal`) whose
    /// drafts rarely cover a beam step goes quiet, where an ungated one drafts every step.
    @Test func drafterLearnsFromTheBeamsPaths() throws {
        let resources = ResourceRegistry(pool: Fixtures.resources.pool)
        func run(_ drafter: String) throws -> RunResult {
            try Session(plan: try Fixtures.plan(Self.yaml(beam: "width: 3", draft: drafter, budget: 24)), resources: resources)
                .run(prompt: [4, 4, 4, 20, 4, 4])
        }
        let own = try run(Self.drafters[0])
        #expect(own.metrics.acceptedByPosition.first ?? 0 > 0, "the target's own tree was taken by some beams")
        let constant = try run("{ op: draft.model, model: draft, tokens: 3 }")
        let gated = try run("{ op: draft.model, model: draft, tokens: 3, schedule: optimal, row_cost: 0.3 }")
        #expect(constant.tokens == gated.tokens)
        let drafted = (constant: constant.metrics.proposedByPosition.first ?? 0, gated: gated.metrics.proposedByPosition.first ?? 0)
        #expect(drafted.gated < drafted.constant / 2, "hypothesis-steps with a draft: \(drafted)")
    }

    /// graphs/speculative-beam.yaml on the demo models gives graphs/beam.yaml's answer and n-best
    /// list in fewer target passes.
    @Test func theExampleGraphEqualsPlainBeamSearch() throws {
        let plain = try Session(plan: try DemoGraphs.plan("beam.yaml"), resources: DemoGraphs.resources)
        let drafted = try Session(plan: try DemoGraphs.plan("speculative-beam.yaml"), resources: DemoGraphs.resources)
        var calls = (plain: 0, drafted: 0)
        for (reference, result) in try DemoGraphs.expectSameSearch(plain, drafted, texts: ["def parse_address(text):\n    \"\"\"", "import os\nimport sys\n\nclass Config"],
                                                                   maxNewTokens: 32, "speculative-beam") {
            calls.plain += reference.metrics.targetCalls
            calls.drafted += result.metrics.targetCalls
        }
        #expect(calls.drafted < calls.plain, "\(calls)")
    }
}
