import Foundation
import Testing
@testable import Tokenization

/// The general regex engine and the hand-written scanners check each other: on the fixture
/// strings, running the GPT-2, Llama-3 and Qwen2 patterns through the engine gives the same
/// pieces as the scanners (which match Hugging Face through the fixtures).
@Suite struct RegexTests {
    static func engineMatches(_ regex: Regex, _ text: String) -> [Range<Int>] {
        var out: [Range<Int>] = []
        Array(text.utf8).withUnsafeBufferPointer { p in regex.forEachMatch(in: p) { out.append($0) } }
        return out
    }

    @Test(arguments: [PatternScanner.gpt2, .llama3, .qwen2, .llama3ASCII, .qwen2ASCII])
    func engineAgreesWithScanner(scanner: PatternScanner) throws {
        let pattern = switch scanner {
        case .gpt2: PatternScanner.gpt2Pattern
        case .llama3: PatternScanner.llama3Pattern
        case .qwen2: PatternScanner.qwen2Pattern
        case .llama3ASCII: PatternScanner.llama3ASCIIPattern
        case .qwen2ASCII: PatternScanner.qwen2ASCIIPattern
        }
        let regex = try Regex(pattern)
        // Every 5th string keeps the debug-build time small; the strings cover all kinds.
        let strings = try TokenizerFixture.strings().enumerated().filter { $0.offset % 5 == 0 }.map(\.element)
        var failures: [String] = []
        for s in strings {
            var scanned: [Range<Int>] = []
            Array(s.utf8).withUnsafeBufferPointer { scanner.scan($0, into: &scanned) }
            let matched = Self.engineMatches(regex, s)
            if scanned != matched { failures.append(s.debugDescription) }
        }
        #expect(failures.isEmpty, "\(failures.count) differ, first: \(failures.prefix(3))")
    }

    @Test(arguments: [
        (#"\d+"#, "a12b345", [1..<3, 4..<7]),
        (#"[aeiou]{2,}"#, "book keeper aa e", [1..<3, 6..<8, 12..<14]),
        (#"a*?b"#, "aab b", [0..<3, 4..<5]),
        (#"(?i:ab)"#, "AB ab aB", [0..<2, 3..<5, 6..<8]),
        (#"x(?!y)"#, "xy xz x", [3..<4, 6..<7]),
        (#"x(?=y)"#, "xy xz", [0..<1]),
        (#"\bfoo\b"#, "foo food foo", [0..<3, 9..<12]),
        (#"[^\s\p{L}]+"#, "ab 12!? c", [3..<7]),
        // An empty match right after the previous match is skipped (Oniguruma's iterator rule).
        (#"a|"#, "ba", [0..<0, 1..<2]),
        (#"\p{Lu}\P{Lu}"#, "AbCD", [0..<2]),
        (#"[\x41-\x43]"#, "ABCD", [0..<1, 1..<2, 2..<3]),
    ])
    func engineFindsMatches(pattern: String, text: String, expected: [Range<Int>]) throws {
        #expect(Self.engineMatches(try Regex(pattern), text) == expected)
    }

    /// Group repetitions recurse; a long input must not overflow the stack (the bound splits it).
    @Test func longGroupRepetitionDoesNotCrash() throws {
        let text = String(repeating: "ab", count: 5000)
        let matches = Self.engineMatches(try Regex(#"(?:ab)+"#), text)
        #expect(matches.first == 0..<(2 * RegexMatcher.maximumGroupRepetitions))
        #expect(matches.map(\.count).reduce(0, +) == text.utf8.count)
    }

    @Test(arguments: [#"(?<=a)b"#, #"a++"#, #"[[:alpha:]]"#, #"\p{Greek}"#, #"(a"#, #"a)"#, #"*a"#])
    func unsupportedSyntaxIsRefused(pattern: String) {
        #expect(throws: RegexSyntaxError.self) { try Regex(pattern) }
    }
}
