import Testing
@testable import Operators

/// Replays the logits transformers' model produced; a prefix it never scored is a failure.
struct ReplayScorer: TreeScorer {
    let vocabularySize: Int
    let logits: [String: [Float]]
    func score(context: [Int32], tree: TokenTree) throws -> [[Float]] {
        let key = context.map(String.init).joined(separator: " ")
        guard tree.isEmpty, let row = logits[key] else {
            throw OperatorError(.unscorableContext, at: "context", "transformers never scored [\(key)]")
        }
        return [row]
    }
}

@Suite struct BeamSearchTests {
    @Test func matchesTransformersGenerate() throws {
        let fixture = try Fixtures.json("beam_search.json")
        let table = try #require(fixture["logits"] as? [String: Any])
        let vocabularySize = try #require(fixture["vocab_size"] as? Int)
        let scorer = ReplayScorer(vocabularySize: vocabularySize, logits: table.mapValues { Fixtures.floats($0) })
        let runs = try #require(fixture["runs"] as? [[String: Any]])
        #expect(runs.count >= 20)
        for run in runs {
            let earlyName = try #require(run["early_stopping"] as? String)
            let early = try #require(BeamSearch.EarlyStopping(rawValue: earlyName))
            let beams = try #require(run["num_beams"] as? Int)
            let lengthPenalty = try #require(run["length_penalty"] as? Double)
            let maxNew = try #require(run["max_new_tokens"] as? Int)
            var shaping = SamplingSettings.greedy
            shaping.repetitionPenalty = Float(try #require(run["repetition_penalty"] as? Double))
            let search = try BeamSearch(numBeams: beams, lengthPenalty: lengthPenalty, earlyStopping: early,
                                        maxNewTokens: maxNew, eosTokens: Set(Fixtures.ints(run["eos"])),
                                        shaping: try LogitsPipeline(shaping))
            let label = "beams=\(search.numBeams) lp=\(search.lengthPenalty) early=\(early) rep=\(shaping.repetitionPenalty) prompt=\(Fixtures.ints(run["prompt"]))"
            let got = try search.run(prompt: Fixtures.ints(run["prompt"]), scorer: scorer)
            let expected = try #require(run["hypotheses"] as? [[String: Any]])
            #expect(got.map(\.tokens) == expected.map { Fixtures.ints($0["tokens"]) }, "\(label)")
            for (g, e) in zip(got, expected) {
                let score = try #require(e["score"] as? Double)
                #expect(abs(Double(g.score) - score) <= 1e-4 * max(1, abs(score)), "\(label): \(g.score) vs \(score)")
            }
        }
    }

    @Test func rejectsBadSettingsAndRows() throws {
        #expect(throws: OperatorError.self) { try BeamSearch(numBeams: 0, maxNewTokens: 4, eosTokens: []) }
        #expect(throws: OperatorError.self) { try BeamSearch(numBeams: 2, maxNewTokens: 0, eosTokens: []) }
        let search = try BeamSearch(numBeams: 2, maxNewTokens: 3, eosTokens: [0])
        #expect(throws: OperatorError.self) {
            try BeamSearch(numBeams: 2, maxNewTokens: 4, eosTokens: [], shaping: try LogitsPipeline(SamplingSettings(temperature: 1)))
        }
        var state = search.start(prompt: [1])
        #expect(throws: OperatorError.self) { try search.step(&state, logits: [[0, 1], [1, 0]]) }
    }
}
