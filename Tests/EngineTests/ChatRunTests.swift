import ChatTemplates
import DecographCLI
import Foundation
import Testing
@testable import Engine

/// `decograph run --chat/--system/--messages`: the conversation goes through the target's chat
/// template, encoded without added special tokens; a bare prompt to a model with a template warns.
@Suite struct ChatRunTests {
    /// ChatML, as SmolLM2 and Qwen write it.
    static let chatML = """
    {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}
    """

    /// The demo target (it has a tokenizer) with a chat template beside it.
    static func instructModel() throws -> String {
        let source = DemoGraphs.repository + "/models/demo-target"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: source) {
            try FileManager.default.createSymbolicLink(atPath: directory + "/" + name, withDestinationPath: source + "/" + name)
        }
        try chatML.write(toFile: directory + "/chat_template.jinja", atomically: true, encoding: .utf8)
        return directory
    }

    static func graph(_ model: String) throws -> String {
        try RunCommandTests.graphFile(BenchGraphsPromptFileTests.greedy(model, tokens: 8))
    }

    static func run(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
        let capture = CapturingOutput()
        let status = DecographCLI.main(arguments, context: capture.context)
        return (status, capture.out, capture.err)
    }

    @Test func chatRendersThenEncodesWithoutAddedSpecialTokens() throws {
        let model = try Self.instructModel()
        let graph = try Self.graph(model)
        let session = try Session(plan: try Fixtures.plan(String(contentsOfFile: graph, encoding: .utf8)))
        let rendered = try session.renderChat(ChatConversation(messages: [.message(role: "system", content: "Be brief."),
                                                                          .message(role: "user", content: "def add(a, b):")]))
        #expect(rendered == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\ndef add(a, b):<|im_end|>\n<|im_start|>assistant\n")
        let ids = try session.encodeChat(ChatConversation(messages: [.message(role: "user", content: "x")]))
        #expect(ids == session.tokenizer!.encode("<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n", addSpecialTokens: false))
        #expect(session.chatTemplateName?.hasSuffix("chat_template.jinja") == true)

        // --chat with --system prints what the rendered prompt as ids gives, and no warning.
        let chat = Self.run(["run", graph, "--chat", "def add(a, b):", "--system", "Be brief.", "--jsonl"])
        #expect(chat.status == 0, "\(chat.err)")
        let renderedIDs = session.tokenizer!.encode(rendered, addSpecialTokens: false).map(String.init).joined(separator: " ")
        let viaIDs = Self.run(["run", graph, "--prompt-ids", renderedIDs, "--jsonl"])
        #expect(chat.out == viaIDs.out && !chat.out.isEmpty)
        #expect(!chat.err.contains("warning"), "\(chat.err)")

        // --messages holds the same conversation (and may carry tools).
        let messages = graph + ".messages.json"
        try #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "def add(a, b):"}], "tools": []}"#
            .write(toFile: messages, atomically: true, encoding: .utf8)
        let fromFile = Self.run(["run", graph, "--messages", messages, "--jsonl"])
        #expect(fromFile.status == 0 && fromFile.out == chat.out, "\(fromFile.err)")

        // bench graphs reads the same chat from a JSONL line: the same tokens as the run.
        let jsonl = graph + ".prompts.jsonl"
        try #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "def add(a, b):"}]}"#
            .write(toFile: jsonl, atomically: true, encoding: .utf8)
        let bench = Self.run(["bench", "graphs", "--graphs", graph, "--prompts", jsonl, "--json"])
        #expect(bench.status == 0 && bench.out.contains("\"tokens\":8"), "\(bench.err) \(bench.out)")

        // A bare prompt to a model with a template runs, with a warning naming --chat.
        let bare = Self.run(["run", graph, "--prompt", "def add(a, b):"])
        #expect(bare.status == 0 && bare.err.contains("warning") && bare.err.contains("--chat"), "\(bare.err)")
    }

    @Test func chatNeedsATemplateAndSystemNeedsChat() throws {
        let graph = try Self.graph(DemoGraphs.repository + "/models/demo-target")
        let noTemplate = Self.run(["run", graph, "--chat", "hi"])
        #expect(noTemplate.status != 0 && noTemplate.err.contains("no chat template"), "\(noTemplate.err)")
        let bare = Self.run(["run", graph, "--prompt", "def f():"])
        #expect(bare.status == 0 && !bare.err.contains("warning"), "a model without a template gets no warning: \(bare.err)")
        let system = Self.run(["run", graph, "--prompt", "x", "--system", "s"])
        #expect(system.status == 64 && system.err.contains("--system"), "\(system.err)")
        let badFile = graph + ".bad.json"
        try #"{"messages": [{"content": "no role"}]}"#.write(toFile: badFile, atomically: true, encoding: .utf8)
        let bad = Self.run(["run", graph, "--messages", badFile])
        #expect(bad.status != 0 && bad.err.contains("$.messages[0].role"), "\(bad.err)")
    }

    /// A template that raises fails the run with the template's own message.
    @Test func raisingTemplateFailsWithItsMessage() throws {
        let model = try Self.instructModel()
        try "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
            .write(toFile: model + "/chat_template.jinja", atomically: true, encoding: .utf8)
        let result = Self.run(["run", try Self.graph(model), "--chat", "hi"])
        #expect(result.status != 0 && result.err.contains("Conversation roles must alternate"), "\(result.err)")
    }
}
