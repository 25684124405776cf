import Foundation
import Testing
@testable import Tokenization

/// Vocabulary and merge strings are Unicode scalars and bytes, never grapheme clusters: a merge
/// is split at its space byte, and tokens that Swift's `String ==` calls equal (canonically
/// equivalent spellings) stay distinct tokens.
@Suite struct VocabularyStringTests {
    static func tokenizer(vocab: String, merges: String, extra: String = "") throws -> Tokenizer {
        try Tokenizer(tokenizerJSON: Data(#"{"added_tokens": [], "model": {"type": "BPE", "vocab": \#(vocab), "merges": \#(merges)\#(extra)}}"#.utf8))
    }

    /// The merge "ன ்" (U+0BA9, space, U+0BCD): the space and the virama after it are one
    /// Character, so splitting the string by Characters finds no separator and loading failed.
    @Test func legacyMergeWhoseRightSideStartsWithACombiningMarkLoads() throws {
        let t = try Self.tokenizer(vocab: #"{"ன": 0, "்": 1, "ன்": 2, "x": 3}"#, merges: #"["ன ்"]"#)
        #expect(t.encode("ன்") == [2])
        #expect(t.encode("ன்xன") == [2, 3, 0])
    }

    /// Other marks that cluster with a preceding space: Devanagari virama, Thai tone mark,
    /// combining acute, ZWJ and a variation selector, in both merge spellings.
    @Test(arguments: ["\u{094D}", "\u{0E48}", "\u{0301}", "\u{200D}", "\u{FE0F}"])
    func everyClusteringMarkSplitsAtTheSpace(mark: String) throws {
        let vocab = #"{"a": 0, \#(Self.quoted(mark)): 1, \#(Self.quoted("a" + mark)): 2}"#
        for merges in [#"[\#(Self.quoted("a " + mark))]"#, #"[["a", \#(Self.quoted(mark))]]"#] {
            let t = try Self.tokenizer(vocab: vocab, merges: merges)
            #expect(t.encode("a" + mark) == [2])
        }
    }

    @Test(arguments: [#"["a b c"]"#, #"["ab"]"#, #"["a  b"]"#])
    func mergeStringsNeedExactlyOneSpace(merges: String) throws {
        #expect {
            _ = try Self.tokenizer(vocab: #"{"a": 0, "b": 1, "ab": 2, "c": 3}"#, merges: merges)
        } throws: { error in
            (error as? TokenizerError)?.jsonPath == "$.model.merges[0]"
        }
    }

    /// "é" as U+00E9 and as e + U+0301, "Å" as U+00C5 and as U+212B ANGSTROM SIGN: distinct
    /// tokens in `tokenizers`; `JSONSerialization` and `[String: Int32]` merged each pair.
    @Test func canonicallyEquivalentTokensKeepTheirOwnIDs() throws {
        let t = try Self.tokenizer(
            vocab: #"{"\u00e9": 0, "e": 1, "\u0301": 2, "e\u0301": 3, "\u00c5": 4, "\u212b": 5, "A": 6, "\u030a": 7, "A\u030a": 8}"#,
            merges: #"[["e", "\u0301"], ["A", "\u030a"]]"#)
        #expect(t.vocabularySize == 9)
        #expect(t.encode("\u{E9}") == [0])
        #expect(t.encode("e\u{301}") == [3])
        #expect(t.encode("\u{C5}\u{212B}A\u{30A}") == [4, 5, 8])
        #expect(t.tokenID("\u{E9}") == 0)
        #expect(t.tokenID("e\u{301}") == 3)
        #expect(t.tokenID("\u{212B}") == 5)
        #expect(t.tokenID("\u{C5}") == 4)
        // No decoder: token strings joined by a space, as in `tokenizers`.
        #expect(Array(t.decode([5, 4]).unicodeScalars) == ["\u{212B}", " ", "\u{C5}"])
    }

    /// Added tokens and `tokenizer_config.json` names are matched by bytes too.
    @Test func addedTokenLookupIsByBytes() throws {
        let json = #"{"added_tokens": [{"id": 2, "content": "<\u00e9>", "special": true}], "model": {"type": "BPE", "vocab": {"a": 0, "<e\u0301>": 1}, "merges": []}}"#
        let t = try Tokenizer(tokenizerJSON: Data(json.utf8), configJSON: Data(#"{"eos_token": "<e\u0301>"}"#.utf8))
        #expect(t.tokenID("<\u{E9}>") == 2)
        #expect(t.tokenID("<e\u{301}>") == 1)
        #expect(t.eosTokenID == 1)
    }

    @Test func byteIdenticalDuplicateTokensAreRefused() throws {
        #expect {
            _ = try Self.tokenizer(vocab: #"{"a": 0, "\u0061": 1}"#, merges: "[]")
        } throws: { error in
            (error as? TokenizerError).map { $0.jsonPath == #"$.model.vocab["a"]"# && $0.message.contains("twice") } ?? false
        }
    }

    static func quoted(_ s: String) -> String {
        "\"" + s.unicodeScalars.map { String(format: "\\u%04x", $0.value) }.joined() + "\""
    }
}
