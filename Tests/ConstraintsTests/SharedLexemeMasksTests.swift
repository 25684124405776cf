import Testing
@testable import Constraints

/// Lexeme masks shared between grammars through the vocabulary (`SharedLexemeMasks`): masks stay
/// exact when grammars that share lexemes (visiting their states in different orders, so numbering
/// them differently) are interleaved, and a new grammar reuses what earlier ones walked.
@Suite struct SharedLexemeMasksTests {
    /// Both schemas use the plain string, the e-mail format and the `[0, 150]` integer, in different
    /// places and orders; the second also has lexemes of its own (a bounded string, a date).
    static let first = #"""
        {"type": "object", "properties": {"email": {"type": "string", "format": "email"},
          "name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 150}}}
        """#
    static let second = #"""
        {"type": "array", "items": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 150},
          {"type": "string", "format": "email"}, {"type": "object", "properties": {
            "note": {"type": "string"}, "code": {"type": "string", "maxLength": 20}, "day": {"type": "string", "format": "date"}}}]}}
        """#
    static let firstOutput = #"{"email": "ada@example.org", "name": "Ada Lovelace the quick brown fox", "age": 36}"#
    static let secondOutput = #"[150, "x.y@ex.org", {"note": "aaaa \u00e9 ab cd", "code": "open", "day": "2024-02-29"}, 12, "ada@example.org"]"#

    /// The masks of one step, checked against `allows` on every token.
    private static func checkedStep(_ c: inout Constraint, _ token: Int, _ label: String) -> Bool {
        let mask = c.mask()
        var allowed: [Int] = []
        for candidate in 0..<c.vocabulary.count where c.allows(candidate) { allowed.append(candidate) }
        #expect(mask.allowed == allowed, "\(label)")
        return c.advance(token)
    }

    @Test(arguments: [3, TokenVocabulary.defaultMaskHorizon])
    func interleavedGrammarsGetExactMasks(horizon: Int) throws {
        let vocabulary = MaskExactnessTests.vocabulary(horizon: horizon)
        var a = Constraint(grammar: try Grammar.jsonSchema(Self.first), vocabulary: vocabulary)
        var b = Constraint(grammar: try Grammar.jsonSchema(Self.second), vocabulary: vocabulary)
        let ta = try #require(vocabulary.greedySegmentation(Array(Self.firstOutput.utf8)))
        let tb = try #require(vocabulary.greedySegmentation(Array(Self.secondOutput.utf8)))
        for k in 0..<max(ta.count, tb.count) {
            if k < ta.count { #expect(Self.checkedStep(&a, ta[k], "first, step \(k)"), "first: token \(k) refused") }
            if k < tb.count { #expect(Self.checkedStep(&b, tb[k], "second, step \(k)"), "second: token \(k) refused") }
        }
        #expect(a.isAccepting && b.isAccepting)
        #expect(vocabulary.sharedMasks.count > 0)
    }

    /// A new compile of a schema (new lexeme objects, a fresh per-grammar cache) walking an output an
    /// earlier grammar walked finds every lexeme mask in the vocabulary: nothing new is stored.
    @Test func laterGrammarReusesEveryLexemeMask() throws {
        let vocabulary = MaskExactnessTests.vocabulary(horizon: TokenVocabulary.defaultMaskHorizon)
        let tokens = try #require(vocabulary.greedySegmentation(Array(Self.firstOutput.utf8)))
        func walk() throws {
            var c = Constraint(grammar: try Grammar.jsonSchema(Self.first), vocabulary: vocabulary)
            for (k, t) in tokens.enumerated() { #expect(Self.checkedStep(&c, t, "step \(k)")) }
        }
        try walk()
        let stored = vocabulary.sharedMasks.count
        #expect(stored > 0)
        try walk()
        #expect(vocabulary.sharedMasks.count == stored)
    }

    /// Fingerprints describe content: equal for two compiles of one pattern, different for a
    /// different pattern, mode or bound.
    @Test func fingerprintsFollowContent() throws {
        let a = try RegexLexeme(pattern: "[a-z]{0,30}", search: false).maskFingerprint
        #expect(a != nil)
        #expect(a == (try RegexLexeme(pattern: "[a-z]{0,30}", search: false)).maskFingerprint)
        #expect(a != (try RegexLexeme(pattern: "[a-z]{0,31}", search: false)).maskFingerprint)
        #expect(a != (try RegexLexeme(pattern: "[a-z]{0,30}", search: true)).maskFingerprint)
        let n = NumberLexeme(lower: .init(value: DecimalNumber("0")!, exclusive: false), upper: nil, integerOnly: true)
        let m = NumberLexeme(lower: .init(value: DecimalNumber("0")!, exclusive: true), upper: nil, integerOnly: true)
        #expect(n.maskFingerprint != nil && n.maskFingerprint != m.maskFingerprint)
    }
}
