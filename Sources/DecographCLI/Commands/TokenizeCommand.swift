import ChatTemplates
import Foundation
import Engine
import Tokenization

extension CommandSpec {
    /// `decograph tokenize`: shows what a model sees of a text.
    static let tokenize = CommandSpec(
        "tokenize",
        abstract: "Show the tokens a model's tokenizer makes of a text.",
        discussion: """
            Loads tokenizer.json (and tokenizer_config.json) from a model directory, or the tokenizer a \
            GGUF file carries (tokenizer.ggml.*, tokenized as llama.cpp does), and prints one line per \
            token: the id, the token string, and the text it stands for. '-' reads the text from \
            standard input.

            With --messages FILE (an OpenAI-style JSON array of {role, content, …} messages, or an object \
            with 'messages', optional 'tools' and 'documents', and further members passed to the template \
            as variables, e.g. "enable_thinking": false), the text is the conversation rendered with the \
            model's chat template (chat_template.jinja, tokenizer_config.json, or a GGUF's \
            tokenizer.chat_template), ending with the assistant header unless --no-generation-prompt; \
            --rendered prints that text. Its tokens are encoded without adding special tokens again, as \
            transformers' apply_chat_template(tokenize=True) does.
            """,
        options: [
            .value("tokenizer", "PATH", help: "A model directory holding tokenizer.json, or a GGUF file."),
            .flag("ids", help: "Print only the ids, separated by spaces."),
            .flag("json", help: "Print one JSON object with ids, tokens and the bytes of each token."),
            .flag("no-special", help: "Do not add the special tokens (BOS/EOS) of the post-processor."),
            .value("messages", "FILE", help: "Render the conversation in FILE (JSON) with the model's chat template instead of TEXT."),
            .flag("rendered", help: "With --messages: print the rendered prompt instead of its tokens."),
            .flag("no-generation-prompt", help: "With --messages: do not end with the header of an assistant turn."),
        ],
        positionals: [PositionalSpec("TEXT", optional: true, help: "The text to tokenize, or '-' for standard input.")]
    ) { args, context in
        let path = try args.required("tokenizer")
        let tokenizer = try TokenizerLoader.require(at: path)
        let text: String
        let addSpecialTokens: Bool
        if let messagesFile = args.value("messages") {
            guard args.positionals.isEmpty else {
                throw UsageError("Give either TEXT or '--messages', not both.", usage: args.usageLine)
            }
            text = try renderConversation(messagesFile, model: path, tokenizer: tokenizer,
                                          generationPrompt: !args.flag("no-generation-prompt"))
            if args.flag("rendered") {
                context.write(text)
                return 0
            }
            // The template wrote the special tokens it wants; transformers adds none on top.
            addSpecialTokens = false
        } else {
            guard let argument = args.positionals.first else {
                throw UsageError("Missing expected argument 'TEXT' (or '--messages FILE').", usage: args.usageLine)
            }
            if args.flag("rendered") || args.flag("no-generation-prompt") {
                throw UsageError("'--rendered' and '--no-generation-prompt' need '--messages FILE'.", usage: args.usageLine)
            }
            text = try readTextArgument(argument)
            addSpecialTokens = !args.flag("no-special")
        }
        let ids = tokenizer.encode(text, addSpecialTokens: addSpecialTokens)
        if args.flag("ids") {
            context.print(ids.map(String.init).joined(separator: " "))
        } else if args.flag("json") {
            let object: [String: Any] = [
                "ids": ids.map(Int.init),
                "tokens": ids.map { tokenizer.tokenString($0) ?? "" },
                "bytes": ids.map { tokenizer.tokenBytes($0).map(Int.init) },
                "decoded": tokenizer.decode(ids),
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            context.print(String(decoding: data, as: UTF8.self))
        } else {
            let width = String(tokenizer.vocabularySize).count
            for id in ids {
                let number = String(id)
                let token = (tokenizer.tokenString(id) ?? "").debugDescription
                let bytes = String(decoding: tokenizer.tokenBytes(id), as: UTF8.self).debugDescription
                context.print(String(repeating: " ", count: max(0, width - number.count)) + number + "  " + token + "  " + bytes
                              + (tokenizer.isSpecial(id) ? "  (special)" : ""))
            }
            context.print("\(ids.count) tokens, \(text.utf8.count) bytes")
        }
        return 0
    }
}

/// The conversation in `file` rendered with the chat template of the model at `model` (a
/// directory or a GGUF file; `tokenizer` gives a GGUF's special-token strings).
func renderConversation(_ file: String, model: String, tokenizer: Tokenizer, generationPrompt: Bool) throws -> String {
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: file))
    } catch {
        throw CommandFailure("\(file): cannot read the messages file (\(error.localizedDescription)).")
    }
    let conversation = try ChatConversation(json: data, displayName: file)
    guard let templates = try ResourceRegistry.loadChatTemplates(at: model, tokenizer: tokenizer) else {
        throw CommandFailure("\(model): no chat template (no chat_template.jinja, no 'chat_template' in tokenizer_config.json, no tokenizer.chat_template in a GGUF).")
    }
    return try templates.render(messages: conversation.messages, tools: conversation.tools, documents: conversation.documents,
                                addGenerationPrompt: generationPrompt, extra: conversation.extra)
}

/// A TEXT argument: the text itself, or standard input for '-'.
func readTextArgument(_ argument: String) throws -> String {
    guard argument == "-" else { return argument }
    let data = FileHandle.standardInput.readDataToEndOfFile()
    guard let text = TextInput.utf8(data) else {
        throw CommandFailure("Standard input is not valid UTF-8.")
    }
    return text
}
