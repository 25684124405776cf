import Graph
import Operators
import Testing
@testable import Engine

/// `rerank` over a search's finished hypotheses: by the model's log-probability (checked against
/// the beam search's own scores and against scoring token by token) and by minimum Bayes risk.
@Suite struct RerankTests {
    static func plan(_ rerank: String, search: String = "search.beam, from: scores, width: 4, length_penalty: 1.0",
                     shaping: String = "{ op: sample, from: scores, temperature: 1.0 }") throws -> Plan {
        try Fixtures.plan("""
        graph: rerank
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          dist: \(shaping)
          found: { op: \(search) }
          best: { op: rerank, from: found, \(rerank) }
        output: best
        limits: { max_new_tokens: 10 }
        """)
    }

    /// Beam search ranks finished hypotheses by logprob / length^length_penalty under the target;
    /// reranking them by the same measure must keep the order and reproduce the scores.
    @Test func rerankingBeamsByTheirOwnMeasureKeepsTheirOrder() throws {
        for penalty in [1.0, 0.0, 2.0] {
            let beams = try Session(plan: try Self.plan("by: logprob, model: target, length_penalty: \(penalty)",
                                                        search: "search.beam, from: scores, width: 4, length_penalty: \(penalty)"))
            for prompt: [Int32] in [[1, 7, 9], [4, 4, 4, 20]] {
                let result = try beams.run(prompt: prompt)
                let plainBeam = try Session(plan: try Fixtures.plan("""
                graph: beam
                \(Fixtures.models)
                nodes:
                  scores: { op: score, model: target }
                  found: { op: search.beam, from: scores, width: 4, length_penalty: \(penalty) }
                output: found
                limits: { max_new_tokens: 10 }
                """)).run(prompt: prompt)
                #expect(result.candidates.count == plainBeam.candidates.count)
                for (ranked, original) in zip(result.candidates, plainBeam.candidates) {
                    #expect(abs(ranked.score - original.score) < 2e-3 * max(1, abs(original.score)), "lp \(penalty) \(prompt)")
                }
                // Equal up to float noise: where two scores differ by more than the noise, the order is the beam's.
                let order = result.candidates.map { c in plainBeam.candidates.firstIndex { $0.tokens == c.tokens }! }
                for (a, b) in zip(order, order.dropFirst()) where a > b {
                    #expect(abs(plainBeam.candidates[a].score - plainBeam.candidates[b].score) < 2e-3, "lp \(penalty) \(prompt)")
                }
            }
        }
    }

    /// Candidates scored together in packed token trees, shared prefixes merged, equal their
    /// token-by-token log-probabilities.
    @Test func packedScoringEqualsTokenByToken() throws {
        let service = try Fixtures.resources.model(at: Fixtures.target)
        let prompt: [Int32] = [3, 8, 2]
        var candidates: [[Int32]] = [[5, 6, 7], [5, 6, 9, 10], [5], [11, 12], [5, 6, 7, 8, 9]]
        // Enough long candidates that the packing needs several passes.
        for i in 0 ..< 6 { candidates.append((0 ..< 120).map { Int32(($0 * 7 + i * 13) % 40 + 1) }) }
        let sums = try RerankOp.logProbabilities(of: candidates, after: prompt, scorer: ModelSequenceScorer(service: service))
        let fresh = FreshScorer(service: service)
        for (candidate, sum) in zip(candidates, sums) {
            var expected: Float = 0
            for position in candidate.indices {
                let row = try Distribution.logSoftmax(try fresh.nextLogits(context: prompt + candidate[..<position]))
                expected += row[Int(candidate[position])]
            }
            #expect(abs(sum - expected) < 1e-3 * max(1, abs(expected)), "\(candidate.prefix(6))…: \(sum) vs \(expected)")
        }
    }

    @Test func mbrPicksTheConsensusAmongSamples() throws {
        let session = try Session(plan: try Self.plan("by: mbr, utility: edit",
                                                      search: "search.sample, from: dist, samples: 8, finish: all"))
        let result = try session.run(prompt: [1, 7, 9], seed: 3)
        #expect(result.candidates.count == 8)
        #expect(result.tokens == result.candidates[0].tokens)
        // Each score is the mean edit similarity to the other seven.
        let u = SentenceUtility.edit
        for candidate in result.candidates {
            let others = result.candidates.filter { $0 != candidate }
            let mean = others.map { u.score(u.prepare(text: "", tokens: candidate.tokens), against: u.prepare(text: "", tokens: $0.tokens)) }
                .reduce(0, +) / Double(others.count)
            #expect(abs(Double(candidate.score) - mean) < 1e-6)
        }
        #expect(zip(result.candidates, result.candidates.dropFirst()).allSatisfy { $0.score >= $1.score })
    }

    @Test func settingsThatDoNotGoTogetherAreRefusedWhenTheGraphCompiles() throws {
        for bad in ["by: logprob", "by: mbr, model: target", "by: logprob, model: target, utility: bleu", "by: mbr, length_penalty: 2"] {
            #expect(throws: (any Error).self, "\(bad)") { try Self.plan(bad) }
        }
        // chrF compares texts: the fixture target has no tokenizer.
        #expect(throws: (any Error).self) { try Session(plan: try Self.plan("by: mbr, utility: chrf")) }
    }
}
