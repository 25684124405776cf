import Testing
@testable import Constraints

/// The token-level contract: masks agree with `allows` for every token, rollback restores the state,
/// forks are independent, EOS is allowed exactly at accepting states, forced tokens are reported.
@Suite struct ConstraintTests {
    static let schema = #"{"type": "object", "properties": {"name": {"type": "string", "maxLength": 4}, "ok": {"type": "boolean"}}, "required": ["name", "ok"], "additionalProperties": false}"#

    static func constraint() throws -> Constraint {
        Constraint(grammar: try Grammar.jsonSchema(schema), vocabulary: SyntheticVocabulary.shared)
    }

    /// Every prefix of accepted outputs: the mask equals the set of tokens `allows` says yes to (the
    /// mask takes the cached-lexeme and exit paths; `allows` walks the token's bytes directly).
    @Test(arguments: [
        (#"{"type": "array", "items": {"type": "number", "exclusiveMinimum": 0.5}}"#, #"[12.5, 1, 100]"#),
        (#"{"type": "array", "items": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^a+$"}]}}"#, #"["aa", 12, -3,"a"]"#),
        (#"{"additionalProperties": {"type": "integer"}, "patternProperties": {"^f": {"maximum": 3}}}"#, #"{"foo": 1, "bar": 200}"#),
    ])
    func maskMatchesAllowsOnOtherShapes(schema: String, output: String) throws {
        var c = Constraint(grammar: try Grammar.jsonSchema(schema), vocabulary: SyntheticVocabulary.shared)
        for t in SyntheticVocabulary.shared.greedySegmentation(Array(output.utf8))! {
            let mask = c.mask()
            for candidate in 0..<SyntheticVocabulary.shared.count {
                #expect(mask.contains(candidate) == c.allows(candidate), "token \(candidate) after \(c.tokenCount) tokens of \(output)")
            }
            let advanced = c.advance(t)
            #expect(advanced)
        }
        #expect(c.isAccepting)
    }

    /// Every prefix of an accepted document: the mask equals the set of tokens `allows` says yes to.
    @Test func maskMatchesAllowsAtEveryPrefix() throws {
        var c = try Self.constraint()
        let vocabulary = SyntheticVocabulary.shared
        let tokens = vocabulary.greedySegmentation(Array(#"{"ok": true, "name": "é😀"}"#.utf8))!
        for t in tokens {
            let mask = c.mask()
            for candidate in 0..<vocabulary.count {
                #expect(mask.contains(candidate) == c.allows(candidate), "token \(candidate) after \(c.tokenCount) tokens")
            }
            let advanced = c.advance(t); #expect(advanced)
        }
        #expect(c.isAccepting)
        // After the root value nothing but EOS: no trailing whitespace to pad with.
        #expect(c.mask().allowed == [SyntheticVocabulary.eos])
        let advanced = c.advance(SyntheticVocabulary.eos); #expect(advanced)
        #expect(c.mask().allowedCount == 0)
        #expect(c.isFinished)
    }

    @Test func rollbackRestoresStateAndForksAreIndependent() throws {
        var c = try Self.constraint()
        let vocabulary = SyntheticVocabulary.shared
        let prefix = vocabulary.greedySegmentation(Array(#"{"name": "ab"#.utf8))!
        for t in prefix { let advanced = c.advance(t); #expect(advanced) }
        let before = c.mask()
        var fork = c
        for t in vocabulary.greedySegmentation(Array(#"", "ok": false}"#.utf8))! { let advanced = fork.advance(t); #expect(advanced) }
        #expect(fork.isAccepting)
        #expect(c.mask() == before)          // the original did not move
        #expect(!c.isAccepting)
        fork.rollback(tokens: fork.tokenCount - prefix.count)
        #expect(fork.mask() == before)
        #expect(fork.tokenCount == prefix.count)
        fork.rollback(tokens: 1_000)
        #expect(fork.tokenCount == 0)
        var fresh = try Self.constraint()
        #expect(fork.mask() == fresh.mask())
    }

    @Test func rejectedTokenLeavesStateUnchanged() throws {
        var c = try Self.constraint()
        let before = c.mask()
        let bad = SyntheticVocabulary.shared.greedySegmentation(Array("[".utf8))!
        let refused = !c.advance(bad[0]); #expect(refused)
        #expect(c.tokenCount == 0)
        #expect(c.mask() == before)
        let eosRefused = !c.advance(SyntheticVocabulary.eos); #expect(eosRefused)
    }

    @Test func forcedBytesAndTokens() throws {
        // Strings are not forced: `"f"` may also be spelled `"\u0066"`; structure and literals are.
        let grammar = try Grammar.jsonSchema(#"{"const": [true, null, {"a": 1}]}"#, options: .init(whitespace: .none))
        let c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        #expect(c.forcedBytes() == Array(#"[true,null,{""#.utf8))
        let forced = c.forcedTokens()
        let spelled = forced.flatMap { SyntheticVocabulary.shared.tokenBytes[$0] }
        // Only tokens that are the single allowed choice are reported; their bytes are a prefix of the forced run.
        #expect(!forced.isEmpty)
        #expect(Array(#"[true,null,{""#.utf8).starts(with: spelled))
        var probe = c
        for t in forced { #expect(probe.mask().allowed == [t]); probe.advance(t) }
    }

    @Test func trieSegmentationAndNodeSharing() {
        let v = TokenVocabulary(tokenBytes: [[97], [97, 98], [97, 98, 99], [98], [97, 98], []], endOfSequence: [5])
        // Prefixes a, ab, abc, b: four nodes; the duplicate "ab" token shares a node.
        #expect(v.trieNodeCount == 4)
        #expect(v.greedySegmentation(Array("abcab".utf8)) == [2, 1])
        #expect(v.greedySegmentation(Array("c".utf8)) == nil)
        let g = try! Grammar.regex("ab")
        var constraint = Constraint(grammar: g, vocabulary: v)
        let mask = constraint.mask()
        #expect(mask.allowed == [0, 1, 4])
    }
}

/// Bad input gives located errors, never a crash or a huge allocation.
@Suite struct BadInputTests {
    @Test(arguments: [
        (#"{"type": "array", "minItems": 1000000000}"#, "minItems", "#/minItems"),
        (#"{"type": "string", "maxLength": 1000000000000}"#, "maxLength", "#/maxLength"),
        (#"{"pattern": "(a{1000}){1000}"}"#, "pattern", "#/pattern"),
        (##"{"$ref": "#/$defs/missing"}"##, "$ref", "#/$ref"),
        // A negated keyword without an exact complement is refused at its own pointer.
        (#"{"properties": {"a": {"not": {"pattern": "x"}}}}"#, "pattern", "#/properties/a/not/pattern"),
        (#"{"not": {"const": [1]}}"#, "const", "#/not/const"),
        // Counting keywords past their documented bounds.
        (#"{"maxProperties": 5000}"#, "maxProperties", "#/maxProperties"),
        (#"{"required": ["a", "b", "c", "d", "e"], "minProperties": 200}"#, "minProperties", "#/minProperties"),
        (#"{"contains": {"const": [1]}, "maxContains": 1}"#, "maxContains", "#/maxContains"),
        (#"{"allOf": [{"contains": {"type": "string"}}, {"contains": {"type": "integer"}}]}"#, "contains", "#/allOf/1/contains"),
        (#"{"contains": {"type": "string"}, "minContains": 20, "maxItems": 1000}"#, "contains", "#/contains"),
    ])
    func refusalsAreLocated(schema: String, feature: String, location: String) {
        #expect {
            _ = try Grammar.jsonSchema(schema)
        } throws: { error in
            let e = error as! ConstraintError
            return e.code == .unsupportedKeyword && e.feature == feature && e.location == location
        }
    }

    @Test(arguments: [#"{"type": "string""#, #"{"type": 1e}"#, "[1,]", "\"\\ud800\""])
    func malformedJSONIsLocated(text: String) {
        #expect {
            _ = try JSONValue.parse(text)
        } throws: { error in
            let e = error as! ConstraintError
            return e.code == .invalidJSON && e.location.contains(":")
        }
    }

    @Test func lenientIgnoresWithWarnings() throws {
        let result = try JSONSchemaCompiler.compile(text: #"{"type": "integer", "minimum": 0, "multipleOf": 3}"#, options: .init(lenient: true))
        #expect(result.warnings.map(\.feature) == ["multipleOf"])
        var c = Constraint(grammar: result.grammar, vocabulary: SyntheticVocabulary.shared)
        #expect(c.advance(bytes: Array("4".utf8)) == 1)
        #expect(c.isAccepting)
    }
}

/// Draft filtering: prefixes and trees are judged without changing the state.
@Suite struct DraftFilterTests {
    @Test func prefixAndTreePruning() throws {
        var c = Constraint(grammar: try Grammar.regex("ab(c|d)e"), vocabulary: SyntheticVocabulary.shared)
        let byte = { (s: String) in Int(Array(s.utf8)[0]) }
        let before = c.mask()
        #expect(c.acceptedPrefixLength([byte("a"), byte("b"), byte("x"), byte("e")]) == 2)
        #expect(c.acceptedPrefixLength([byte("a"), byte("b"), byte("d"), byte("e")]) == 4)
        // Tree: a → b → {c → e, x → e, d}, and a sibling root x.
        let tokens = ["a", "b", "c", "x", "d", "e", "e", "x"].map(byte)
        let parents = [-1, 0, 1, 1, 1, 2, 3, -1]
        #expect(c.allowedTreeNodes(tokens: tokens, parents: parents) == [true, true, true, false, true, true, false, false])
        #expect(c.tokenCount == 0)
        #expect(c.mask() == before)
    }
}

/// Empty languages are representable and reject everything, without trapping.
@Suite struct EmptyLanguageTests {
    @Test(arguments: [#"{"type": "string", "minLength": 3, "maxLength": 2}"#, #"{"type": "string", "pattern": "[^\\s\\S]"}"#, "false",
                      #"{"type": "integer", "minimum": 2, "maximum": 1}"#])
    func rejectsEverything(schema: String) throws {
        var c = Constraint(grammar: try Grammar.jsonSchema(schema), vocabulary: SyntheticVocabulary.shared)
        #expect(c.advance(bytes: Array(#""abc""#.utf8)) <= 1)
        #expect(!c.isAccepting)
        #expect(c.mask().allowedCount <= 3)   // at most the leading quote / whitespace
        let lexeme = try RegexLexeme(pattern: "[^\\s\\S]", search: false)
        #expect(!lexeme.matches([]))
        #expect(lexeme.next(lexeme.startState, 0x61) < 0)
    }
}

/// `not` with types: exact type complements, including "number but not integer".
@Suite struct NotTypeTests {
    static func accepts(_ schema: String, _ text: String) throws -> Bool {
        var c = Constraint(grammar: try Grammar.jsonSchema(schema), vocabulary: SyntheticVocabulary.shared)
        return c.advance(bytes: Array(text.utf8)) == text.utf8.count && c.isAccepting
    }

    @Test(arguments: [
        (#"{"not": {"type": "integer"}}"#, "1.5", true), (#"{"not": {"type": "integer"}}"#, "1.0", false),
        (#"{"not": {"type": "integer"}}"#, "\"x\"", true), (#"{"not": {"type": "integer"}}"#, "2", false),
        (#"{"allOf": [{"not": {"type": "integer"}}, {"not": {"type": "number"}}]}"#, "1.5", false),
        (#"{"not": {"type": ["string", "null"]}}"#, "null", false), (#"{"not": {}}"#, "1", false),
    ])
    func typeComplements(schema: String, text: String, accepted: Bool) throws {
        #expect(try Self.accepts(schema, text) == accepted)
    }

    /// `not` of scalar literals: every spelling of an excluded value is rejected, everything else of
    /// an unconstrained type accepted (numbers then without exponent), token by token.
    @Test(arguments: [
        (#"{"not": {"const": 1}}"#, "1", false), (#"{"not": {"const": 1}}"#, "1.00", false), (#"{"not": {"const": 1}}"#, "-1", true),
        (#"{"not": {"const": 1}}"#, "1.01", true), (#"{"not": {"const": 1}}"#, "10", true), (#"{"not": {"const": 1}}"#, "\"1\"", true),
        (#"{"not": {"const": 1}}"#, "1e0", false), (#"{"not": {"const": 1}}"#, "[1]", true),
        (#"{"type": "integer", "not": {"enum": [2, 3]}}"#, "3", false), (#"{"type": "integer", "not": {"enum": [2, 3]}}"#, "30", true),
        (#"{"type": "integer", "not": {"enum": [2, 3]}}"#, "-2", true), (#"{"type": "integer", "not": {"enum": [2, 3]}}"#, "0", true),
        (#"{"not": {"enum": ["a", null, false]}}"#, "\"a\"", false), (#"{"not": {"enum": ["a", null, false]}}"#, "\"\\u0061\"", false),
        (#"{"not": {"enum": ["a", null, false]}}"#, "\"ab\"", true), (#"{"not": {"enum": ["a", null, false]}}"#, "null", false),
        (#"{"not": {"enum": ["a", null, false]}}"#, "false", false), (#"{"not": {"enum": ["a", null, false]}}"#, "true", true),
        (#"{"not": {"const": 0}}"#, "-0", false), (#"{"not": {"const": 0}}"#, "0.5", true),
        // not (A and B) = not A or not B.
        (#"{"not": {"const": 1, "type": "integer"}}"#, "1", false), (#"{"not": {"const": 1, "type": "integer"}}"#, "2", true),
        (#"{"not": {"const": 1, "type": "integer"}}"#, "1.5", true), (#"{"not": {"const": 1, "type": "integer"}}"#, "\"a\"", true),
    ])
    func literalComplements(schema: String, text: String, accepted: Bool) throws {
        #expect(JSONSchemaTestSuiteTests.walk(try Grammar.jsonSchema(schema), text, sampleMasks: true) == accepted, "\(text) under \(schema)")
    }

    @Test(arguments: [
        #"{"minimum": 0, "not": {"const": 1}}"#,
        #"{"type": "integer", "not": {"const": 0}}"#, #"{"pattern": "^a", "not": {"const": "ab"}}"#,
    ])
    func literalComplementsRefusedWhereInexact(schema: String) {
        #expect {
            _ = try Grammar.jsonSchema(schema)
        } throws: { error in
            let e = error as! ConstraintError
            return e.code == .unsupportedKeyword && e.feature == "not" && e.location == "#/not"
        }
    }
}

/// Lexical constraints: EOS is masked until every phrase has appeared.
@Suite struct PhrasesTests {
    @Test func endOfSequenceWaitsForAllPhrases() throws {
        var c = Constraint(grammar: try Grammar.phrases(["foo", "bar"]), vocabulary: SyntheticVocabulary.shared)
        let eos = SyntheticVocabulary.eos
        var text: [UInt8] = []
        for t in SyntheticVocabulary.shared.greedySegmentation(Array("a foo, then ba and bar.".utf8))! {
            let sofar = String(decoding: text, as: UTF8.self)
            #expect(c.mask().contains(eos) == (sofar.contains("foo") && sofar.contains("bar")), "after '\(sofar)'")
            text += SyntheticVocabulary.shared.tokenBytes[t]
            // Any text may follow: every token that is complete UTF-8 is allowed.
            let mask = c.mask()
            for id in 0..<eos where String(validating: SyntheticVocabulary.shared.tokenBytes[id], as: UTF8.self) != nil {
                #expect(mask.contains(id))
            }
            let advanced = c.advance(t)
            #expect(advanced)
        }
        #expect(c.mask().contains(eos))
        var d = Constraint(grammar: try Grammar.phrases(["foo", "bar"]), vocabulary: SyntheticVocabulary.shared)
        #expect(d.advance(bytes: Array("barfoo".utf8)) == 6)
        #expect(d.isAccepting)
    }
}
