import Graph
import Operators
import Testing
@testable import Engine

/// `search.sample` through the engine: N samples share one forward pass per step, a seed fixes the
/// result whatever the thread scheduling, and First Finish Search answers with best-of-N's first
/// finisher.
@Suite struct SampleSearchSessionTests {
    static func plan(finish: String, samples: Int = 6, budget: Int = 24) throws -> Plan {
        try Fixtures.plan("""
        graph: samples
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          dist: { op: sample, from: scores, temperature: 1.5 }
          samples: { op: search.sample, from: dist, samples: \(samples), finish: \(finish) }
        output: samples
        limits: { max_new_tokens: \(budget) }
        """)
    }

    @Test func samplesShareOnePassPerStepAndASeedFixesTheResult() throws {
        let resources = ResourceRegistry(pool: Fixtures.resources.pool)
        let session = try Session(plan: try Self.plan(finish: "all"), resources: resources)
        let service = try resources.model(at: Fixtures.target)
        for seed: UInt64 in [1, 2, 3] {
            let passes = service.counters.passes
            let result = try session.run(prompt: [1, 7, 9], seed: seed)
            #expect(service.counters.passes - passes == result.metrics.steps, "one pass per step, the short prompt fed in the first")
            #expect(result.candidates.count == 6)
            #expect(result.tokens == result.candidates[0].tokens)
            // Hypotheses scored: the prompt once, then every running sample each step.
            #expect(result.metrics.frontierTokens == 1 + result.candidates.reduce(0) { $0 + $1.tokens.count - 1 })
            #expect(result.metrics.widestFrontier == 6)
            let again = try session.run(prompt: [1, 7, 9], seed: seed)
            #expect(again.candidates == result.candidates, "seed \(seed)")
        }
        let one = try session.run(prompt: [1, 7, 9], seed: 1), two = try session.run(prompt: [1, 7, 9], seed: 2)
        #expect(one.candidates != two.candidates)
    }

    @Test func firstFinishAnswersWithBestOfNsFirstFinisher() throws {
        let all = try Session(plan: try Self.plan(finish: "all"))
        let first = try Session(plan: try Self.plan(finish: "first"))
        var finishedEarly = 0
        for seed: UInt64 in 0 ..< 6 {
            let every = try all.run(prompt: [4, 4, 20], seed: seed)
            let fast = try first.run(prompt: [4, 4, 20], seed: seed)
            let finishers = every.candidates.filter { all.eosTokens.contains($0.tokens.last ?? -1) }
            if let shortest = finishers.map(\.tokens.count).min() {
                finishedEarly += 1
                #expect(fast.tokens.count == shortest, "seed \(seed)")
                #expect(finishers.map(\.tokens).contains(fast.candidates[0].tokens), "seed \(seed)")
                #expect(fast.metrics.frontierTokens <= every.metrics.frontierTokens)
            } else {
                #expect(fast.metrics.frontierTokens == every.metrics.frontierTokens, "seed \(seed): nobody finished early")
            }
        }
        #expect(finishedEarly > 0, "no seed reached EOS before the budget: the test compared nothing")
    }
}
