import Foundation

/// The special-token strings a chat template sees as `bos_token`, `eos_token`, `unk_token` and
/// `pad_token` (transformers passes the tokenizer's `special_tokens_map`); a nil token is not
/// passed, so the template sees it undefined.
public struct SpecialTokens: Sendable, Equatable {
    public var bos: String?
    public var eos: String?
    public var unk: String?
    public var pad: String?

    /// Creates the set; every token defaults to absent.
    public init(bos: String? = nil, eos: String? = nil, unk: String? = nil, pad: String? = nil) {
        self.bos = bos
        self.eos = eos
        self.unk = unk
        self.pad = pad
    }
}

/// A Hugging Face chat template (Jinja2 source), parsed once and rendered as transformers'
/// `apply_chat_template(..., tokenize=False)` renders it: same text, byte for byte, and the same
/// message when the template refuses a conversation (`raise_exception`). See docs/chat-templates.md
/// for the supported language and where it differs from Jinja2.
public struct ChatTemplate: @unchecked Sendable {
    /// The name errors give (a file name or `tokenizer.chat_template`).
    public let name: String
    /// The template's source text.
    public let source: String
    /// Immutable after parsing (the tree's class nodes are never mutated), so sharing is safe.
    let nodes: [Node]

    /// The clock `strftime_now` reads; tests inject a fixed one.
    public var clock: @Sendable () -> Date = { Date() }
    /// The time zone `strftime_now` formats in (Python's `datetime.now()` is local time).
    public var timeZone: TimeZone = .current
    /// The rendering budget (tests lower it to reach the bounds quickly).
    var limits = Interpreter.Limits()

    /// Parses a template.
    /// - Parameters:
    ///   - source: the Jinja2 source.
    ///   - name: the name errors give.
    /// - Throws: `ChatTemplateError` (`.syntax`) with the line of the first syntax error.
    public init(source: String, name: String = "chat_template") throws {
        self.name = name
        self.source = source
        nodes = try Parser.parse(source, name: name)
    }

    /// Renders a conversation.
    /// - Parameters:
    ///   - messages: the messages, each an object with `role`, `content` and whatever else the
    ///     template reads (`tool_calls`, `reasoning_content`, …). As transformers does, members
    ///     whose value is null are dropped, and reasoning given as `reasoning_content`,
    ///     `thinking` or `reasoning` is passed under `reasoning_content` and `thinking`.
    ///   - tools: JSON schemas of the tools (`{"type": "function", "function": {...}}`), or nil.
    ///   - documents: documents for retrieval-augmented templates, or nil.
    ///   - addGenerationPrompt: end with the header of an assistant turn, for generation.
    ///   - extra: further variables (`enable_thinking`, …); they override the special tokens.
    ///   - specialTokens: the strings for `bos_token`, `eos_token`, `unk_token`, `pad_token`.
    /// - Returns: the rendered prompt.
    /// - Throws: `ChatTemplateError`: `.raised` with the template's own message when it refuses
    ///   the conversation, other codes for errors in the template or budget overruns.
    public func render(messages: [ChatValue], tools: [ChatValue]? = nil, documents: [ChatValue]? = nil,
                       addGenerationPrompt: Bool = true, extra: [String: ChatValue] = [:],
                       specialTokens: SpecialTokens = SpecialTokens()) throws -> String {
        let interpreter = Interpreter(sourceName: name, limits: limits, now: clock(), timeZone: timeZone)
        var variables: [String: Value] = [:]
        for (key, token) in [("bos_token", specialTokens.bos), ("eos_token", specialTokens.eos),
                             ("unk_token", specialTokens.unk), ("pad_token", specialTokens.pad)] {
            if let token { variables[key] = .string(token) }
        }
        for (key, value) in extra { variables[key] = value.templateValue }
        variables["messages"] = .list(messages.map { Self.prepared($0).templateValue })
        variables["tools"] = tools.map { .list($0.map(\.templateValue)) } ?? Value.none
        variables["documents"] = documents.map { .list($0.map(\.templateValue)) } ?? Value.none
        variables["add_generation_prompt"] = .bool(addGenerationPrompt)
        interpreter.frames = [variables]
        return try interpreter.render(nodes)
    }

    /// The names a message's reasoning may come under; the first is the one templates read.
    static let reasoningFields = ["reasoning_content", "thinking", "reasoning"]

    /// What transformers does to a message before rendering: drop null members, and copy the
    /// reasoning to `thinking` (first) and `reasoning_content` (last), which the templates read.
    static func prepared(_ message: ChatValue) -> ChatValue {
        guard case .object(var members) = message else { return message }
        members.removeAll { $0.1 == .null }
        guard let reasoning = reasoningFields.lazy.compactMap({ key in members.last { $0.0 == key }?.1 }).first else {
            return .object(members)
        }
        var out: [(String, ChatValue)] = [("thinking", reasoning)]
        for (k, v) in members {
            if let i = out.firstIndex(where: { $0.0 == k }) { out[i].1 = v } else { out.append((k, v)) }
        }
        if let i = out.firstIndex(where: { $0.0 == "reasoning_content" }) { out[i].1 = reasoning } else { out.append(("reasoning_content", reasoning)) }
        return .object(out)
    }
}
