import Foundation
import Testing
@testable import Operators

@Suite struct LogitsPipelineTests {
    /// transformers' class for each of our processors.
    static let hfName: [String: String] = [
        "repetition_penalty": "RepetitionPenaltyLogitsProcessor", "mask": "SuppressTokensLogitsProcessor",
        "temperature": "TemperatureLogitsWarper", "top_k": "TopKLogitsWarper", "top_p": "TopPLogitsWarper",
        "min_p": "MinPLogitsWarper", "typical_p": "TypicalLogitsWarper", "epsilon_cutoff": "EpsilonLogitsWarper",
        "eta_cutoff": "EtaLogitsWarper",
    ]

    static func settings(_ json: [String: Any]) -> SamplingSettings {
        var s = SamplingSettings()
        let sample = json["do_sample"] as? Bool ?? false
        s.temperature = sample ? Float((json["temperature"] as? Double) ?? 1) : 0
        s.topK = json["top_k"] as? Int ?? 0
        s.topP = Float(json["top_p"] as? Double ?? 1)
        s.minP = Float(json["min_p"] as? Double ?? 0)
        s.typicalP = Float(json["typical_p"] as? Double ?? 1)
        s.epsilonCutoff = Float(json["epsilon_cutoff"] as? Double ?? 0)
        s.etaCutoff = Float(json["eta_cutoff"] as? Double ?? 0)
        s.repetitionPenalty = Float(json["repetition_penalty"] as? Double ?? 1)
        s.suppressedTokens = Fixtures.ints(json["suppress_tokens"])
        s.minTokensToKeep = json["min_tokens_to_keep"] as? Int ?? 1
        return s
    }

    @Test func matchesTransformersOrderAndValues() throws {
        let cases = try #require(Fixtures.json("logits_processors.json")["cases"] as? [[String: Any]])
        #expect(cases.count >= 20)
        let warpers = Set(cases.flatMap { $0["processors"] as? [String] ?? [] })
        #expect(warpers.isSuperset(of: ["TypicalLogitsWarper", "EpsilonLogitsWarper", "EtaLogitsWarper"]))
        for c in cases {
            let pipeline = try LogitsPipeline(Self.settings(try #require(c["settings"] as? [String: Any])))
            #expect(pipeline.processors.map { Self.hfName[$0.name] ?? $0.name } == (c["processors"] as? [String]), "\(c["settings"]!)")
            for row in try #require(c["rows"] as? [[String: Any]]) {
                var logits = Fixtures.floats(row["logits"])
                let expected = Fixtures.floats(row["processed"])
                pipeline.process(&logits, context: LogitsContext(tokens: Fixtures.ints(row["history"]), promptCount: 6))
                #expect(logits.count == expected.count)
                for (a, b) in zip(logits, expected) {
                    let close = a == b || abs(a - b) <= 1e-5 * max(1, abs(b))
                    #expect(close, "\(c["settings"]!): \(a) vs \(b)")
                }
            }
        }
    }

    /// OpenAI's documented formula, worked by hand: prompt tokens do not count.
    @Test func presenceAndFrequencyPenaltiesCountGeneratedTokensOnly() throws {
        let p = try OccurrencePenaltyProcessor(presence: 0.5, frequency: 0.25)
        var logits: [Float] = [1, 1, 1, 1]
        p.process(&logits, context: LogitsContext(tokens: [3, 3, 0, 2, 2, 2, 0], promptCount: 2))
        // Token 0: generated twice → 1 − 0.5 − 2·0.25; token 2: three times → 1 − 0.5 − 3·0.25; token 3 only in the prompt.
        let expected: [Float] = [0, 1, -0.25, 1]
        #expect(logits == expected)
    }

    @Test func greedySelectionIsArgmaxAfterPenalties() throws {
        var settings = SamplingSettings.greedy
        settings.repetitionPenalty = 2
        let pipeline = try LogitsPipeline(settings)
        var rng = Xoshiro256StarStar(seed: 1)
        // Token 1 leads but was already generated: 3 / 2 < 2.
        #expect(try pipeline.select([0, 3, 2], context: LogitsContext(tokens: [1], promptCount: 0), using: &rng) == 2)
        #expect(try pipeline.distribution([0, 3, 2], context: LogitsContext(tokens: [], promptCount: 0)) == [0, 1, 0])
    }

    @Test func samplingFollowsTheDistribution() throws {
        let pipeline = try LogitsPipeline(SamplingSettings(temperature: 1, topK: 2))
        var rng = Xoshiro256StarStar(seed: 7)
        let logits: [Float] = [0, Float(Foundation.log(3.0)), 5, 0]
        // Top-2 keeps tokens 2 and 1, with probabilities e⁵/(e⁵+3) and 3/(e⁵+3).
        var counts = [0, 0, 0, 0]
        let n = 20_000
        for _ in 0..<n { counts[Int(try pipeline.select(logits, context: LogitsContext(tokens: [], promptCount: 0), using: &rng))] += 1 }
        let p1 = 3 / (Foundation.exp(5.0) + 3)
        let result = ChiSquared.test(observed: counts, expected: [0, p1, 1 - p1, 0])
        #expect(result.pValue > 1e-3, "\(result)")
    }

    /// Sampling settings with one knob changed.
    static func with(_ knob: WritableKeyPath<SamplingSettings, Float>, _ value: Float) -> SamplingSettings {
        var settings = SamplingSettings()
        settings[keyPath: knob] = value
        return settings
    }

    @Test(arguments: [
        ("temperature", SamplingSettings(temperature: -1)), ("top_k", SamplingSettings(temperature: 1, topK: -3)),
        ("top_p", SamplingSettings(temperature: 1, topP: 0)), ("top_p", SamplingSettings(temperature: 1, topP: 1.5)),
        ("top_p", SamplingSettings(temperature: 0, topP: 1.5)), ("min_p", SamplingSettings(temperature: 1, minP: 1.5)),
        ("typical_p", with(\.typicalP, 0)), ("typical_p", with(\.typicalP, 1.01)), ("epsilon_cutoff", with(\.epsilonCutoff, 1)),
        ("epsilon_cutoff", with(\.epsilonCutoff, -0.1)), ("eta_cutoff", with(\.etaCutoff, 1)), ("eta_cutoff", with(\.etaCutoff, .nan)),
    ])
    func rejectsOutOfRangeSettings(name: String, settings: SamplingSettings) {
        #expect { try LogitsPipeline(settings) } throws: { ($0 as? OperatorError)?.location == name }
    }

    @Test func fullyMaskedRowIsAnErrorNotACrash() throws {
        let pipeline = try LogitsPipeline(SamplingSettings(temperature: 1))
        var rng = Xoshiro256StarStar(seed: 1)
        #expect(throws: OperatorError.self) {
            try pipeline.select([-.infinity, -.infinity], context: LogitsContext(tokens: [], promptCount: 0), using: &rng)
        }
        #expect(throws: OperatorError.self) { try Distribution.softmax([.nan, 1]) }
    }
}

/// transformers' `no_repeat_ngram_size`, by hand: its `_get_ngrams` / `_calc_banned_ngram_tokens`
/// rule on short contexts, and the pipeline's place for it.
@Suite struct NoRepeatNGramTests {
    @Test func bansTheTokensThatWouldRepeatAnNGram() throws {
        // Context 5 9 7 5 9: the trigrams are (5 9 7), (9 7 5), (7 5 9); the last two tokens 5 9
        // begin the first, so 7 is banned after them; the bigrams after 9 end in 7; unigrams: all.
        let context: [Int32] = [5, 9, 7, 5, 9]
        #expect(try NoRepeatNGramProcessor(size: 3).banned(after: context) == [7])
        #expect(try NoRepeatNGramProcessor(size: 2).banned(after: context) == [7])
        #expect(Set(try NoRepeatNGramProcessor(size: 1).banned(after: context)) == [5, 9, 7])
        // Every occurrence of the prefix counts: 1 2 a … 1 2 b … 1 2 bans a and b.
        #expect(try NoRepeatNGramProcessor(size: 3).banned(after: [1, 2, 3, 1, 2, 4, 1, 2]) == [3, 4])
        // Too short a context (cur_len + 1 < n) bans nothing; a prefix never seen bans nothing.
        #expect(try NoRepeatNGramProcessor(size: 4).banned(after: [1, 2]).isEmpty)
        #expect(try NoRepeatNGramProcessor(size: 3).banned(after: [1, 2, 3, 4]).isEmpty)
        #expect(throws: OperatorError.self) { try NoRepeatNGramProcessor(size: 0) }
    }

    @Test func thePipelineRemovesThemBeforeSelecting() throws {
        var settings = SamplingSettings.greedy
        settings.noRepeatNGramSize = 2
        let pipeline = try LogitsPipeline(settings)
        #expect(pipeline.processors.map(\.name) == ["no_repeat_ngram_size"])
        // Token 3 is the argmax, but 4 3 already occurred and the context ends with 4.
        var logits: [Float] = [0, 1, 2, 9, 3]
        pipeline.process(&logits, context: LogitsContext(tokens: [4, 3, 1, 4], promptCount: 2))
        #expect(logits == [0, 1, 2, -.infinity, 3])
        var rng = Xoshiro256StarStar(seed: 1)
        #expect(try pipeline.select([0, 1, 2, 9, 3], context: LogitsContext(tokens: [4, 3, 1, 4], promptCount: 2), using: &rng) == 4)
    }
}
