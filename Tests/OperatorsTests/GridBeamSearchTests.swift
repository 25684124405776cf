import Foundation
import Testing
@testable import Operators

/// Grid Beam Search (Hokamp & Liu 2017) against exhaustive search: with cells wide enough to keep
/// every hypothesis and no length normalisation, it must find the best-scoring sequence that holds
/// every phrase, and every finished hypothesis must hold them all.
@Suite struct GridBeamSearchTests {
    /// Logits over four tokens (0 is EOS) that depend on the last two tokens.
    struct Scripted: TreeScorer {
        let vocabularySize = 4
        func score(context: [Int32], tree: TokenTree) throws -> [[Float]] {
            let a = Int(context.last ?? 0), b = Int(context.dropLast().last ?? 0)
            return [(0 ..< 4).map { t in Float((t * 7 + a * 5 + b * 3) % 11) * 0.3 - (t == 0 ? 0.8 : 0) }]
        }
    }

    /// Whether `tokens` holds every phrase at disjoint positions.
    static func holds(_ tokens: [Int32], _ phrases: [[Int32]]) -> Bool {
        func place(_ remaining: ArraySlice<[Int32]>, _ used: Set<Int>) -> Bool {
            guard let phrase = remaining.first else { return true }
            guard tokens.count >= phrase.count else { return false }
            for start in 0 ... tokens.count - phrase.count where Array(tokens[start ..< start + phrase.count]) == phrase {
                let span = Set(start ..< start + phrase.count)
                if span.isDisjoint(with: used), place(remaining.dropFirst(), used.union(span)) { return true }
            }
            return false
        }
        return place(phrases[...], [])
    }

    /// The best sequence by summed log-probability: EOS-ended ones up to the budget, and
    /// budget-length ones without EOS, among those holding every phrase.
    static func exhaustive(prompt: [Int32], phrases: [[Int32]], budget: Int) throws -> (tokens: [Int32], score: Float) {
        var best: (tokens: [Int32], score: Float) = ([], -.infinity)
        func visit(_ tokens: [Int32], _ score: Float) throws {
            let row = try Distribution.logSoftmax(try Scripted().nextLogits(context: prompt + tokens))
            if holds(tokens, phrases), score + row[0] > best.score { best = (tokens + [0], score + row[0]) }
            for t in 1 ..< 4 {
                let next = tokens + [Int32(t)]
                if next.count == budget {
                    if holds(next, phrases), score + row[t] > best.score { best = (next, score + row[t]) }
                } else {
                    try visit(next, score + row[t])
                }
            }
        }
        try visit([], 0)
        return best
    }

    @Test(arguments: [([[Int32]]([[2], [3, 1]]), 5), ([[1, 1]], 4), ([[3], [2], [1]], 5)])
    func wideCellsFindTheExhaustiveOptimum(phrases: [[Int32]], budget: Int) throws {
        for prompt: [Int32] in [[1], [2, 3], [3, 3, 1]] {
            let search = try GridBeamSearch(width: 500, phrases: phrases, lengthPenalty: 0, earlyStopping: .heuristic,
                                            maxNewTokens: budget, eosTokens: [0])
            let got = try search.run(prompt: prompt, scorer: Scripted())
            let expected = try Self.exhaustive(prompt: prompt, phrases: phrases, budget: budget)
            #expect(got.first?.tokens == expected.tokens, "phrases \(phrases) prompt \(prompt) \(got.prefix(8).map { ($0.tokens, $0.score) }) want \(expected)")
            #expect(abs((got.first?.score ?? 0) - expected.score) < 1e-4)
            #expect(got.allSatisfy { Self.holds($0.tokens.filter { $0 != 0 }, phrases) })
            #expect(Set(got.map(\.tokens)).count == got.count, "no sequence twice in the n-best list")
        }
    }

    @Test func narrowCellsStillHoldEveryPhraseAndBatchTheGrid() throws {
        let phrases: [[Int32]] = [[2, 2], [3]]
        let search = try GridBeamSearch(width: 2, phrases: phrases, maxNewTokens: 8, eosTokens: [0])
        var state = search.start(prompt: [1])
        while !state.isDone {
            #expect(state.running.count <= 2 * (search.coverageNeeded + 1))
            try search.step(&state, logits: state.running.map { try Scripted().nextLogits(context: [1] + $0) })
        }
        #expect(!state.finished.isEmpty)
        #expect(state.finished.allSatisfy { Self.holds($0.tokens.filter { $0 != 0 }, phrases) })
    }
}
