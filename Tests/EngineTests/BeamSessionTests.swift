import Foundation
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
    /// Diverse beam search and patience through the engine: forked caches and batched passes give
    /// what the search gives when every context is scored afresh, with one pass per step.
    @Test(arguments: [(4, 2, 0.7, 1.0), (6, 3, 1.5, 1.0), (3, 1, 0.0, 2.0)])
    func engineDiverseBeamsMatchDirectSearch(width: Int, groups: Int, diversity: Double, patience: Double) throws {
        let resources = ResourceRegistry(pool: Fixtures.resources.pool)
        let plan = try Fixtures.plan("""
        graph: diverse
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          beams: { op: search.beam, from: scores, width: \(width), groups: \(groups), diversity_penalty: \(diversity), patience: \(patience), early_stopping: true }
        output: beams
        limits: { max_new_tokens: 10 }
        """)
        let session = try Session(plan: plan, resources: resources)
        let service = try resources.model(at: Fixtures.target)
        for prompt: [Int32] in [[1, 7, 9], [4, 4, 4, 20]] {
            let passes = service.counters.passes
            let engine = try session.run(prompt: prompt)
            #expect(service.counters.passes - passes == engine.metrics.steps, "one pass per step for every group's beams, the short prompt fed in the first")
            let direct: [BeamSearch.Hypothesis]
            if groups > 1 {
                direct = try GroupBeamSearch(numBeams: width, groups: groups, diversityPenalty: diversity, earlyStopping: .whenFull,
                                             patience: patience, maxNewTokens: 10, eosTokens: session.eosTokens.sorted())
                    .run(prompt: prompt, scorer: FreshScorer(service: service))
            } else {
                direct = try BeamSearch(numBeams: width, earlyStopping: .whenFull, patience: patience, maxNewTokens: 10,
                                        eosTokens: session.eosTokens).run(prompt: prompt, scorer: FreshScorer(service: service))
            }
            #expect(engine.tokens == direct.first?.tokens, "prompt \(prompt)")
            #expect(engine.candidates.map(\.tokens) == direct.map(\.tokens), "prompt \(prompt)")
        }
    }

    /// Lexically constrained beams through the engine equal the search run directly, the answer
    /// holds every phrase, and a step is still one pass.
    @Test func engineConstrainedBeamsMatchDirectSearch() throws {
        let resources = ResourceRegistry(pool: Fixtures.resources.pool)
        let phrases: [[Int32]] = [[17, 18], [30]]
        let plan = try Fixtures.plan("""
        graph: constrained
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          beams: { op: search.beam, from: scores, width: 4, phrase_ids: [[17, 18], [30]] }
        output: beams
        limits: { max_new_tokens: 12 }
        """)
        let session = try Session(plan: plan, resources: resources)
        let service = try resources.model(at: Fixtures.target)
        for prompt: [Int32] in [[1, 7, 9], [4, 4, 4, 20], [33, 2]] {
            let passes = service.counters.passes
            let engine = try session.run(prompt: prompt)
            #expect(service.counters.passes - passes == engine.metrics.steps)
            let direct = try ConstrainedBeamSearch(numBeams: 4, phrases: phrases, maxNewTokens: 12, eosTokens: session.eosTokens)
                .run(prompt: prompt, scorer: FreshScorer(service: service))
            #expect(engine.candidates.map(\.tokens) == direct.map(\.tokens), "prompt \(prompt)")
            #expect(PhraseProgress(phrases: phrases, tokens: engine.tokens).completed, "prompt \(prompt): \(engine.tokens)")
        }
        // Grid Beam Search through the engine: every cell's beams in one pass per step.
        let grid = try Session(plan: try Fixtures.plan("""
        graph: grid
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          beams: { op: search.beam, from: scores, width: 2, phrase_ids: [[17, 18], [30]], allocation: grid }
        output: beams
        limits: { max_new_tokens: 12 }
        """), resources: resources)
        for prompt: [Int32] in [[1, 7, 9], [33, 2]] {
            let passes = service.counters.passes
            let engine = try grid.run(prompt: prompt)
            #expect(service.counters.passes - passes == engine.metrics.steps)
            #expect(engine.metrics.widestFrontier > 2, "the grid's cells share the pass")
            let direct = try GridBeamSearch(width: 2, phrases: phrases, maxNewTokens: 12, eosTokens: session.eosTokens)
                .run(prompt: prompt, scorer: FreshScorer(service: service))
            #expect(engine.candidates.map(\.tokens) == direct.map(\.tokens), "prompt \(prompt)")
            #expect(PhraseProgress(phrases: phrases, tokens: engine.tokens).completed, "prompt \(prompt): \(engine.tokens)")
        }
    }

    /// The phrases of a lexically constrained beam may come from a `constrain.phrases` node before
    /// the score (the "phrases from constrain.phrases"): the same search as phrases on the
    /// beam, for both allocations; given in both places, the graph is refused.
    @Test(arguments: ["constrained-beam.yaml", "grid-beam.yaml"])
    func phrasesFromAConstraintNodeGiveTheSameSearch(graph: String) throws {
        let direct = try Session(plan: try DemoGraphs.plan(graph), resources: DemoGraphs.resources)
        let edits = [(", phrases: [\" return\", \"result\"]", ""),
                     ("  scores: { op: score, model: target }",
                      "  must: { op: constrain.phrases, phrases: [\" return\", \"result\"] }\n  scores: { op: score, model: target, tree: must }")]
        let fromNode = try Session(plan: try DemoGraphs.plan(graph, edits: edits), resources: DemoGraphs.resources)
        let tokenizer = try #require(direct.tokenizer)
        for (_, result) in try DemoGraphs.expectSameSearch(direct, fromNode, texts: ["def total(items):\n", "class Stack:\n    def push(self, item):\n"],
                                                           maxNewTokens: 24, graph) {
            let answer = tokenizer.decode(result.tokens)
            #expect(answer.contains(" return") && answer.contains("result"), "\(graph): every phrase appears: \(answer)")
        }
        #expect(throws: (any Error).self) {
            try DemoGraphs.plan(graph, edits: [edits[1]])
        }
    }

    /// The trace shows it: one `score` span per step, carrying the number of hypotheses it scored.
    @Test func theTraceShowsOneScoreSpanPerStep() throws {
        let plan = try Fixtures.plan("""
        graph: beam
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          beams: { op: search.beam, from: scores, width: 3, groups: 3, diversity_penalty: 0.5 }
        output: beams
        limits: { max_new_tokens: 6, ignore_eos: true }
        """)
        let trace = TraceRecorder()
        let result = try Session(plan: plan).run(prompt: [2, 4, 6], trace: trace)
        let object = try #require(try JSONSerialization.jsonObject(with: trace.json()) as? [String: Any])
        let spans = try #require(object["traceEvents"] as? [[String: Any]]).filter { $0["name"] as? String == "scores" }
        #expect(spans.count == result.metrics.steps)
        let sizes = spans.compactMap { ($0["args"] as? [String: Any])?["hypotheses"] as? Int }
        #expect(sizes.reduce(0, +) == result.metrics.frontierTokens)
        #expect(sizes.first == 1 && sizes.dropFirst().allSatisfy { $0 == 3 })
    }

    @Test func diverseBeamSettingsAreCheckedWhenTheGraphCompiles() throws {
        for bad in ["width: 4, groups: 3, diversity_penalty: 1", "width: 4, groups: 2", "width: 4, diversity_penalty: 0.5", "width: 2, groups: 4, diversity_penalty: 1",
                    "width: 4, groups: 2, diversity_penalty: 1, phrase_ids: [[5]]", "width: 4, phrases: [\"a\"], phrase_ids: [[5]]",
                    "width: 4, phrase_ids: [[]]", "width: 4, phrase_ids: []", "width: 4, allocation: grid"] {
            #expect(throws: (any Error).self, "\(bad)") {
                try Fixtures.plan("""
                graph: diverse
                \(Fixtures.models)
                nodes:
                  scores: { op: score, model: target }
                  beams: { op: search.beam, from: scores, \(bad) }
                output: beams
                """)
            }
        }
    }

    /// The beams of a step are scored in one forward pass: one pass per step, a short prompt fed in
    /// the first, with more items than passes.
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
        #expect(counters.passes == result.metrics.steps)
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
