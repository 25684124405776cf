import Foundation
import Testing
@testable import Constraints

/// Bombs: inputs built to crash, hang or exhaust memory. Each ends in a located error, or compiles
/// and runs within bounded time and memory. The fixture corpus (`HostileConstraintCorpusTests`) covers the
/// small ones; the big ones are generated here.
@Suite struct ConstraintBombTests {
    static func refusal(_ body: () throws -> Void) -> ConstraintError? {
        do { try body(); return nil } catch let e as ConstraintError { return e } catch { return nil }
    }

    /// `((((…))))` 10,000 deep crashed the recursive-descent regex parser (stack overflow).
    @Test func deeplyNestedRegexIsRefused() {
        let pattern = String(repeating: "(", count: 10_000) + "a" + String(repeating: ")", count: 10_000)
        let e = Self.refusal { _ = try Grammar.regex(pattern) }
        #expect(e?.code == .invalidRegex)
        #expect(e?.location == "regex:\(RegexParser.maxNesting)")
        #expect(e?.message.contains("nested deeper than \(RegexParser.maxNesting)") == true)
        // At the limit it still compiles.
        let deepest = String(repeating: "(", count: RegexParser.maxNesting) + "a" + String(repeating: ")", count: RegexParser.maxNesting)
        #expect(throws: Never.self) { _ = try Grammar.regex(deepest) }
    }

    /// The same for GBNF parentheses.
    @Test func deeplyNestedGrammarIsRefused() {
        let source = "root ::= " + String(repeating: "(", count: 10_000) + "\"a\"" + String(repeating: ")", count: 10_000)
        let e = Self.refusal { _ = try Grammar.parse(source) }
        #expect(e?.code == .invalidGrammar)
        #expect(e?.location == "1:\(10 + GrammarParser.maxNesting)")
        #expect(e?.message.contains("nested deeper than \(GrammarParser.maxNesting)") == true)
    }

    /// `r0 ::= "a" r1`, `r1 ::= "a" r2`, … 10,000 rules: every rule was folded into its own lexeme
    /// holding the whole rest of the chain (O(n²) NFA states, > 6 GB), through a 10,000-deep regex.
    @Test func longRuleChainCompilesInLinearSpace() throws {
        let n = 10_000
        var source = ""
        for i in 0..<(n - 1) { source += "r\(i) ::= \"a\" r\(i + 1)\n" }
        source += "r\(n - 1) ::= \"a\"\n"
        let grammar = try Grammar.parse(source, root: "r0")
        let states = grammar.lexemes.reduce(0) { $0 + (($1 as? RegexLexeme)?.nfaStateCount ?? 0) }
        #expect(states < 4 * GrammarParser.maxFoldChain * GrammarParser.maxFoldChain)
        var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        #expect(c.advance(bytes: Array(repeating: UInt8(ascii: "a"), count: n)) == n)
        #expect(c.isAccepting)
        #expect(c.advance(bytes: [UInt8(ascii: "a")]) == 0)
    }

    /// A chain of 10,000 nullable rules (`r0 ::= "a"? r1`, …): nullability was a fixed point with one
    /// pass over every production per link (10^8 steps).
    @Test func nullableRuleChainIsLinear() throws {
        let n = 10_000
        var source = ""
        for i in 0..<n { source += "r\(i) ::= \"a\" r\(i + 1) | \"\"\n" }
        source += "r\(n) ::= \"b\"\n"
        let clock = ContinuousClock()
        let start = clock.now
        let grammar = try Grammar.parse(source, root: "r0")
        #expect(clock.now - start < .seconds(2))
        var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        #expect(c.isAccepting)
        #expect(c.advance(bytes: Array("aaa".utf8)) == 3)
        #expect(c.isAccepting)
    }

    /// A production of 10,000 nullable lexemes: adding an item skipped over them recursively.
    @Test func manyNullableLexemesInARow() throws {
        let grammar = try Grammar.parse("root ::= " + String(repeating: "/a*/ ", count: 10_000) + "\"!\"")
        var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        #expect(c.advance(bytes: Array("aa!".utf8)) == 3)
        #expect(c.isAccepting)
    }

    /// Rules that double at each level (`a0 ::= a1 a1`, …) fold into an exponentially large regex;
    /// they stay rules instead.
    @Test func doublingRulesStayRules() throws {
        var source = "root ::= a0\n"
        for i in 0..<40 { source += "a\(i) ::= a\(i + 1) a\(i + 1)\n" }
        source += "a40 ::= \"\" | \"x\"\n"
        let grammar = try Grammar.parse(source)
        var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        #expect(c.advance(bytes: Array("xxx".utf8)) == 3)
        #expect(c.isAccepting)
    }

    /// A bounded repetition of a regular body still folds into one lexeme (a counted regex, not its
    /// unrolled chain of rules), however long the chain.
    @Test func boundedRepetitionFoldsIntoOneLexeme() throws {
        let grammar = try Grammar.parse("root ::= [a-z]{0,5000} \"!\"")
        #expect(grammar.lexemes.count <= 2)
        var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        #expect(c.advance(bytes: Array(repeating: UInt8(ascii: "q"), count: 5000) + [UInt8(ascii: "!")]) == 5001)
        #expect(c.isAccepting)
    }

    /// ECMA-262 (with the `u` flag JSON Schema patterns use) has one quantifier per atom, no lone
    /// brackets, and `\c` only before a letter.
    @Test(arguments: [("a**", 2), ("a+*", 2), ("a{2}{3}", 4), ("a??+", 3), ("a]", 1), ("a}", 1), ("x{", 1), ("\\c1", 2),
                      ("[a", 2), ("(a", 2), ("a)", 1), ("a{2,1}", 6)])
    func malformedPatternsAreLocated(pattern: String, offset: Int) {
        let e = Self.refusal { _ = try Grammar.regex(pattern) }
        #expect(e?.code == .invalidRegex, "\(pattern)")
        #expect(e?.location == "regex:\(offset)", "\(pattern): \(String(describing: e))")
    }

    /// Quantifiers that are fine stay fine (lazy suffixes, escaped brackets, a quantified group).
    @Test(arguments: ["a*?", "a+?b", "(a*)*", "\\{\\}\\]", "[{}\\]]", "a{2}?", "\\cJ"])
    func wellFormedQuantifiersStillCompile(pattern: String) {
        #expect(throws: Never.self) { _ = try Grammar.regex(pattern) }
    }

    /// A 100,000-string `enum` (1.5 MB of schema) took over 30 s and 5.9 GB: one rule and one
    /// lexeme per string. Now one trie lexeme: linear in the bytes, masks from one parser item.
    @Test func hugeStringEnumIsLinear() throws {
        let n = 100_000
        let values = (0..<n).map { "value-\($0 * 7919 % n)-\($0 % 13)" }
        let schema = "{\"enum\": [" + values.map { "\"\($0)\"" }.joined(separator: ",") + ", 3, null]}"
        #expect(schema.utf8.count > 1_500_000)
        let clock = ContinuousClock()
        let start = clock.now
        let grammar = try Grammar.jsonSchema(schema)
        let compile = clock.now - start
        #expect(compile < .seconds(20), "compile took \(compile)")
        for text in ["\"\(values[0])\"", "\"\(values[n - 1])\"", "3", "null"] {
            var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
            #expect(c.advance(bytes: Array(text.utf8)) == text.utf8.count && c.isAccepting, "\(text)")
        }
        var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        #expect(c.advance(bytes: Array("\"value-".utf8)) == 7)
        let mask = c.mask()
        for t in 0..<SyntheticVocabulary.shared.count {
            #expect(mask.contains(t) == c.allows(t), "token \(t)")
            // A digit, or the escape `\u0030` that spells one.
            if mask.contains(t) { #expect((0x30...0x39).contains(SyntheticVocabulary.shared.tokenBytes[t][0]) || SyntheticVocabulary.shared.tokenBytes[t][0] == 0x5C) }
        }
        #expect(c.advance(bytes: Array("x".utf8)) == 0)
        var other = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        #expect(other.advance(bytes: Array("\"value-100000-1\"".utf8)) < 16)
    }

    /// Schemas nested 10,000 deep through `properties`, `items` or `allOf` stop at the JSON reader's
    /// depth limit with a located error; the deepest schemas it admits compile and run.
    @Test(arguments: [("{\"properties\": {\"a\": ", "}}", "{\"a\": ", "}"), ("{\"items\": ", "}", "[", "]"),
                      ("{\"allOf\": [", "]}", "", "")])
    func deeplyNestedSchemas(open: String, close: String, instanceOpen: String, instanceClose: String) throws {
        let bomb = String(repeating: open, count: 10_000) + "{\"type\": \"integer\"}" + String(repeating: close, count: 10_000)
        let e = Self.refusal { _ = try Grammar.jsonSchema(bomb) }
        #expect(e?.code == .invalidJSON)
        #expect(e?.message.contains("nesting deeper than \(JSONParser.maxDepth)") == true)
        // As deep as the reader admits (each level opens one or two JSON containers).
        let levels = (JSONParser.maxDepth - 1) / open.filter { $0 == "{" || $0 == "[" }.count
        let deepest = String(repeating: open, count: levels) + "{\"type\": \"integer\"}" + String(repeating: close, count: levels)
        let grammar = try Grammar.jsonSchema(deepest)
        let instance = String(repeating: instanceOpen, count: levels) + "7" + String(repeating: instanceClose, count: levels)
        var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        #expect(c.advance(bytes: Array(instance.utf8)) == instance.utf8.count)
        #expect(c.isAccepting)
        _ = c.mask()
    }

    /// `root ::= root root | "a" | ""` is ambiguous: Earley work per byte grows with the square of
    /// the output, so the whole output costs cubic time. Each call has a budget of chart items; past
    /// it the constraint fails with a located error instead of running on.
    @Test func ambiguousGrammarIsBounded() throws {
        let grammar = try Grammar.parse("root ::= root root | \"a\" | \"\"")
        let a = UInt8(ascii: "a")
        var ordinary = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        #expect(ordinary.advance(bytes: Array(repeating: a, count: 40)) == 40)
        #expect(ordinary.mask().contains(Int(a)))
        #expect(ordinary.failure == nil)

        let limit = 20_000
        var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared, parserWorkLimit: limit)
        var read = 0
        while read < 10_000, c.advance(bytes: [a]) == 1 { read += 1 }
        let failure = try #require(c.failure)
        #expect(failure.code == .limitExceeded)
        #expect(failure.location == "byte \(read)")
        #expect(failure.message.contains("more than \(limit) Earley chart items"))
        #expect(read > 40 && read < 500)
        // Failed for good: nothing is allowed, and the error stays after a rollback.
        #expect(c.mask().allowedCount == 0)
        #expect(!c.allows(Int(a)) && !c.isAccepting)
        c.rollback(tokens: 1)
        #expect(c.failure == failure)
    }

    /// The parser budget is far above what ordinary grammars need: with a tenth of it, every
    /// mask along an arithmetic expression and a JSON object, over a vocabulary of every 1- and
    /// 2-byte printable string and every 3-byte string of arithmetic characters (14,000 tokens),
    /// completes.
    @Test func ordinaryGrammarsStayFarBelowTheParserBudget() throws {
        let printable = (0x20...0x7E).map { UInt8($0) }
        let arithmetic = Array(" 0123456789+-*/()".utf8)
        var tokens = printable.map { [$0] } + printable.flatMap { a in printable.map { [a, $0] } }
        tokens += arithmetic.flatMap { a in arithmetic.flatMap { b in arithmetic.map { [a, b, $0] } } }
        let vocabulary = TokenVocabulary(tokenBytes: tokens + [[]], endOfSequence: [tokens.count])
        let cases = [
            ("root ::= expr\nexpr ::= expr [-+*/] space term | term\nterm ::= num | \"(\" space expr \")\" space\nnum ::= [0-9]+ space\nspace ::= [ ]*",
             "(12 + 7) * 3 - 144 / (6 * 2) + 1000 * (2 - 1)", false),
            (#"{"type": "object", "properties": {"name": {"type": "string", "maxLength": 64}, "age": {"type": "integer", "minimum": 0}, "tags": {"type": "array", "items": {"enum": ["admin", "user"]}}}, "required": ["name"]}"#,
             #"{"name": "Ada", "age": 36, "tags": ["admin", "user"]}"#, true),
        ]
        for (source, output, isSchema) in cases {
            let grammar = isSchema ? try Grammar.jsonSchema(source) : try Grammar.parse(source)
            var c = Constraint(grammar: grammar, vocabulary: vocabulary, parserWorkLimit: Constraint.maxParserWork / 10)
            for b in output.utf8 {
                let token = Int(b) - 0x20   // the one-byte tokens come first, from 0x20 on
                let mask = c.mask()
                let advanced = c.advance(token)
                #expect(mask.contains(token) && advanced)
            }
            #expect(c.isAccepting)
            #expect(c.failure == nil)
        }
    }

    /// A regex whose DFA is exponential (`(a|b)*a(a|b){20}`: 2^21 states) is determinised lazily;
    /// masks that visit more than `RegexLexeme.maxDFAStates` of them fail the constraint instead of
    /// growing without bound (each state is a 1 KB row).
    @Test func exponentialDFAIsBounded() throws {
        // The mechanism with a small limit (the default, 50,000 states, takes seconds to reach in a
        // debug build); `Grammar.regex` builds the same one-lexeme grammar with the default.
        let limit = 1000
        var builder = GrammarBuilder()
        let root = builder.newRule("root")
        builder.add(root, [builder.lexeme(try RegexLexeme(node: RegexParser.parse("(a|b)*a(a|b){20}"), search: false, stateLimit: limit))])
        let grammar = builder.build(root: root)
        // Every a/b token of up to 11 bytes: one mask from the start walks them all, and each prefix
        // holding an `a` is a distinct state (the positions of its a's), 2^11 in all.
        var tokens: [[UInt8]] = [], frontier: [[UInt8]] = [[]]
        for _ in 0..<11 {
            frontier = frontier.flatMap { [$0 + [UInt8(ascii: "a")], $0 + [UInt8(ascii: "b")]] }
            tokens += frontier
        }
        let vocabulary = TokenVocabulary(tokenBytes: tokens + [[]], endOfSequence: [tokens.count])
        var c = Constraint(grammar: grammar, vocabulary: vocabulary)
        #expect(c.mask().allowedCount == 0)
        let failure = try #require(c.failure)
        #expect(failure.code == .limitExceeded)
        #expect(failure.message.contains("regex too large: more than \(limit) states after determinisation"))
        #expect((grammar.lexemes[0] as? RegexLexeme)?.builtStateCount == limit)
        // A fresh constraint on the same grammar fails at once: its lexeme cannot be trusted.
        #expect(Constraint(grammar: grammar, vocabulary: vocabulary).failure == failure)
    }

    /// A 100,000-number `enum`: one regex lexeme per number (10,000 took 0.7 s to compile and 1 s
    /// for the first mask in a debug build, growing linearly); now two trie lexemes, with every
    /// plain spelling of each value (`1`, `1.0`, `-0`, `2.50`) still accepted.
    @Test func hugeNumberEnumIsLinear() throws {
        let n = 100_000
        let schema = "{\"enum\": [" + (0..<n).map { "\($0 * 37)" }.joined(separator: ",") + ", 2.5, -0.125, 0]}"
        let clock = ContinuousClock()
        let start = clock.now
        let grammar = try Grammar.jsonSchema(schema)
        #expect(clock.now - start < .seconds(10))
        let v = SyntheticVocabulary.shared
        var c = Constraint(grammar: grammar, vocabulary: v)
        for t in 0..<v.count { #expect(c.mask().contains(t) == c.allows(t), "token \(t)") }
        for text in ["37", "37.000", "3699963", "2.5", "2.500", "-0.125", "0", "-0", "0.0", "-0.00"] {
            var k = c
            #expect(k.advance(bytes: Array(text.utf8)) == text.utf8.count && k.isAccepting, "\(text)")
        }
        for text in ["38", "2.51", "37.", "00", "1e1", "-37", "3699964"] {
            var k = c
            #expect(!(k.advance(bytes: Array(text.utf8)) == text.utf8.count && k.isAccepting), "\(text)")
        }
    }
}
