import Foundation

/// The chat templates of a model directory and the special-token strings they render with.
///
/// transformers reads `chat_template.jinja` if present, else `tokenizer_config.json`'s
/// `chat_template`, which is a string or a list of `{"name", "template"}`; with several, the
/// one named `tool_use` renders conversations with tools and `default` the others.
public struct ChatTemplateSet: Sendable {
    /// The templates by name; a single template is named `default`.
    public let templates: [String: ChatTemplate]
    /// `bos_token`, `eos_token`, `unk_token`, `pad_token` from `tokenizer_config.json`.
    public let specialTokens: SpecialTokens

    /// Creates a set.
    /// - Parameters:
    ///   - templates: templates by name (`default`, `tool_use`, …).
    ///   - specialTokens: the special-token strings.
    public init(templates: [String: ChatTemplate], specialTokens: SpecialTokens) {
        self.templates = templates
        self.specialTokens = specialTokens
    }

    /// The template transformers picks: `tool_use` when tools are given and it exists, else `default`.
    /// - Parameter hasTools: whether the conversation comes with tool definitions.
    /// - Returns: the template.
    /// - Throws: `ChatTemplateError` when several templates exist and none is `default`.
    public func template(hasTools: Bool) throws -> ChatTemplate {
        if hasTools, let t = templates["tool_use"] { return t }
        if let t = templates["default"] { return t }
        throw ChatTemplateError(.value, source: "tokenizer_config.json", line: 0,
                                "This model has multiple chat templates with no default specified! Available template names are "
                                + templates.keys.sorted().map { "'\($0)'" }.joined(separator: ", ") + ".")
    }

    /// Renders with the template `template(hasTools:)` picks and this set's special tokens.
    /// - Parameters: as `ChatTemplate.render`.
    /// - Returns: the rendered prompt.
    /// - Throws: `ChatTemplateError`.
    public func render(messages: [ChatValue], tools: [ChatValue]? = nil, documents: [ChatValue]? = nil,
                       addGenerationPrompt: Bool = true, extra: [String: ChatValue] = [:]) throws -> String {
        try template(hasTools: tools != nil).render(messages: messages, tools: tools, documents: documents,
                                                    addGenerationPrompt: addGenerationPrompt, extra: extra,
                                                    specialTokens: specialTokens)
    }
}

extension ChatTemplate {
    /// Loads the chat template(s) of a model directory.
    /// - Parameter directory: a directory with `chat_template.jinja` and/or `tokenizer_config.json`.
    /// - Returns: the templates and special tokens, or nil when the directory has no chat template.
    /// - Throws: `ChatTemplateError` for a template that does not parse or a malformed
    ///   `chat_template` entry; `TokenizerError` for a `tokenizer_config.json` that is not JSON.
    public static func load(directory: URL) throws -> ChatTemplateSet? {
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        var config: ChatValue?
        if FileManager.default.fileExists(atPath: configURL.path) {
            config = try ChatValue.parse(json: try Data(contentsOf: configURL), displayName: configURL.path)
        }
        var specialTokens = SpecialTokens()
        if let config {
            specialTokens = SpecialTokens(bos: tokenString(config["bos_token"]), eos: tokenString(config["eos_token"]),
                                          unk: tokenString(config["unk_token"]), pad: tokenString(config["pad_token"]))
        }
        let fileURL = directory.appendingPathComponent("chat_template.jinja")
        if FileManager.default.fileExists(atPath: fileURL.path) {
            guard let source = String(data: try Data(contentsOf: fileURL), encoding: .utf8) else {
                throw ChatTemplateError(.value, source: fileURL.path, line: 0, "the file is not valid UTF-8")
            }
            return ChatTemplateSet(templates: ["default": try ChatTemplate(source: source, name: fileURL.path)],
                                   specialTokens: specialTokens)
        }
        guard let entry = config?["chat_template"], entry != .null else { return nil }
        return ChatTemplateSet(templates: try templates(fromConfigEntry: entry, file: configURL.path), specialTokens: specialTokens)
    }

    /// The templates of a `chat_template` entry: a string, or a list of `{"name", "template"}`.
    static func templates(fromConfigEntry entry: ChatValue, file: String) throws -> [String: ChatTemplate] {
        switch entry {
        case .string(let source):
            return ["default": try ChatTemplate(source: source, name: "\(file) (chat_template)")]
        case .array(let items):
            var out: [String: ChatTemplate] = [:]
            for (k, item) in items.enumerated() {
                guard case .string(let name)? = item["name"], case .string(let source)? = item["template"] else {
                    throw ChatTemplateError(.value, source: file, line: 0,
                                            "chat_template[\(k)] must be an object with string members 'name' and 'template'")
                }
                out[name] = try ChatTemplate(source: source, name: "\(file) (chat_template '\(name)')")
            }
            return out
        default:
            throw ChatTemplateError(.value, source: file, line: 0, "chat_template must be a string or a list of {name, template} objects")
        }
    }

    /// A special token in `tokenizer_config.json`: a string or an `AddedToken` object `{"content": …}`.
    static func tokenString(_ v: ChatValue?) -> String? {
        switch v {
        case .string(let s)?: return s
        case .object?: if case .string(let s)? = v?["content"] { return s }; return nil
        default: return nil
        }
    }
}
