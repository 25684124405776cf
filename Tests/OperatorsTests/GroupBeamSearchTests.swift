import Testing
@testable import Operators

/// Diverse beam search against transformers 4.56's group beam search (replayed logits), and
/// patience (Kasai et al. 2022) against hand-checked properties.
@Suite struct GroupBeamSearchTests {
    @Test func matchesTransformersGroupBeamSearch() throws {
        let (scorer, runs) = try ReplayScorer.fixture("group_beam_search.json")
        #expect(runs.count >= 20)
        var closedEarly = 0
        for run in runs {
            let earlyName = try #require(run["early_stopping"] as? String)
            let early = try #require(BeamSearch.EarlyStopping(rawValue: earlyName))
            let beams = try #require(run["num_beams"] as? Int), groups = try #require(run["num_beam_groups"] as? Int)
            let diversity = try #require(run["diversity_penalty"] as? Double), lengthPenalty = try #require(run["length_penalty"] as? Double)
            let maxNew = try #require(run["max_new_tokens"] as? Int)
            var shaping = SamplingSettings.greedy
            shaping.repetitionPenalty = Float(try #require(run["repetition_penalty"] as? Double))
            let search = try GroupBeamSearch(numBeams: beams, groups: groups, diversityPenalty: diversity, lengthPenalty: lengthPenalty,
                                             earlyStopping: early, maxNewTokens: maxNew, eosTokens: Fixtures.ints(run["eos"]),
                                             shaping: try LogitsPipeline(shaping))
            let label = "beams=\(search.numBeams) groups=\(search.groups) λ=\(search.diversityPenalty) lp=\(search.lengthPenalty) early=\(early) prompt=\(Fixtures.ints(run["prompt"]))"
            let got = try search.run(prompt: Fixtures.ints(run["prompt"]), scorer: scorer)
            try ReplayScorer.expect(got, equal: run, label)
            if got.contains(where: { $0.tokens.count < search.maxNewTokens && !search.eosTokens.contains($0.tokens.last ?? -1) }) { closedEarly += 1 }
        }
        // The grid must reach the paths that differ from plain beam search: a group closed while others ran on.
        #expect(runs.contains { ($0["hypotheses"] as? [[String: Any]])?.contains { Fixtures.ints($0["tokens"]).count == 1 } ?? false })
        #expect(closedEarly == 0, "a hypothesis that is neither finished by EOS nor at the budget")
    }

    @Test func groupsDifferWhereThePenaltyBites() throws {
        // Two groups of one beam over a four-token vocabulary; both prefer token 2, so the second
        // group takes token 1 once the penalty outweighs the gap.
        let rows: [Float] = [0, 1.0, 1.5, -5]
        var search = try GroupBeamSearch(numBeams: 2, groups: 2, diversityPenalty: 1, maxNewTokens: 1, eosTokens: [3])
        var state = search.start(prompt: [0])
        try search.step(&state, logits: [rows])
        #expect(state.finished.map(\.tokens) == [[2], [1]])
        search = try GroupBeamSearch(numBeams: 2, groups: 2, diversityPenalty: 0.25, maxNewTokens: 1, eosTokens: [3])
        state = search.start(prompt: [0])
        try search.step(&state, logits: [rows])
        #expect(state.finished.map(\.tokens) == [[2], [2]])
        // The penalty stays in the second group's score: log p(2) − 0.25.
        let logProbabilities = try Distribution.logSoftmax(rows)
        #expect(abs(state.finished[1].score - (logProbabilities[2] - 0.25)) < 1e-6)
    }

    @Test func rejectsSettingsTransformersRejects() throws {
        #expect(throws: OperatorError.self) { try GroupBeamSearch(numBeams: 4, groups: 3, diversityPenalty: 1, maxNewTokens: 4, eosTokens: []) }
        #expect(throws: OperatorError.self) { try GroupBeamSearch(numBeams: 4, groups: 2, diversityPenalty: 0, maxNewTokens: 4, eosTokens: []) }
        #expect(throws: OperatorError.self) { try GroupBeamSearch(numBeams: 4, groups: 8, diversityPenalty: 1, maxNewTokens: 4, eosTokens: []) }
        let search = try GroupBeamSearch(numBeams: 4, groups: 2, diversityPenalty: 1, maxNewTokens: 4, eosTokens: [0])
        var state = search.start(prompt: [1])
        #expect(throws: OperatorError.self) { try search.step(&state, logits: [[0, 1], [1, 0]]) }
    }
}

/// Patience scales the finished pool: with `early_stopping: true`, p · k hypotheses must finish
/// before the search stops.
@Suite struct BeamPatienceTests {
    /// A scorer whose EOS (token 0) probability rises with the generated length, so hypotheses
    /// finish one after another.
    struct RisingEOS: TreeScorer {
        let vocabularySize = 6
        func score(context: [Int32], tree: TokenTree) throws -> [[Float]] {
            let n = Float(context.count)
            let last = Float(context.last ?? 0)
            return [[n * 0.3 - 2, 0.5 + 0.1 * last, 0.4, 0.3 - 0.05 * last, 0.2, 0.1]]
        }
    }

    @Test func patienceOneIsPlainBeamSearch() throws {
        for early in BeamSearch.EarlyStopping.allCases {
            let plain = try BeamSearch(numBeams: 3, earlyStopping: early, maxNewTokens: 12, eosTokens: [0])
            let patient = try BeamSearch(numBeams: 3, earlyStopping: early, patience: 1, maxNewTokens: 12, eosTokens: [0])
            #expect(try plain.run(prompt: [1], scorer: RisingEOS()) == patient.run(prompt: [1], scorer: RisingEOS()))
        }
    }

    @Test(arguments: [0.5, 1.0, 2.0, 3.0])
    func thePoolHoldsPatienceTimesWidthAndTheSearchWaitsForIt(patience: Double) throws {
        let search = try BeamSearch(numBeams: 2, earlyStopping: .whenFull, patience: patience, maxNewTokens: 40, eosTokens: [0])
        #expect(search.poolCapacity == max(1, Int((2 * patience).rounded())))
        var state = search.start(prompt: [1])
        var steps = 0
        while !state.isDone {
            let rows = try state.running.map { try RisingEOS().nextLogits(context: [1] + $0) }
            try search.step(&state, logits: rows)
            steps += 1
            if !state.isDone { #expect(state.finished.count < search.poolCapacity) }
        }
        #expect(state.finished.count == search.poolCapacity)
        #expect(state.finished.allSatisfy { $0.tokens.last == 0 })
        #expect(zip(state.finished, state.finished.dropFirst()).allSatisfy { $0.score >= $1.score })
    }

    @Test func morePatienceNeverStopsSooner() throws {
        var previous = 0
        for patience in [0.5, 1, 1.5, 2, 3] {
            let search = try BeamSearch(numBeams: 2, earlyStopping: .whenFull, patience: patience, maxNewTokens: 40, eosTokens: [0])
            var state = search.start(prompt: [1])
            while !state.isDone {
                try search.step(&state, logits: state.running.map { try RisingEOS().nextLogits(context: [1] + $0) })
            }
            #expect(state.generatedLength >= previous, "patience \(patience)")
            previous = state.generatedLength
        }
        #expect(throws: OperatorError.self) { try BeamSearch(numBeams: 2, patience: 0, maxNewTokens: 4, eosTokens: []) }
    }
}
