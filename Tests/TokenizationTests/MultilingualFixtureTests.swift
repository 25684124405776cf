import Foundation
import Testing
@testable import Tokenization

/// What the multilingual fixture families (tools/oracle/make_multilingual_tokenizer_fixtures.py)
/// must contain for their parity tests in `TokenizerTests` to mean something, and the token →
/// bytes table of their byte-fallback tokens, which constraints and n-gram stores match against.
@Suite struct MultilingualFixtureTests {
    /// The SentencePiece-style family keeps legacy "left right" merges, hundreds of which put a
    /// combining mark right after the space (the grapheme-cluster split bug).
    @Test func sentencePieceFixtureHasMergesThatClusterAroundTheirSpace() throws {
        let url = TokenizerFixture.root.appendingPathComponent("multi_spbpe/tokenizer.json")
        let json = try JSONValue.parse(contentsOf: url, displayName: url.path)
        let merges = try json.required("model").required("merges").array().map { try $0.string() }
        let clustering = merges.filter { m in
            guard let space = m.unicodeScalars.firstIndex(of: " ") else { return false }
            let after = m.unicodeScalars.index(after: space)
            guard after < m.unicodeScalars.endIndex else { return false }
            let category = m.unicodeScalars[after].properties.generalCategory
            return [.nonspacingMark, .spacingMark, .enclosingMark].contains(category)
        }
        #expect(clustering.count >= 100)
        // Each of them is one Character around the space, so a Character split cannot see it.
        #expect(clustering.allSatisfy { $0.split(separator: " ").count == 1 })
    }

    /// The fixture text covers the scripts and edge cases it claims to.
    @Test func probeStringsCoverTheScripts() throws {
        let strings = try TokenizerFixture.strings("strings-multilingual.jsonl.gz")
        #expect(strings.count >= 5000)
        let all = strings.joined()
        let ranges: [(String, ClosedRange<UInt32>)] = [
            ("Tamil", 0x0B80...0x0BFF), ("Devanagari", 0x0900...0x097F), ("Bengali", 0x0980...0x09FF),
            ("Thai", 0x0E00...0x0E7F), ("Arabic", 0x0600...0x06FF), ("Hangul syllables", 0xAC00...0xD7A3),
            ("Hangul jamo", 0x1100...0x11FF), ("combining accents", 0x0300...0x036F), ("CJK", 0x4E00...0x9FFF),
            ("ZWJ", 0x200D...0x200D), ("variation selectors", 0xFE00...0xFE0F),
        ]
        for (name, range) in ranges {
            let count = all.unicodeScalars.filter { range.contains($0.value) }.count
            #expect(count >= 100, "\(name): \(count) scalars")
        }
        #expect(strings.contains { $0.unicodeScalars.first?.value == 0x200D })
        #expect(strings.contains { $0.unicodeScalars.last?.value == 0x200D })
        #expect(strings.contains { $0.contains("\r\n") })
        #expect(strings.contains { $0.unicodeScalars.count > 1000 && !$0.contains(" ") })
    }

    static let byteFallbackFamilies = ["multi_spbpe", "multi_unigram"]

    /// Every `<0xXX>` token decodes to its one byte, and for text without added-token or `▁`
    /// look-alikes the ids' bytes spell the text, with the one space Metaspace prepends.
    @Test(arguments: byteFallbackFamilies)
    func byteTableSpellsTheTextThroughByteFallback(family: String) throws {
        let f = try TokenizerFixture.load(family)
        let t = f.tokenizer
        for b in 0..<256 {
            let id = try #require(t.tokenID(Vocabulary.byteFallbackName(UInt8(b))))
            #expect(t.tokenBytes(id) == [UInt8(b)])
        }
        var checked = 0, usedFallback = 0
        // Scalars, not Characters: "▁" + U+0301 is one Character that `contains("▁")` misses,
        // and " " + ZWJ one that `hasPrefix(" ")` misses.
        for row in f.rows where !row.text.isEmpty && !row.text.unicodeScalars.contains(where: { $0 == "<" || $0 == "▁" }) {
            let expected = (row.text.utf8.first == UInt8(ascii: " ") ? [] : [UInt8(ascii: " ")]) + Array(row.text.utf8)
            let bytes = row.ids.flatMap { t.tokenBytes($0) }
            #expect(bytes == expected, "\(row.text.debugDescription)")
            checked += 1
            if row.ids.contains(where: { t.isFallbackByte($0) }) { usedFallback += 1 }
        }
        #expect(checked >= 4000)
        #expect(usedFallback >= 500, "only \(usedFallback) strings went through byte fallback")
    }
}
