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

    /// A transformers beam fixture: the scorer replaying its logits and its runs.
    /// - Parameter name: the fixture file under Tests/Fixtures/operators.
    static func fixture(_ name: String) throws -> (scorer: ReplayScorer, runs: [[String: Any]]) {
        let fixture = try Fixtures.json(name)
        let table = try #require(fixture["logits"] as? [String: Any])
        let vocabularySize = try #require(fixture["vocab_size"] as? Int)
        let runs = try #require(fixture["runs"] as? [[String: Any]])
        return (ReplayScorer(vocabularySize: vocabularySize, logits: table.mapValues { Fixtures.floats($0) }), runs)
    }

    /// Checks hypotheses against a fixture run's: the same tokens in the same order, scores within
    /// 1e-4 (relative above 1).
    static func expect(_ got: [BeamSearch.Hypothesis], equal run: [String: Any], _ label: String) throws {
        let expected = try #require(run["hypotheses"] as? [[String: Any]])
        #expect(got.map(\.tokens) == expected.map { Fixtures.ints($0["tokens"]) }, "\(label)")
        for (g, e) in zip(got, expected) {
            let score = try #require(e["score"] as? Double)
            #expect(abs(Double(g.score) - score) <= 1e-4 * max(1, abs(score)), "\(label): \(g.score) vs \(score)")
        }
    }
}

@Suite struct BeamSearchTests {
    @Test func matchesTransformersGenerate() throws {
        let (scorer, runs) = try ReplayScorer.fixture("beam_search.json")
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
            try ReplayScorer.expect(try search.run(prompt: Fixtures.ints(run["prompt"]), scorer: scorer), equal: run, label)
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
