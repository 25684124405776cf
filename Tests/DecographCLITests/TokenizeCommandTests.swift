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

/// `decograph tokenize --messages`: a conversation rendered with the directory's chat template.
@Suite struct TokenizeMessagesTests {
    static let template = """
        {{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n{{ m.content }}<|eot_id|>{% endfor %}\
        {% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}
        """

    /// A model directory: the llama3 fixture tokenizer (its config gives bos_token) plus `template`.
    static func modelDirectory(template: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tokenize-messages-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for file in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: TokenizeCommandTests.fixtures.appendingPathComponent("llama3/\(file)"),
                                             to: dir.appendingPathComponent(file))
        }
        try Data(template.utf8).write(to: dir.appendingPathComponent("chat_template.jinja"))
        return dir
    }

    @Test func printsTheRenderedPromptAndItsTokens() throws {
        let dir = try Self.modelDirectory(template: Self.template)
        defer { try? FileManager.default.removeItem(at: dir) }
        let messages = dir.appendingPathComponent("chat.json")
        try Data(#"{"messages": [{"role": "user", "content": "Hi there"}]}"#.utf8).write(to: messages)
        let expected = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
        let rendered = CapturingOutput()
        #expect(DecographCLI.main(["tokenize", "--tokenizer", dir.path, "--messages", messages.path, "--rendered"], context: rendered.context) == 0)
        #expect(rendered.out == expected + "<|start_header_id|>assistant<|end_header_id|>\n\n")
        let bare = CapturingOutput()
        #expect(DecographCLI.main(["tokenize", "--tokenizer", dir.path, "--messages", messages.path, "--rendered", "--no-generation-prompt"],
                                  context: bare.context) == 0)
        #expect(bare.out == expected)
        // The ids are the rendered text encoded without a second BOS, as apply_chat_template(tokenize=True).
        let ids = CapturingOutput()
        #expect(DecographCLI.main(["tokenize", "--tokenizer", dir.path, "--messages", messages.path, "--no-generation-prompt", "--ids"],
                                  context: ids.context) == 0)
        let tokenizer = try Tokenizer(directory: dir)
        let encoded = tokenizer.encode(expected, addSpecialTokens: false)
        #expect(ids.out == encoded.map(String.init).joined(separator: " ") + "\n")
        #expect(encoded.filter { tokenizer.tokenString($0) == "<|begin_of_text|>" }.count == 1)
    }

    @Test func aRefusingTemplateExitsNonZeroWithItsLocatedMessage() throws {
        let dir = try Self.modelDirectory(template: "{% if messages[0].role != 'user' %}\n{{ raise_exception('Conversation must start with user') }}\n{% endif %}")
        defer { try? FileManager.default.removeItem(at: dir) }
        let messages = dir.appendingPathComponent("chat.json")
        try Data(#"[{"role": "assistant", "content": "x"}]"#.utf8).write(to: messages)
        let out = CapturingOutput()
        #expect(DecographCLI.main(["tokenize", "--tokenizer", dir.path, "--messages", messages.path, "--rendered"], context: out.context) == 1)
        #expect(out.err.contains("chat_template.jinja:2: error: the chat template refused the conversation: Conversation must start with user"))
        #expect(DecographCLI.main(["tokenize", "--tokenizer", dir.path, "--rendered", "x"], context: out.context) == 64)
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
