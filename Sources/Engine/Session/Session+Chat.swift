import ChatTemplates
import Foundation
import ModelRuntime
import Tokenization

extension Session {
    /// The name of the target's chat template (its file, or the GGUF key), `nil` when the target
    /// has none — a base model, or one whose authors ship no template — or it does not load.
    public var chatTemplateName: String? { (try? chatTemplates())?.flatMap { try? $0.template(hasTools: false).name } }

    /// A conversation as the target's chat template renders it, ending with the assistant turn's
    /// header (`add_generation_prompt`).
    /// - Parameters:
    ///   - conversation: OpenAI-style messages, tools, documents and template variables.
    ///   - addGenerationPrompt: end with the header of an assistant turn.
    /// - Returns: the prompt text the model sees.
    /// - Throws: `EngineError` when the target has no template, or the template's own message when
    ///   it refuses the conversation.
    public func renderChat(_ conversation: ChatConversation, addGenerationPrompt: Bool = true) throws -> String {
        let loaded: ChatTemplateSet?
        do {
            loaded = try chatTemplates()
        } catch {
            throw EngineError("the target's chat template cannot be loaded: \(error)")
        }
        guard let chatTemplates = loaded else {
            throw EngineError("the target model has no chat template (no chat_template.jinja, no chat_template in tokenizer_config.json, no tokenizer.chat_template in its GGUF); give the prompt as text with --prompt")
        }
        do {
            return try chatTemplates.render(messages: conversation.messages, tools: conversation.tools,
                                            documents: conversation.documents, addGenerationPrompt: addGenerationPrompt,
                                            extra: conversation.extra)
        } catch let error as ChatTemplateError {
            throw EngineError("the chat template refused the conversation: \(error)")
        }
    }

    /// The tokens of a rendered conversation. The rendered text already holds the special tokens
    /// the template writes, so none are added (transformers' `apply_chat_template(tokenize=True)`).
    /// - Parameter conversation: OpenAI-style messages, tools, documents and template variables.
    /// - Returns: the prompt's token ids.
    /// - Throws: as `renderChat`, or when the target has no tokenizer.
    public func encodeChat(_ conversation: ChatConversation) throws -> [Int32] {
        let text = try renderChat(conversation)
        guard let tokenizer else { throw EngineError("the target model has no tokenizer to encode the rendered chat") }
        return tokenizer.encode(text, addSpecialTokens: false)
    }
}

extension ResourceRegistry {
    /// Reads the chat templates of the model at `path`: a directory's `chat_template.jinja` or
    /// `tokenizer_config.json`, or a GGUF file's `tokenizer.chat_template*` keys (special-token
    /// strings then come from its tokenizer's BOS/EOS ids).
    /// - Parameters:
    ///   - path: a model directory or `.gguf` file.
    ///   - tokenizer: its tokenizer, for the GGUF special-token strings.
    /// - Returns: the templates, or `nil` when the model has none.
    /// - Throws: the template's parse error, or the file's.
    public static func loadChatTemplates(at path: String, tokenizer: Tokenizer?) throws -> ChatTemplateSet? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return try ChatTemplate.load(directory: URL(fileURLWithPath: path)) }
        let sources = try Model.chatTemplates(gguf: path)
        guard !sources.isEmpty else { return nil }
        var templates: [String: ChatTemplate] = [:]
        for (name, source) in sources {
            templates[name] = try ChatTemplate(source: source, name: path + "#tokenizer.chat_template" + (name == "default" ? "" : "." + name))
        }
        let special = SpecialTokens(bos: tokenizer?.bosTokenID.flatMap { tokenizer?.tokenString($0) },
                                    eos: tokenizer?.eosTokenID.flatMap { tokenizer?.tokenString($0) },
                                    pad: tokenizer?.padTokenID.flatMap { tokenizer?.tokenString($0) })
        return ChatTemplateSet(templates: templates, specialTokens: special)
    }
}
