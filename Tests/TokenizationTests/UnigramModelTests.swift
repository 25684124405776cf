import Foundation
import Testing
@testable import Tokenization

/// The Unigram model on hand-made vocabularies whose best paths are worked out in the comments;
/// the fixture families check it against `tokenizers` on thousands of strings.
@Suite struct UnigramModelTests {
    static func tokenizer(_ vocab: [(String, Double)], unkID: String = "0", byteFallback: Bool = false) throws -> Tokenizer {
        let entries = vocab.map { "[\(VocabularyStringTests.quoted($0.0)), \($0.1)]" }.joined(separator: ", ")
        let decoder = byteFallback ? #"{"type": "ByteFallback"}"# : "null"
        let json = #"{"added_tokens": [], "decoder": \#(decoder), "model": {"type": "Unigram", "unk_id": \#(unkID), "byte_fallback": \#(byteFallback), "vocab": [\#(entries)]}}"#
        return try Tokenizer(tokenizerJSON: Data(json.utf8))
    }

    /// "abc": a+b+c = −6, ab+c = −2.5−2 = −4.5, a+bc = −1−3 = −4 (best), abc absent.
    @Test func viterbiPicksTheHighestScoringPath() throws {
        let t = try Self.tokenizer([("<unk>", 0), ("a", -1), ("b", -3), ("c", -2), ("ab", -2.5), ("bc", -3)])
        #expect(t.encode("abc") == [1, 5])
        #expect(t.encode("ab") == [4])
    }

    /// "ab": a+b = −2 ties ab = −2; the first path reaching position 2 (the token "ab",
    /// found from position 0) is kept, as in `tokenizers`.
    @Test func tiesKeepTheFirstPathFound() throws {
        let t = try Self.tokenizer([("<unk>", 0), ("a", -1), ("b", -1), ("ab", -2)])
        #expect(t.encode("ab") == [3])
    }

    /// Unknown characters in a row fuse into one unknown token; with byte fallback the fused
    /// piece becomes its bytes when every byte token exists, else the unknown token.
    @Test func unknownRunsFuseAndFallBackToBytes() throws {
        let plain = try Self.tokenizer([("<unk>", 0), ("a", -1)])
        #expect(plain.encode("xéya") == [0, 1])
        let bytes = (0..<256).map { (Vocabulary.byteFallbackName(UInt8($0)), 0.0) }
        let fallback = try Self.tokenizer([("<unk>", 0), ("a", -1)] + bytes, byteFallback: true)
        // x = 0x78, é = C3 A9, byte token of b is id 2 + b.
        let expected: [Int32] = [0x78, 0xC3, 0xA9].map { 2 + $0 } + [1]
        #expect(fallback.encode("xéa") == expected)
        #expect(fallback.decode(fallback.encode("xéa")).utf8.elementsEqual("xéa".utf8))
        let partial = try Self.tokenizer([("<unk>", 0), ("a", -1), ("<0x78>", 0)], byteFallback: true)
        #expect(partial.encode("xéa") == [0, 1])
    }

    /// A Hangul syllable is one scalar; its conjoining-jamo spelling is three, and the lattice
    /// steps scalar by scalar, so both spellings find their own tokens.
    @Test func latticeStepsByScalarNotByGraphemeCluster() throws {
        let t = try Self.tokenizer([("<unk>", 0), ("\u{AC01}", -1), ("\u{1100}\u{1161}", -2), ("\u{11A8}", -2)])
        #expect(t.encode("\u{AC01}") == [1])
        #expect(t.encode("\u{1100}\u{1161}\u{11A8}") == [2, 3])
    }

    @Test func modelWithoutUnknownTokenIsRefused() {
        #expect {
            _ = try Self.tokenizer([("a", -1)], unkID: "null")
        } throws: { error in
            (error as? TokenizerError).map { $0.code == .unsupported && $0.jsonPath == "$.model" } ?? false
        }
        #expect(throws: TokenizerError.self) { _ = try Self.tokenizer([("a", -1)], unkID: "3") }
        #expect(throws: TokenizerError.self) { _ = try Self.tokenizer([], unkID: "0") }
    }
}
