import Foundation
import Testing
@testable import Constraints

/// The lazy-DFA regex against Foundation's NSRegularExpression (ICU) as the oracle, on every string
/// over a small alphabet up to a length, for whole-string and search (JSON Schema `pattern`) semantics.
@Suite struct RegexLexemeTests {
    static let patterns = [
        "a*", "^a*$", "ab|cd", "(ab)+c?", "[a-c]{2,3}", "a{2}", "a{1,}b", "[^a]b", "^[abc]+$", "b$", "^c",
        "\\d+", "[0-9]{2}-\\w", "(a|b)*abb", ".a.", "a?b?c?", "(?:ab){0,2}$", "[\\d\\s]", "a|^b", "x\\.y",
        "é+", "[à-ÿ]", "\\u00e9", "😀|a",
    ]
    static let alphabet: [String] = ["a", "b", "c", "1", " ", "-", "é", "😀", "x", ".", "y"]

    static func strings(upTo length: Int) -> [String] {
        var out = [""], frontier = [""]
        for _ in 0..<length {
            frontier = frontier.flatMap { s in alphabet.map { s + $0 } }
            out += frontier
        }
        return out
    }

    @Test(arguments: patterns)
    func agreesWithNSRegularExpression(pattern: String) throws {
        let search = try RegexLexeme(pattern: pattern, search: true)
        let whole = try RegexLexeme(pattern: pattern, search: false)
        let oracle = try NSRegularExpression(pattern: pattern)
        let anchored = try NSRegularExpression(pattern: "^(?:" + pattern + ")$")
        for s in Self.strings(upTo: 3) {
            let range = NSRange(s.startIndex..., in: s)
            let found = oracle.firstMatch(in: s, range: range) != nil
            let full = anchored.firstMatch(in: s, range: range) != nil
            #expect(search.matches(s.utf8) == found, "search /\(pattern)/ on '\(s)'")
            #expect(whole.matches(s.utf8) == full, "whole /\(pattern)/ on '\(s)'")
        }
    }

    @Test(arguments: [("(a)\\1", "backreference"), ("a(?=b)", "lookahead"), ("(?<!a)b", "lookbehind"),
                      ("\\bword", "word boundary"), ("\\p{L}", "Unicode property escape"), ("(?!x)", "lookahead")])
    func refusesWhatAnAutomatonCannotDo(pattern: String, feature: String) {
        #expect {
            _ = try RegexLexeme(pattern: pattern, search: true)
        } throws: { error in
            let e = error as! ConstraintError
            return e.code == .unsupportedRegexFeature && e.feature == feature && e.location.hasPrefix("regex:")
        }
    }

    @Test(arguments: ["(", "a)", "[a", "*a", "a{3,1}", "\\"])
    func malformedPatternsAreErrors(pattern: String) {
        #expect(throws: ConstraintError.self) { _ = try RegexLexeme(pattern: pattern, search: false) }
    }

    @Test func determinisesLazily() throws {
        // (a|b)*a(a|b){12} has a 2^13-state DFA; a short walk builds only the states it visits.
        let lexeme = try RegexLexeme(pattern: "(a|b)*a(a|b){12}", search: false)
        #expect(lexeme.matches("ba".utf8 + Array(repeating: UInt8(ascii: "b"), count: 12)))
        #expect(!lexeme.matches("ab".utf8 + Array(repeating: UInt8(ascii: "b"), count: 12)))
        #expect(lexeme.builtStateCount < 64)
    }

    /// Lexeme-mask sharing keys on the fingerprint, so distinct patterns (and modes) must never
    /// share one, and equal ones always do.
    @Test func fingerprintsTellPatternsApart() throws {
        let patterns = ["a", "b", "ab", "a|b", "(a|b)", "a*", "a+", "a{2}", "a{2,}", "a{2,3}", "a{0,3}", "[ab]", "[a-b]",
                        "[^a]", ".", "\\d", "\\w", "^a", "a$", "(ab)*", "a(b*)", "(a)(b)", "(ab)", "é", "😀", ""]
        var seen: [String: String] = [:]
        for p in patterns {
            for search in [false, true] {
                let f = try #require(try RegexLexeme(pattern: p, search: search).maskFingerprint)
                #expect(f == (try RegexLexeme(pattern: p, search: search).maskFingerprint), "\(p) is not stable")
                if let other = seen[f] {
                    // Only spellings of one tree may agree ("(ab)" and "ab" parse alike).
                    #expect(String(reflecting: try RegexParser.parse(p)) == String(reflecting: try RegexParser.parse(other)),
                            "\(p.debugDescription) and \(other.debugDescription) share a fingerprint")
                }
                seen[f] = p
            }
        }
        #expect(seen.count > patterns.count)
    }
}
