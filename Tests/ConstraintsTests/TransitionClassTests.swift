import Testing
@testable import Constraints

/// `ByteLexeme.transitionClass` against `next`, which computes every byte on its own (classes are
/// used only by the mask walks' tables): in every state some walks reach, each byte of a class
/// leads where the byte asked about does, dead included.
@Suite struct TransitionClassTests {
    static func check(_ lexeme: any ByteLexeme, walks: [String], _ name: String) {
        var seen = Set<Int32>(), states: [Int32] = []
        for walk in walks {
            var s = lexeme.startState
            if seen.insert(s).inserted { states.append(s) }
            for b in walk.utf8 {
                s = lexeme.next(s, b)
                if s < 0 { break }
                if seen.insert(s).inserted { states.append(s) }
            }
            #expect(s >= 0, "\(name): the walk \(walk.debugDescription) dies")
        }
        var shared = 0
        for s in states {
            for b in 0...255 {
                let byte = UInt8(b)
                let members = lexeme.transitionClass(s, byte)
                #expect(members.contains(byte), "\(name): state \(s), byte \(b) not in its own class")
                let target = lexeme.next(s, byte)
                members.forEach { other in
                    #expect(lexeme.next(s, other) == target, "\(name): state \(s), bytes \(b) and \(other)")
                }
                if members.count > 1 { shared += 1 }
            }
        }
        // The classes do group bytes (else the tables would gain nothing).
        #expect(shared > 0, "\(name)")
    }

    @Test func regexClasses() throws {
        Self.check(try RegexLexeme(pattern: "[a-z0-9._%+-]+@[a-z]+\\.(org|com)", search: false),
                   walks: ["ada.x+1@example.org", "b@c.com"], "e-mail")
        Self.check(try RegexLexeme(pattern: ".{0,20}", search: false), walks: ["héllo wörld 😀!"], "counted any")
        Self.check(try RegexLexeme(pattern: "\\d{4}-\\d{2}", search: true), walks: ["on 2024-02 and"], "search")
    }

    @Test func compositeLexemeClasses() throws {
        let bounded = try RegexLexeme(node: .repetition(RegexNode.anyScalar, min: 0, max: 12), search: false)
        Self.check(JSONStringLexeme(inner: bounded), walks: [#""ab\u00e9c\"d é""#, #""\uD83D\uDE00x""#], "json string")
        Self.check(JSONStringLexeme(inner: bounded, canonical: true), walks: [#""ab\u001fc""#], "canonical json string")
        let letters = try RegexLexeme(pattern: "[a-z]+", search: false)
        Self.check(IntersectionLexeme([letters, try RegexLexeme(pattern: ".{0,5}", search: false)]),
                   walks: ["abcde"], "intersection")
        Self.check(ComplementLexeme(try RegexLexeme(pattern: "abc", search: false)), walks: ["abd", "abc", "é"], "complement")
        Self.check(WhitespacePrefixedLexeme(whitespace: JSONWhitespace(maxBytes: 4, maxNewlines: 1), inner: try RegexLexeme(pattern: "[0-9]+", search: false)),
                   walks: ["  123", "\t9", "\n  4"], "whitespace-prefixed")
    }

    @Test func scalarCountClasses() {
        Self.check(ScalarCountLexeme(min: 2, max: 4), walks: ["aé😀", "\u{E000}\u{10FFFF}\u{800}\u{D7FF}"], "scalar count")
        Self.check(ScalarCountLexeme(min: 3, max: nil), walks: ["abcdé"], "scalar count without max")
    }
}
