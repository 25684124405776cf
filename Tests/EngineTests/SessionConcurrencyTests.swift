import Dispatch
import Operators
import Synchronization
import Testing
@testable import Engine

/// Sessions sharing one model through its batching service give exactly the tokens they give
/// alone, whatever items meet in a pass; sampling runs are reproducible from the seed.
@Suite struct SessionConcurrencyTests {
    static let greedy = """
    graph: spec
    \(Fixtures.models)
    nodes:
      small: { op: draft.model, model: draft, tokens: 3 }
      recall: { op: draft.lookup, tokens: 4 }
      merged: { op: tree.merge, from: [small, recall], budget: 8 }
      scores: { op: score, model: target, tree: merged }
      pick: { op: sample, from: scores, temperature: 0 }
      accept: { op: verify, from: pick }
    output: accept
    limits: { max_new_tokens: 24, ignore_eos: true }
    """

    @Test func concurrentSessionsMatchSequentialRuns() throws {
        let plan = try Fixtures.plan(Self.greedy)
        let prompts: [[Int32]] = (0..<6).map { (i: Int) -> [Int32] in
            let a = Int32(i + 1), b = Int32(3 * i + 2)
            return [a, b, 7, a]
        }
        let alone = try prompts.map { try Session(plan: plan, resources: Fixtures.resources).run(prompt: $0).tokens }
        let results = Mutex([[Int32]?](repeating: nil, count: prompts.count))
        DispatchQueue.concurrentPerform(iterations: prompts.count) { i in
            let tokens = try? Session(plan: plan, resources: Fixtures.resources).run(prompt: prompts[i]).tokens
            results.withLock { $0[i] = tokens }
        }
        #expect(results.withLock { $0 } == alone)
    }

    @Test func samplingIsReproducibleFromTheSeed() throws {
        let plan = try Fixtures.plan("""
        graph: spec-sampling
        \(Fixtures.models)
        nodes:
          small: { op: draft.model, model: draft, tokens: 3, temperature: 1 }
          scores: { op: score, model: target, tree: small }
          pick: { op: sample, from: scores, temperature: 1, top_p: 0.9 }
          accept: { op: verify, from: pick, mode: sampling }
        output: accept
        limits: { max_new_tokens: 32, ignore_eos: true }
        """)
        let session = try Session(plan: plan, resources: Fixtures.resources)
        let a = try session.run(prompt: [5, 6, 7], seed: 11)
        let b = try session.run(prompt: [5, 6, 7], seed: 11)
        let c = try session.run(prompt: [5, 6, 7], seed: 12)
        #expect(a.tokens == b.tokens)
        #expect(a.tokens.count == 32)
        #expect(a.tokens != c.tokens)
        #expect(a.tokens.allSatisfy { $0 >= 0 && $0 < 80 })
    }
}
