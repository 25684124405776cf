import Foundation
import Testing
import Tokenization
@testable import DecographCLI

/// `decograph tokenize` prints what `Tokenizer` produces (which the Tokenization tests hold to
/// Hugging Face's output on the fixtures of tools/oracle/make_tokenizer_fixtures.py).
@Suite struct TokenizeCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/tokenizers")

    @Test(arguments: [("llama3", "Hello World, it's 2024 <|eot_id|>"), ("llama2", " héllo\n<s> wörld 🫠"),
                      ("gpt2", "def f(x):\n    return x  # ok")])
    func printsTheTokenizersIDs(family: String, text: String) throws {
        let dir = Self.fixtures.appendingPathComponent(family)
        let tokenizer = try Tokenizer(directory: dir)
        let out = CapturingOutput()
        #expect(DecographCLI.main(["tokenize", "--tokenizer", dir.path, "--ids", text], context: out.context) == 0)
        #expect(out.out == tokenizer.encode(text).map(String.init).joined(separator: " ") + "\n")
        let plain = CapturingOutput()
        #expect(DecographCLI.main(["tokenize", "--tokenizer", dir.path, "--no-special", "--json", text], context: plain.context) == 0)
        let object = try JSONSerialization.jsonObject(with: Data(plain.out.utf8)) as! [String: Any]
        #expect(object["ids"] as? [Int] == tokenizer.encode(text, addSpecialTokens: false).map(Int.init))
        #expect(object["decoded"] as? String == tokenizer.decode(tokenizer.encode(text, addSpecialTokens: false)))
    }

    /// A GGUF file's tokenizer, as llama.cpp's `llama_tokenize` splits this text with BOS/EOS
    /// (ids from Tests/Fixtures/tokenizers/gguf/expected.jsonl.gz, make_gguf_tokenizer_fixtures.py).
    @Test(arguments: [("smollm.gguf", "647 78 338 631 85 32 328 274 619 30 17 85 32"),
                      ("llama-spm.gguf", "1 559 1450 630 552 1 559 945 2805 2")])
    func readsTheTokenizerOfAGGUFFile(file: String, expected: String) {
        let path = Self.fixtures.appendingPathComponent("gguf").appendingPathComponent(file).path
        let out = CapturingOutput()
        #expect(DecographCLI.main(["tokenize", "--tokenizer", path, "--ids", " hello <s> world</s>"], context: out.context) == 0)
        #expect(out.out.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
    }

    @Test func missingTokenizerIsAFailureNotACrash() {
        let out = CapturingOutput()
        #expect(DecographCLI.main(["tokenize", "--tokenizer", "/nonexistent", "x"], context: out.context) == 1)
        #expect(out.err.contains("tokenizer.json"))
        #expect(DecographCLI.main(["tokenize", "x"], context: out.context) == 64)
    }
}

/// Prompt text keeps every scalar of its bytes, a leading byte-order mark included.
@Suite struct TextInputTests {
    @Test func byteOrderMarkIsKept() {
        let text = TextInput.utf8(Data([0xEF, 0xBB, 0xBF, 0x68, 0x69]))
        #expect(text.map { Array($0.utf8) } == [0xEF, 0xBB, 0xBF, 0x68, 0x69])
        #expect(TextInput.utf8(Data([0x68, 0xC3])) == nil, "a truncated sequence is not UTF-8")
    }
}
