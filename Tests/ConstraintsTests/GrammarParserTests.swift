import Testing
@testable import Constraints

/// The GBNF-compatible grammar dialect: whole strings accepted or rejected, and located errors.
@Suite struct GrammarParserTests {
    static func accepts(_ grammar: Grammar, _ text: String) -> Bool {
        var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        let bytes = Array(text.utf8)
        return c.advance(bytes: bytes) == bytes.count && c.isAccepting
    }


    @Test(arguments: [("1+2", true), ("(1+2)*3", true), ("12 /(3 -4) ", true), ("1 / (2)", false), ("1+", false), ("()", false),
                      ("1++2", false), ("", false)])
    func arithmetic(text: String, accepted: Bool) throws {
        #expect(Self.accepts(try Grammar.parse(GrammarSources.arithmetic), text) == accepted)
    }


    @Test(arguments: [("hello, Bob", true), ("hi,Anna, Zoé!", true), ("hello, 123-45.", true), ("hello", false),
                      ("hello, bob", false), ("hello, A, B, C", false), ("hi, Al…", true), ("hello, 12-345", false)])
    func dialectFeatures(text: String, accepted: Bool) throws {
        #expect(Self.accepts(try Grammar.parse(GrammarSources.features), text) == accepted)
    }

    /// Folding regular rules into lexemes keeps the language: every string over a small alphabet up to
    /// length 5 is accepted by the folded grammar exactly when by the rule-by-rule one, and the folded
    /// grammar's masks agree with `allows`.
    @Test(arguments: [GrammarSources.arithmetic, GrammarSources.features, "root ::= a+ b\na ::= \"x\" | \"y\" a\nb ::= [xy]? \"y\"*"])
    func foldingRegularRulesKeepsTheLanguage(source: String) throws {
        let folded = try GrammarParser.parse(source, root: "root")
        let plain = try GrammarParser.parse(source, root: "root", fold: false)
        #expect(folded.lexemes.count > plain.lexemes.count)
        var strings = [""], frontier = [""]
        for _ in 0..<5 {
            frontier = frontier.flatMap { s in ["1", "+", "(", ")", " ", "x", "y", "h", "i", ","].map { s + $0 } }
            strings += frontier
        }
        for s in strings { #expect(Self.accepts(folded, s) == Self.accepts(plain, s), "'\(s)'") }
        var c = Constraint(grammar: folded, vocabulary: SyntheticVocabulary.shared)
        for t in SyntheticVocabulary.shared.greedySegmentation(Array("(1 + 23)*4".utf8))! {
            let mask = c.mask()
            for candidate in 0..<SyntheticVocabulary.shared.count where mask.contains(candidate) != c.allows(candidate) {
                Issue.record("mask and allows disagree on token \(candidate)")
            }
            if !c.advance(t) { break }
        }
    }

    @Test(arguments: [("root ::= foo", "1:10", "undefined rule 'foo'"), ("start ::= \"a\"", "1:1", "no 'root' rule"),
                      ("root ::= \"a\nb\"", "1:10", "unterminated string"), ("root ::= [b-a]", "1:14", "out of order"),
                      ("root ::= \"a\"\nroot ::= \"b\"", "2:1", "defined twice"), ("root := \"a\"", "1:6", "expected '::='")])
    func errorsAreLocated(source: String, location: String, message: String) {
        #expect {
            _ = try Grammar.parse(source)
        } throws: { error in
            let e = error as! ConstraintError
            return e.code == .invalidGrammar && e.location == location && e.message.contains(message)
        }
    }
}

/// Grammar texts shared by the tests above.
enum GrammarSources {
    static let arithmetic = """
        # llama.cpp's arithmetic example, with a left-recursive rule (fine for Earley)
        root  ::= expr
        expr  ::= expr [-+*/] term | term
        term  ::= num | "(" space expr ")" space
        num   ::= [0-9]+ space
        space ::= [ \\t\\n]*
        """

    static let features = """
        root ::= greeting ("," ws name){1,2} "!"? tail
        greeting ::= "hello" | "h\\x69"
        name ::= [A-Z] [a-zé]* | /[0-9]{3}-[0-9]{2}/
        ws ::= " "?
        tail ::=
          ( "."
          | "…" )?
        """
}
