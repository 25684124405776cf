import Testing
@testable import Constraints

/// The GBNF-compatible grammar dialect: whole strings accepted or rejected, and located errors.
@Suite struct GrammarParserTests {
    static func accepts(_ grammar: Grammar, _ text: String) -> Bool {
        var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        let bytes = Array(text.utf8)
        return c.advance(bytes: bytes) == bytes.count && c.isAccepting
    }

    static let arithmetic = """
        # llama.cpp's arithmetic example, with a left-recursive rule (fine for Earley)
        root  ::= expr
        expr  ::= expr [-+*/] term | term
        term  ::= num | "(" space expr ")" space
        num   ::= [0-9]+ space
        space ::= [ \\t\\n]*
        """

    @Test(arguments: [("1+2", true), ("(1+2)*3", true), ("12 /(3 -4) ", true), ("1 / (2)", false), ("1+", false), ("()", false),
                      ("1++2", false), ("", false)])
    func arithmetic(text: String, accepted: Bool) throws {
        #expect(Self.accepts(try Grammar.parse(Self.arithmetic), text) == accepted)
    }

    static let features = """
        root ::= greeting ("," ws name){1,2} "!"? tail
        greeting ::= "hello" | "h\\x69"
        name ::= [A-Z] [a-zé]* | /[0-9]{3}-[0-9]{2}/
        ws ::= " "?
        tail ::=
          ( "."
          | "…" )?
        """

    @Test(arguments: [("hello, Bob", true), ("hi,Anna, Zoé!", true), ("hello, 123-45.", true), ("hello", false),
                      ("hello, bob", false), ("hello, A, B, C", false), ("hi, Al…", true), ("hello, 12-345", false)])
    func dialectFeatures(text: String, accepted: Bool) throws {
        #expect(Self.accepts(try Grammar.parse(Self.features), text) == accepted)
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
