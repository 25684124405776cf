import Foundation
import Testing
@testable import ChatTemplates

/// The renderings transformers' own renderer produced for the templates and conversations in
/// Tests/Fixtures/chat-templates (tools/oracle/make_chat_template_fixtures.py), compared byte
/// for byte, and the error messages of the conversations a template refuses.
@Suite struct OracleFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/chat-templates").standardized

    struct Case {
        var template: String
        var conversation: String
        var addGenerationPrompt: Bool
        var expected: String?
        var error: String?
    }

    struct Conversation {
        var messages: [ChatValue]
        var tools: [ChatValue]?
        var extra: [String: ChatValue]
    }

    static func load() throws -> (cases: [Case], conversations: [String: Conversation], specialTokens: SpecialTokens, now: Date) {
        let expected = try ChatValue.parse(json: try Data(contentsOf: directory.appendingPathComponent("expected.json")), displayName: "expected.json")
        guard case .array(let rawCases)? = expected["cases"], case .string(let fixedNow)? = expected["fixed_now"] else {
            throw ChatTemplateError(.value, source: "expected.json", line: 0, "no cases")
        }
        let cases = rawCases.map { c -> Case in
            var out = Case(template: "", conversation: "", addGenerationPrompt: false)
            if case .string(let s)? = c["template"] { out.template = s }
            if case .string(let s)? = c["conversation"] { out.conversation = s }
            if case .bool(let b)? = c["add_generation_prompt"] { out.addGenerationPrompt = b }
            if case .string(let s)? = c["expected"] { out.expected = s }
            if case .string(let s)? = c["error"] { out.error = s }
            return out
        }
        let rawConversations = try ChatValue.parse(json: try Data(contentsOf: directory.appendingPathComponent("conversations.json")),
                                                   displayName: "conversations.json")
        var conversations: [String: Conversation] = [:]
        if case .array(let items) = rawConversations {
            for item in items {
                guard case .string(let name)? = item["name"], case .array(let messages)? = item["messages"] else { continue }
                var tools: [ChatValue]?
                if case .array(let t)? = item["tools"] { tools = t }
                var extra: [String: ChatValue] = [:]
                if case .object(let members)? = item["extra"] { for (k, v) in members { extra[k] = v } }
                conversations[name] = Conversation(messages: messages, tools: tools, extra: extra)
            }
        }
        func token(_ key: String) -> String? {
            if case .string(let s)? = expected["special_tokens"]?[key] { return s }
            return nil
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let now = formatter.date(from: fixedNow) ?? Date(timeIntervalSince1970: 0)
        return (cases, conversations,
                SpecialTokens(bos: token("bos_token"), eos: token("eos_token"), unk: token("unk_token"), pad: token("pad_token")), now)
    }

    /// Renders one case; the outcome as (rendered text, error message).
    static func run(_ c: Case, _ template: ChatTemplate, _ conversations: [String: Conversation], _ tokens: SpecialTokens) -> (String?, String?) {
        guard let conversation = conversations[c.conversation] else { return (nil, "missing conversation \(c.conversation)") }
        do {
            return (try template.render(messages: conversation.messages, tools: conversation.tools,
                                        addGenerationPrompt: c.addGenerationPrompt, extra: conversation.extra,
                                        specialTokens: tokens), nil)
        } catch let error as ChatTemplateError {
            return (nil, error.message)
        } catch {
            return (nil, "\(error)")
        }
    }

    /// Where two renderings part, with a little context, for a readable failure.
    static func firstDifference(_ a: String, _ b: String) -> String {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        var k = 0
        while k < min(x.count, y.count), x[k] == y[k] { k += 1 }
        func around(_ s: [Unicode.Scalar]) -> String {
            String(String.UnicodeScalarView(s[max(0, k - 40)..<min(s.count, k + 40)])).debugDescription
        }
        return "differs at scalar \(k): got \(around(x)), expected \(around(y))"
    }

    static func templateNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("templates").path)
            .filter { $0.hasSuffix(".jinja") }.sorted()
    }

    @Test(arguments: try templateNames())
    func rendersLikeTransformers(_ templateName: String) throws {
        let (cases, conversations, tokens, now) = try Self.load()
        let source = try String(contentsOf: Self.directory.appendingPathComponent("templates/\(templateName)"), encoding: .utf8)
        var template = try ChatTemplate(source: source, name: templateName)
        template.clock = { now }
        template.timeZone = TimeZone(identifier: "UTC")!
        let mine = cases.filter { $0.template == templateName }
        #expect(!mine.isEmpty)
        for c in mine {
            let (text, error) = Self.run(c, template, conversations, tokens)
            let label = "\(c.conversation) add_generation_prompt=\(c.addGenerationPrompt)"
            if let expected = c.expected {
                #expect(text == expected, "\(label): \(error ?? Self.firstDifference(text ?? "", expected))")
            } else {
                #expect(error == c.error, "\(label): rendered \(text?.prefix(200) ?? "")")
            }
        }
    }
}
