import Operators
import Testing
@testable import Engine

/// The engine's beam search forks KV caches per beam and batches the beams' forwards; the oracle
/// is the same search run without the engine, scoring every beam's whole context afresh.
@Suite struct BeamSessionTests {
    @Test(arguments: [(2, 1.0), (4, 0.5)])
    func engineBeamMatchesDirectSearch(width: Int, lengthPenalty: Double) throws {
        let plan = try Fixtures.plan("""
        graph: beam
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          beams: { op: search.beam, from: scores, width: \(width), length_penalty: \(lengthPenalty) }
        output: beams
        limits: { max_new_tokens: 12 }
        """)
        let session = try Session(plan: plan, resources: Fixtures.resources)
        let service = try Fixtures.resources.model(at: Fixtures.target)
        for prompt: [Int32] in [[1, 7, 9], [4, 4, 4, 20], [33]] {
            let engine = try session.run(prompt: prompt)
            let search = try BeamSearch(numBeams: width, lengthPenalty: lengthPenalty, maxNewTokens: 12,
                                        eosTokens: session.eosTokens)
            let direct = try search.run(prompt: prompt, scorer: FreshScorer(service: service))
            #expect(engine.tokens == direct.first?.tokens, "prompt \(prompt)")
        }
    }
}

extension BeamSessionTests {
    /// The beams of a step are scored in one forward pass: one pass per step after the prompt's
    /// prefill pass, with more items than passes.
    @Test func beamsShareOneForwardPassPerStep() throws {
        let resources = ResourceRegistry(pool: Fixtures.resources.pool)
        let plan = try Fixtures.plan("""
        graph: beam
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          beams: { op: search.beam, from: scores, width: 3 }
        output: beams
        limits: { max_new_tokens: 10, ignore_eos: true }
        """)
        let result = try Session(plan: plan, resources: resources).run(prompt: [2, 4, 6])
        let counters = try resources.model(at: Fixtures.target).counters
        #expect(counters.passes == result.metrics.steps + 1)
        #expect(counters.items > counters.passes)
        #expect(result.metrics.targetCalls == result.metrics.steps)
    }
}

/// Scores every context on a new sequence: no cache reuse at all.
struct FreshScorer: TreeScorer {
    let service: BatchingForwardService
    var vocabularySize: Int { service.model.config.vocabularySize }
    func score(context: [Int32], tree: TokenTree) throws -> [[Float]] {
        try ModelSequenceScorer(service: service).score(context: context, tree: tree)
    }
}
