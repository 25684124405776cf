import Foundation
import Operators
import Synchronization
import Testing
@testable import Engine

/// Every search gives the same result however its stages' tasks are scheduled: each graph run
/// alone, then four at once from different threads (their passes batched together by the shared
/// model service), with one seed.
@Suite struct SearchSchedulingTests {
    static let searches: [String] = [
        "beams: { op: search.beam, from: scores, width: 4 }",
        "beams: { op: search.beam, from: scores, width: 4, groups: 2, diversity_penalty: 1.0 }",
        "beams: { op: search.beam, from: scores, width: 3, patience: 2.0, early_stopping: true }",
        "beams: { op: search.beam, from: scores, width: 3, phrase_ids: [[17, 18], [30]] }",
        "beams: { op: search.beam, from: scores, width: 2, phrase_ids: [[17, 18], [30]], allocation: grid }",
        "beams: { op: search.sample, from: dist, samples: 5, finish: first }",
        "beams: { op: search.sample, from: dist, samples: 5, finish: all }",
        "beams: { op: search.lattice, from: scores, width: 3, budget: 24 }",
        "beams: { op: search.mcts, from: scores, simulations: 10, parallel: 3 }",
        "beams: { op: search.foresight, from: dist, candidates: 3, max_step_tokens: 3 }",
    ]

    static func yaml(_ search: String, rerank: Bool = false) -> String {
        """
        graph: scheduling
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          dist: { op: sample, from: scores, temperature: 1.2 }
          \(search)
        \(rerank ? "  best: { op: rerank, from: beams, by: logprob, model: target }\noutput: best" : "output: beams")
        limits: { max_new_tokens: 10 }
        """
    }

    @Test(arguments: searches.map { ($0, false) } + [(searches[0], true), (searches[6], true)])
    func sameResultWhateverTheSchedule(search: String, rerank: Bool) throws {
        let plan = try Fixtures.plan(Self.yaml(search, rerank: rerank))
        let resources = ResourceRegistry(pool: Fixtures.resources.pool)
        let prompts: [[Int32]] = [[1, 7, 9], [4, 4, 4, 20], [33, 2], [5, 6]]
        let alone = try prompts.map { try Session(plan: plan, resources: resources).run(prompt: $0, seed: 11) }
        let together = Mutex([RunResult?](repeating: nil, count: prompts.count))
        let failure = Mutex<String?>(nil)
        DispatchQueue.concurrentPerform(iterations: prompts.count) { i in
            do {
                let result = try Session(plan: plan, resources: resources).run(prompt: prompts[i], seed: 11)
                together.withLock { $0[i] = result }
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
        }
        #expect(failure.withLock { $0 } == nil)
        let concurrent = together.withLock { $0 }
        for (i, result) in alone.enumerated() {
            let other = try #require(concurrent[i])
            #expect(other.tokens == result.tokens, "prompt \(prompts[i])")
            #expect(other.candidates.map(\.tokens) == result.candidates.map(\.tokens), "prompt \(prompts[i])")
            // A rerank scores its packed candidates in a pass of more than 32 rows, which goes through
            // OpenBLAS, whose rows depend in their last bits on how many rows share the pass (other
            // sessions' rows join it here); every other search here scores in passes of at most 32 rows,
            // bitwise independent of their company.
            for (a, b) in zip(other.candidates, result.candidates) {
                if rerank {
                    #expect(abs(a.score - b.score) <= 1e-5 * max(1, abs(b.score)), "prompt \(prompts[i])")
                } else {
                    #expect(a == b, "prompt \(prompts[i])")
                }
            }
        }
    }
}
