import Operators
import Testing
@testable import Engine

/// `no_repeat_ngram_size` on the demo target, which repeats itself (rep-4 ≈ 0.8): greedy decoding
/// with it never repeats a trigram of prompt + output, speculative decoding with it emits exactly
/// what greedy decoding with it emits, and no beam repeats one either.
@Suite struct NoRepeatNGramGraphTests {
    static func repeatsATrigram(_ tokens: [Int32]) -> Bool {
        var seen = Set<[Int32]>()
        for start in 0 ..< max(0, tokens.count - 2) where !seen.insert(Array(tokens[start ..< start + 3])).inserted { return true }
        return false
    }

    @Test func greedySpeculativeAndBeamsNeverRepeatATrigram() throws {
        let edits = [("pick: { op: sample, from: scores, temperature: 0 }", "pick: { op: sample, from: scores, temperature: 0, no_repeat_ngram_size: 3 }")]
        let plainGreedy = try Session(plan: try DemoGraphs.plan("greedy.yaml"), resources: DemoGraphs.resources)
        let greedy = try Session(plan: try DemoGraphs.plan("greedy.yaml", edits: edits), resources: DemoGraphs.resources)
        let speculative = try Session(plan: try DemoGraphs.plan("speculative.yaml", edits: [
            ("pick: { op: sample, from: scores, temperature: $temperature }", "pick: { op: sample, from: scores, temperature: 0, no_repeat_ngram_size: 3 }")]),
                                      resources: DemoGraphs.resources)
        let beams = try Session(plan: try DemoGraphs.plan("beam.yaml", edits: [("width: 4,", "width: 4, no_repeat_ngram_size: 3,")]),
                                resources: DemoGraphs.resources)
        let tokenizer = try #require(greedy.tokenizer)
        var plainRepeats = 0
        for text in ["def parse(text):\n    for line in text.splitlines():\n", "class Point:\n    def __init__(self, x, y):\n"] {
            let prompt = tokenizer.encode(text, addSpecialTokens: false)
            #expect(!Self.repeatsATrigram(prompt), "the prompt itself must not repeat one for the check to mean anything")
            if Self.repeatsATrigram(prompt + (try plainGreedy.run(prompt: prompt, maxNewTokens: 96)).tokens) { plainRepeats += 1 }
            let expected = try greedy.run(prompt: prompt, maxNewTokens: 96).tokens
            #expect(!Self.repeatsATrigram(prompt + expected), "\(text)")
            #expect(try speculative.run(prompt: prompt, maxNewTokens: 96).tokens == expected, "speculative ≡ greedy under the same processors: \(text)")
            let searched = try beams.run(prompt: prompt, maxNewTokens: 32)
            for candidate in searched.candidates { #expect(!Self.repeatsATrigram(prompt + candidate.tokens), "beam: \(text)") }
        }
        #expect(plainRepeats > 0, "without the setting the demo target repeats trigrams")
    }
}
