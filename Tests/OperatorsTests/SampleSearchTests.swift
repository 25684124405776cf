import Testing
@testable import Operators

/// `search.sample`: N samples drawn side by side (First Finish Search and best-of-N).
@Suite struct SampleSearchTests {
    /// A next-token distribution over six tokens that depends on the previous token; token 0 is EOS
    /// and grows likelier as a sample gets longer.
    static func distribution(after tokens: [Int32]) -> [Float] {
        let last = Float(tokens.last ?? 3)
        let eos = min(0.5, 0.04 * Float(tokens.count))
        var rest: [Float] = [1 + last, 2, 3 - 0.3 * last, 1.5, 0.5 + 0.2 * last]
        let total = rest.reduce(0, +)
        rest = rest.map { $0 / total * (1 - eos) }
        return [eos] + rest
    }

    static func run(_ finish: SampleSearch.Finish, samples: Int, maxNewTokens: Int = 30, seed: UInt64) throws -> SampleSearch {
        var search = SampleSearch(samples: samples, finish: finish, maxNewTokens: maxNewTokens, eosTokens: [0], seed: seed)
        while !search.isDone {
            try search.step(search.running.map { distribution(after: $0) })
        }
        return search
    }

    /// The draws follow the distributions: first tokens, and pairs of first and second tokens, by
    /// Pearson's χ² against p(a) and p(a) · p(b | a).
    @Test func drawsFollowTheDistributions() throws {
        var firsts = Array(repeating: 0, count: 6)
        var pairs = Array(repeating: 0, count: 36)
        for seed in 0 ..< 150 as Range<UInt64> {
            let search = try Self.run(.all, samples: 32, maxNewTokens: 2, seed: seed)
            #expect(search.finished.count == 32)
            for candidate in search.finished {
                let a = Int(candidate.tokens[0])
                firsts[a] += 1
                if candidate.tokens.count == 2 { pairs[a * 6 + Int(candidate.tokens[1])] += 1 }
            }
        }
        let p = Self.distribution(after: []).map(Double.init)
        let first = ChiSquared.test(observed: firsts, expected: p)
        #expect(first.pValue > 1e-4, "\(first)")
        // Pairs given a first token that is not EOS (EOS ends the sample).
        var expected = Array(repeating: 0.0, count: 36)
        for a in 1 ..< 6 {
            let q = Self.distribution(after: [Int32(a)])
            for b in 0 ..< 6 { expected[a * 6 + b] = p[a] / (1 - p[0]) * Double(q[b]) }
        }
        let pair = ChiSquared.test(observed: pairs, expected: expected)
        #expect(pair.pValue > 1e-4, "\(pair)")
    }

    /// With the same seed every sample draws the same tokens under either rule, so First Finish
    /// Search answers with best-of-N's shortest EOS-ended sample, having drawn no more tokens.
    @Test func firstFinishIsBestOfNsShortestFinisher() throws {
        var saved = 0, total = 0
        for seed in 0 ..< 40 as Range<UInt64> {
            let all = try Self.run(.all, samples: 6, seed: seed)
            let first = try Self.run(.first, samples: 6, seed: seed)
            let finishers = all.finished.filter { $0.tokens.last == 0 }
            let answer = try #require(first.finished.first)
            if let shortest = finishers.map(\.tokens.count).min() {
                #expect(answer.tokens.count == shortest, "seed \(seed)")
                #expect(finishers.contains(answer), "seed \(seed)")
                #expect(first.finished.filter { $0.tokens.last == 0 }.allSatisfy { $0.tokens.count == shortest })
            } else {
                #expect(first.finished.count == 6, "nobody finished: every sample ran to the budget")
            }
            #expect(first.drawnTokens <= all.drawnTokens)
            #expect(all.drawnTokens == all.finished.reduce(0) { $0 + $1.tokens.count })
            saved += all.drawnTokens - first.drawnTokens
            total += all.drawnTokens
            // Best-of-N ranks by mean log-probability.
            #expect(zip(all.finished, all.finished.dropFirst()).allSatisfy { $0.score >= $1.score })
        }
        #expect(saved > total / 4, "First Finish Search saved \(saved) of \(total) drawn tokens")
    }

    @Test func sameSeedSameSamplesOtherSeedOthers() throws {
        let a = try Self.run(.all, samples: 4, seed: 7), b = try Self.run(.all, samples: 4, seed: 7)
        let c = try Self.run(.all, samples: 4, seed: 8)
        #expect(a.finished == b.finished)
        #expect(a.finished != c.finished)
        var search = SampleSearch(samples: 3, finish: .all, maxNewTokens: 4, eosTokens: [0], seed: 1)
        #expect(throws: OperatorError.self) { try search.step([[0.5, 0.5], [0.5, 0.5]]) }
    }
}
