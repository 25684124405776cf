import ChatTemplates
import Engine
import Foundation

/// A prompt as a user gives it: text (encoded with the target's tokenizer), token ids, or a chat
/// conversation (rendered with the target's chat template, then encoded).
enum PromptInput {
    case text(String)
    case ids([Int32])
    /// OpenAI-style messages (`[{role, content, …}]`) and optional tool definitions, members in
    /// their written order (templates print them in that order).
    case chat(messages: [ChatValue], tools: [ChatValue]?)

    /// The prompt's tokens for `session`'s target.
    /// - Parameter session: the session that will run it.
    /// - Returns: the token ids.
    /// - Throws: `EngineError` when text needs a tokenizer the target lacks, or a chat needs a
    ///   template it lacks or the template refuses the conversation.
    func tokens(for session: Session) throws -> [Int32] {
        switch self {
        case .ids(let ids): return ids
        case .text(let text): return try session.encode(text)
        case .chat(let messages, let tools): return try session.encodeChat(messages: messages, tools: tools)
        }
    }

    /// Token ids written as text: separated by spaces, commas, tabs or newlines.
    /// - Parameter text: the ids.
    /// - Returns: the ids, or `nil` when a word is not a non-negative 32-bit integer or there is none.
    static func ids(_ text: String) -> [Int32]? {
        let words = text.split { $0 == " " || $0 == "," || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        let parsed = words.map { Int32($0) }
        guard !words.isEmpty, parsed.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
        return parsed.map { $0! }
    }

    /// A chat conversation from a JSON document: an array of messages, or an object with
    /// `messages` (and optionally `tools`).
    /// - Parameters:
    ///   - json: the parsed document.
    ///   - origin: where it came from, for messages (`file.json`, `prompts.jsonl:3`).
    /// - Returns: the conversation.
    /// - Throws: `CommandFailure` naming the origin and what is wrong.
    static func chat(json: ChatValue, origin: String) throws -> PromptInput {
        let messages: ChatValue?
        var tools: [ChatValue]?
        switch json {
        case .array:
            messages = json
        case .object:
            messages = json["messages"]
            if let t = json["tools"], t != .null {
                guard case .array(let list) = t else { throw CommandFailure("\(origin): 'tools' must be a list of tool definitions") }
                tools = list
            }
        default:
            throw CommandFailure("\(origin): expected a list of messages or an object with 'messages'")
        }
        guard case .array(let list)? = messages, !list.isEmpty else {
            throw CommandFailure("\(origin): 'messages' must be a non-empty list of {\"role\": …, \"content\": …} objects")
        }
        for (index, message) in list.enumerated() {
            guard case .string? = message["role"] else {
                throw CommandFailure("\(origin): message \(index) must be an object with a string 'role'")
            }
        }
        return .chat(messages: list, tools: tools)
    }

    /// Parses a JSON text with its members in order.
    /// - Parameters:
    ///   - text: the JSON text.
    ///   - origin: the file (and line) for the message.
    /// - Returns: the value.
    /// - Throws: `CommandFailure` with the parser's position.
    static func parseJSON(_ text: some StringProtocol, origin: String) throws -> ChatValue {
        do {
            return try ChatValue.parse(json: Data(text.utf8), displayName: origin)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// The prompts of a `bench graphs --prompts` file. A `.jsonl` file holds one JSON object per
    /// line with exactly one of `prompt` (text), `messages` (a chat, with optional `tools`) or
    /// `ids` (token ids); any other file holds one text prompt per line (token ids when the target
    /// has no tokenizer). Blank lines are skipped.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - path: its path (the extension picks the format; messages name `path:line`).
    ///   - targetHasTokenizer: whether plain lines are text (else token ids).
    /// - Returns: the prompts with their line numbers.
    /// - Throws: `CommandFailure` at the first bad line.
    static func file(_ text: String, path: String, targetHasTokenizer: Bool) throws -> [(line: Int, prompt: PromptInput)] {
        var prompts: [(line: Int, prompt: PromptInput)] = []
        let jsonLines = path.hasSuffix(".jsonl")
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.hasSuffix("\r") ? line.dropLast() : line
            guard !content.allSatisfy(\.isWhitespace) else { continue }
            let origin = "\(path):\(index + 1)"
            if !jsonLines {
                if targetHasTokenizer {
                    prompts.append((index + 1, .text(String(content))))
                } else {
                    guard let ids = Self.ids(String(content)) else {
                        throw CommandFailure("\(origin): the target has no tokenizer, so prompts must be token ids")
                    }
                    prompts.append((index + 1, .ids(ids)))
                }
                continue
            }
            let object = try Self.parseJSON(content, origin: origin)
            guard case .object = object else {
                throw CommandFailure("\(origin): not a JSON object (a .jsonl prompts file holds one {\"prompt\"|\"messages\"|\"ids\": …} object per line)")
            }
            let kinds = ["prompt", "messages", "ids"].filter { object[$0] != nil }
            guard kinds.count == 1 else {
                throw CommandFailure("\(origin): give exactly one of 'prompt', 'messages' and 'ids' (found \(kinds.isEmpty ? "none" : kinds.joined(separator: ", ")))")
            }
            switch kinds[0] {
            case "prompt":
                guard case .string(let prompt)? = object["prompt"] else { throw CommandFailure("\(origin): 'prompt' must be a string") }
                prompts.append((index + 1, .text(prompt)))
            case "ids":
                guard case .array(let list)? = object["ids"],
                      let ids = Self.ids(list.map { if case .int(let n) = $0 { "\(n)" } else { "x" } }.joined(separator: " ")) else {
                    throw CommandFailure("\(origin): 'ids' must be a non-empty list of non-negative token ids")
                }
                prompts.append((index + 1, .ids(ids)))
            default:
                prompts.append((index + 1, try chat(json: object, origin: origin)))
            }
        }
        guard !prompts.isEmpty else { throw CommandFailure("the prompts file '\(path)' holds no prompt") }
        return prompts
    }
}
