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
            """,
        options: [
            .value("tokenizer", "PATH", help: "A model directory holding tokenizer.json, or a GGUF file."),
            .flag("ids", help: "Print only the ids, separated by spaces."),
            .flag("json", help: "Print one JSON object with ids, tokens and the bytes of each token."),
            .flag("no-special", help: "Do not add the special tokens (BOS/EOS) of the post-processor."),
        ],
        positionals: [PositionalSpec("TEXT", help: "The text to tokenize, or '-' for standard input.")]
    ) { args, context in
        let path = try args.required("tokenizer")
        let tokenizer = try TokenizerLoader.require(at: path)
        let text = try readTextArgument(args.positionals[0])
        let ids = tokenizer.encode(text, addSpecialTokens: !args.flag("no-special"))
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

/// A TEXT argument: the text itself, or standard input for '-'.
func readTextArgument(_ argument: String) throws -> String {
    guard argument == "-" else { return argument }
    let data = FileHandle.standardInput.readDataToEndOfFile()
    guard let text = TextInput.utf8(data) else {
        throw CommandFailure("Standard input is not valid UTF-8.")
    }
    return text
}
