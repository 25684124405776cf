import Foundation
import Testing
@testable import Tokenization

/// Malformed and unsupported tokenizer files give located errors, never crashes.
@Suite struct TokenizerErrorTests {
    /// A tiny valid tokenizer.json with one component replaced.
    static func json(model: String = #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#,
                     preTokenizer: String = "null", normalizer: String = "null", decoder: String = "null") -> Data {
        Data(#"{"version": "1.0", "added_tokens": [], "normalizer": \#(normalizer), "pre_tokenizer": \#(preTokenizer), "post_processor": null, "decoder": \#(decoder), "model": \#(model)}"#.utf8)
    }

    static func error(_ data: Data) -> TokenizerError? {
        do {
            _ = try Tokenizer(tokenizerJSON: data)
            return nil
        } catch let e as TokenizerError {
            return e
        } catch {
            return nil
        }
    }

    @Test func minimalTokenizerWorks() throws {
        let t = try Tokenizer(tokenizerJSON: Self.json())
        #expect(t.encode("abab") == [2, 2])
        #expect(t.decode([2, 0]) == "ab a")
        #expect(t.vocabularySize == 3)
    }

    @Test func malformedJSONNamesTheFile() {
        let e = Self.error(Data("{\"model\": ".utf8))
        #expect(e?.code == .malformed)
        #expect(e?.description.hasPrefix("tokenizer.json") == true)
    }

    @Test(arguments: [
        (json(model: #"{"type": "WordPiece", "vocab": {}}"#), "$.model", "WordPiece"),
        (json(preTokenizer: #"{"type": "BertPreTokenizer"}"#), "$.pre_tokenizer", "BertPreTokenizer"),
        (json(normalizer: #"{"type": "BertNormalizer"}"#), "$.normalizer", "BertNormalizer"),
        (json(decoder: #"{"type": "WordPiece", "prefix": "@@"}"#), "$.decoder", "WordPiece"),
        (json(preTokenizer: #"{"type": "Split", "pattern": {"Regex": "(?<=a)b"}, "behavior": "Isolated", "invert": false}"#),
         "$.pre_tokenizer.pattern.Regex", "look-behind"),
    ])
    func unsupportedComponentsAreNamed(data: Data, path: String, name: String) throws {
        let e = try #require(Self.error(data))
        #expect(e.code == .unsupported)
        #expect(e.jsonPath == path)
        #expect(e.description.contains(name))
    }

    @Test(arguments: [
        (json(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}"#), "$.model.merges[0]"),
        (json(model: #"{"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}"#), "$.model.merges[0]"),
        (json(model: #"{"type": "BPE", "vocab": {"a": "x"}, "merges": []}"#), "$.model.vocab[\"a\"]"),
        (json(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"}"#), "$.model.unk_token"),
        (json(model: #"{"type": "BPE", "vocab": {"a": 2000000000}, "merges": []}"#), "$.model.vocab"),
        (json(preTokenizer: #"{"type": "Split", "behavior": "Isolated"}"#), "$.pre_tokenizer"),
        (json(preTokenizer: #"{"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways"}"#), "$.pre_tokenizer.behavior"),
    ])
    func malformedValuesAreLocated(data: Data, path: String) throws {
        let e = try #require(Self.error(data))
        #expect(e.jsonPath == path)
    }

    @Test func missingDirectoryIsUnreadable() {
        #expect(throws: TokenizerError.self) {
            try Tokenizer(directory: URL(fileURLWithPath: "/nonexistent/model"))
        }
    }
}
