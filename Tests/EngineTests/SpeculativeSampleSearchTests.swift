import Graph
import Operators
import Testing
@testable import Engine

/// `search.sample` over verified steps: every sample drafts and verifies its own continuation (one
/// batched target pass per step for all of them), so First Finish Search and best-of-N compose
/// with speculative decoding.
@Suite struct SpeculativeSampleSearchTests {
    static func yaml(temperature: Double, finish: String, output: String = "samples", budget: Int = 12) -> String {
        """
        graph: speculative-samples
        \(Fixtures.models)
        nodes:
          small: { op: draft.model, model: draft, tokens: 3 }
          scores: { op: score, model: target, tree: small }
          pick: { op: sample, from: scores, temperature: \(temperature) }
          accept: { op: verify, from: pick }
          samples: { op: search.sample, steps: accept, samples: 5, finish: \(finish) }
        \(output == "best" ? "  best: { op: rerank, from: samples, by: logprob, model: target }\n" : "")output: \(output)
        limits: { max_new_tokens: \(budget) }
        """
    }

    /// Speculative greedy ≡ plain greedy, in every sample.
    @Test func greedyStepsGiveGreedyDecodingInEverySample() throws {
        let greedy = try Session(plan: try Fixtures.plan("""
        graph: greedy
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        output: accept
        limits: { max_new_tokens: 12 }
        """))
        let samples = try Session(plan: try Fixtures.plan(Self.yaml(temperature: 0, finish: "all", output: "best")))
        for prompt: [Int32] in [[1, 7, 9], [4, 4, 4, 20], [33, 2]] {
            let expected = try greedy.run(prompt: prompt).tokens
            let result = try samples.run(prompt: prompt)
            #expect(result.candidates.count == 5)
            #expect(result.candidates.allSatisfy { $0.tokens == expected }, "prompt \(prompt)")
        }
    }

    @Test func samplesDrawApartAndShareEachTargetPass() throws {
        let session = try Session(plan: try Fixtures.plan(Self.yaml(temperature: 1.0, finish: "all", output: "best")))
        var distinct = 0
        for seed: UInt64 in 0 ..< 4 {
            let result = try session.run(prompt: [1, 7, 9], seed: seed)
            #expect(result.candidates.count == 5)
            distinct += Set(result.candidates.map(\.tokens)).count
            // Budget and EOS cut the verified steps: at most 12 tokens, EOS only last.
            for candidate in result.candidates {
                #expect(candidate.tokens.count <= 12)
                #expect(!candidate.tokens.dropLast().contains { session.eosTokens.contains($0) })
            }
            // One target call per step for all samples, plus the rerank's pass; the samples' draft
            // chains share each draft position's pass (three positions at most per step).
            #expect(result.metrics.targetCalls == result.metrics.steps + 1)
            let draftCalls = try #require(result.metrics.models.first { $0.name == "draft" }).fullCalls
            #expect(draftCalls <= 3 * result.metrics.steps, "\(draftCalls) draft calls in \(result.metrics.steps) steps")
            #expect(!result.metrics.acceptanceByPosition.isEmpty)
            #expect(try session.run(prompt: [1, 7, 9], seed: seed).candidates == result.candidates)
        }
        #expect(distinct > 8, "samples forked from one prompt must not draw alike")
    }

    /// Drafting several hypotheses in lockstep gives each the chain it would draft alone, from
    /// its own generator.
    @Test func lockstepDraftingEqualsDraftingAlone() throws {
        let service = try Fixtures.resources.model(at: Fixtures.draft)
        var settings = SamplingSettings.greedy
        settings.temperature = 1
        let drafter = try ModelDrafter(tokens: 4, minProbability: 0.05, settings: settings)
        let contexts: [LogitsContext] = [[1, 7, 9], [4, 4, 4, 20], [33, 2], [1, 7, 9, 11]].map { LogitsContext(tokens: $0, promptCount: 2) }
        for seed: UInt64 in 0 ..< 3 {
            var rngs = contexts.indices.map { Xoshiro256StarStar(seed: seed &* 31 &+ UInt64($0)) }
            var alone = rngs
            let together = try drafter.draftTogether(models: contexts.map { _ in ModelSequenceScorer(service: service) }, contexts: contexts,
                                                     limits: [nil, 2, nil, 3], using: &rngs)
            for (h, context) in contexts.enumerated() {
                let single = try drafter.draft(model: ModelSequenceScorer(service: service), context: context, limit: [nil, 2, nil, 3][h], using: &alone[h])
                #expect(together[h].nodes.map(\.token) == single.nodes.map(\.token), "seed \(seed) hypothesis \(h)")
                #expect(together[h].nodes.map(\.draftDistribution) == single.nodes.map(\.draftDistribution))
                #expect(rngs[h].next() == alone[h].next(), "the same draws from the same generator")
            }
        }
    }

    @Test func firstFinishOverVerifiedStepsAndItsChecks() throws {
        let result = try Session(plan: try Fixtures.plan(Self.yaml(temperature: 1.0, finish: "first", budget: 40))).run(prompt: [4, 4, 20], seed: 2)
        #expect(result.tokens.count <= 40)
        // best-of-N over verified steps has nothing to rank by without a rerank output.
        #expect(throws: (any Error).self) { try Fixtures.plan(Self.yaml(temperature: 1.0, finish: "all")) }
        #expect(throws: (any Error).self) {
            try Fixtures.plan(Self.yaml(temperature: 1.0, finish: "first").replacingOccurrences(of: "steps: accept", with: "steps: accept, from: pick"))
        }
    }
}
