import Testing
@testable import Operators

/// The MBR utilities against sacrebleu 2.6 (sentence chrF and BLEU), and edit similarity by hand.
@Suite struct SentenceUtilityTests {
    @Test func chrFAndBLEUMatchSacrebleu() throws {
        let fixture = try Fixtures.json("sentence_utility.json")
        let pairs = try #require(fixture["pairs"] as? [[String: Any]])
        #expect(pairs.count >= 150)
        for pair in pairs {
            let h = try #require(pair["hypothesis"] as? String), r = try #require(pair["reference"] as? String)
            for (utility, key) in [(SentenceUtility.chrf, "chrf"), (.bleu, "bleu")] {
                let expected = try #require(pair[key] as? Double) / 100
                let got = utility.score(utility.prepare(text: h, tokens: []), against: utility.prepare(text: r, tokens: []))
                #expect(abs(got - expected) < 1e-9, "\(key)(\(h.debugDescription), \(r.debugDescription)): \(got) vs \(expected)")
            }
        }
    }

    @Test func thirteenATokenisation() {
        #expect(SentenceUtility.tokenize13a("Prices rose 3.5% to $1,200 in 2024-25.") == ["Prices", "rose", "3.5", "%", "to", "$", "1,200", "in", "2024", "-", "25", "."])
        #expect(SentenceUtility.tokenize13a("She said &quot;yes&quot;.") == ["She", "said", "\"", "yes", "\"", "."])
    }

    @Test func editSimilarityOverTokens() {
        let u = SentenceUtility.edit
        func s(_ a: [Int32], _ b: [Int32]) -> Double { u.score(u.prepare(text: "", tokens: a), against: u.prepare(text: "", tokens: b)) }
        #expect(s([1, 2, 3], [1, 2, 3]) == 1)
        #expect(s([1, 2, 3], [1, 3]) == 1 - 1.0 / 3)
        #expect(s([1, 2, 3, 4], [4, 3, 2, 1]) == 0)
        #expect(s([], []) == 1)
        #expect(s([5], []) == 0)
        #expect(SentenceUtility.levenshtein([1, 2, 3, 4, 5], [2, 3, 9, 5, 6]) == 3)
    }
}
