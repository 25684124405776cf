import Testing
@testable import Operators

/// Lexically constrained beam search against transformers 4.56's `force_words_ids` (replayed
/// logits), and the phrase bookkeeping by hand.
@Suite struct ConstrainedBeamSearchTests {
    @Test func matchesTransformersConstrainedBeamSearch() throws {
        let (scorer, runs) = try ReplayScorer.fixture("constrained_beam_search.json")
        #expect(runs.count >= 40)
        for run in runs {
            let earlyName = try #require(run["early_stopping"] as? String)
            let early = try #require(BeamSearch.EarlyStopping(rawValue: earlyName))
            let beams = try #require(run["num_beams"] as? Int), keep = try #require(run["num_return_sequences"] as? Int)
            let lengthPenalty = try #require(run["length_penalty"] as? Double), maxNew = try #require(run["max_new_tokens"] as? Int)
            let phrases = try #require(run["phrases"] as? [[Int]]).map { $0.map(Int32.init) }
            let search = try ConstrainedBeamSearch(numBeams: beams, phrases: phrases, lengthPenalty: lengthPenalty, earlyStopping: early,
                                                   maxNewTokens: maxNew, eosTokens: Set(Fixtures.ints(run["eos"])),
                                                   fallbackCount: keep, promptCounts: true)
            let prompt = Fixtures.ints(run["prompt"])
            let label = "beams=\(beams) keep=\(keep) phrases=\(phrases) lp=\(lengthPenalty) early=\(early) prompt=\(prompt)"
            let got = try Array(search.run(prompt: prompt, scorer: scorer).prefix(keep))
            try ReplayScorer.expect(got, equal: run, label)
            // With one answer asked for, it meets every phrase whenever any beam did.
            if keep == 1, let answer = got.first, PhraseProgress(phrases: phrases, tokens: prompt + answer.tokens).completed == false {
                Issue.record("\(label): the answer \(answer.tokens) misses a phrase")
            }
        }
    }

    @Test func phraseProgressFollowsTransformersBookkeeping() {
        let phrases: [[Int32]] = [[5, 6, 7], [9]]
        var p = PhraseProgress(phrases: phrases, tokens: [1, 5, 6])
        #expect(p.inProgress?.phrase == 0 && p.inProgress?.matched == 2)
        #expect(p.advancing == [7])
        #expect(p.bank == 2)
        // A breaking token sends the phrase back and starts nothing itself.
        p = PhraseProgress(phrases: phrases, tokens: [5, 9])
        #expect(p.inProgress == nil && p.pending == [1, 0] && p.completedCount == 0)
        p = PhraseProgress(phrases: phrases, tokens: [9, 5, 6, 7])
        #expect(p.completed && p.bank == 6)
        // A shorter phrase in progress counts from the longest one's length.
        p = PhraseProgress(phrases: [[1, 2, 3], [4, 5]], tokens: [4])
        #expect(p.bank == 2)
    }

    @Test func rejectsPhrasesThatCannotBeMet() {
        #expect(throws: OperatorError.self) { try ConstrainedBeamSearch(numBeams: 2, phrases: [], maxNewTokens: 4, eosTokens: [0]) }
        #expect(throws: OperatorError.self) { try ConstrainedBeamSearch(numBeams: 2, phrases: [[]], maxNewTokens: 4, eosTokens: [0]) }
        #expect(throws: OperatorError.self) { try ConstrainedBeamSearch(numBeams: 2, phrases: [[3, 0]], maxNewTokens: 4, eosTokens: [0]) }
    }
}
