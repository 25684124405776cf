import ChatTemplates
import Engine
import Foundation

/// A prompt as a user gives it: text (encoded with the target's tokenizer), token ids, or a chat
/// conversation (rendered with the target's chat template, then encoded).
enum PromptInput {
    case text(String)
    case ids([Int32])
    /// OpenAI-style messages (`[{role, content, …}]`), optional tools, documents and template
    /// variables, members in their written order (templates print them in that order).
    case chat(ChatConversation)

    /// The prompt's tokens for `session`'s target.
    /// - Parameter session: the session that will run it.
    /// - Returns: the token ids.
    /// - Throws: `EngineError` when text needs a tokenizer the target lacks, or a chat needs a
    ///   template it lacks or the template refuses the conversation.
    func tokens(for session: Session) throws -> [Int32] {
        switch self {
        case .ids(let ids): return ids
        case .text(let text): return try session.encode(text)
        case .chat(let conversation): return try session.encodeChat(conversation)
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

    /// A chat conversation from a messages document (`ChatConversation`'s shapes).
    /// - Parameters:
    ///   - text: the JSON text.
    ///   - origin: where it came from, for messages (`file.json`, `prompts.jsonl:3`).
    /// - Returns: the conversation.
    /// - Throws: `CommandFailure` naming the origin, the JSON position or path, and what is wrong.
    static func chat(_ text: some StringProtocol, origin: String) throws -> PromptInput {
        do {
            let conversation = try ChatConversation(json: Data(text.utf8), displayName: origin)
            guard !conversation.messages.isEmpty else {
                throw CommandFailure("\(origin): 'messages' must be a non-empty list of {\"role\": …, \"content\": …} objects")
            }
            return .chat(conversation)
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// A prompts file (`file(_:path:targetHasTokenizer:)`) read from disk and encoded for a session's
    /// target: each entry's tokens and category; an entry that cannot be encoded is an error at its line.
    /// - Parameters:
    ///   - path: the file.
    ///   - session: the session whose tokenizer and chat template encode the entries.
    /// - Returns: per entry, its tokens and category.
    /// - Throws: `CommandFailure` for an unreadable file or an entry that does not encode.
    static func tokens(ofFile path: String, for session: Session) throws -> [(tokens: [Int32], category: String?)] {
        guard let data = FileManager.default.contents(atPath: path), let text = TextInput.utf8(data) else {
            throw CommandFailure("cannot read the prompts file '\(path)' as UTF-8 text")
        }
        return try file(text, path: path, targetHasTokenizer: session.tokenizer != nil).map { entry in
            do {
                return (try entry.prompt.tokens(for: session), entry.category)
            } catch let error as EngineError {
                throw CommandFailure("\(path):\(entry.line): \(error.message)")
            }
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
    /// - Returns: the prompts with their line numbers and, for a .jsonl object with a string
    ///   `category` (Spec-Bench's kinds of task), its category.
    /// - Throws: `CommandFailure` at the first bad line.
    static func file(_ text: String, path: String, targetHasTokenizer: Bool) throws -> [(line: Int, prompt: PromptInput, category: String?)] {
        var prompts: [(line: Int, prompt: PromptInput, category: String?)] = []
        let jsonLines = path.hasSuffix(".jsonl")
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.hasSuffix("\r") ? line.dropLast() : line
            guard !content.allSatisfy(\.isWhitespace) else { continue }
            let origin = "\(path):\(index + 1)"
            if !jsonLines {
                if targetHasTokenizer {
                    prompts.append((index + 1, .text(String(content)), nil))
                } else {
                    guard let ids = Self.ids(String(content)) else {
                        throw CommandFailure("\(origin): the target has no tokenizer, so prompts must be token ids")
                    }
                    prompts.append((index + 1, .ids(ids), nil))
                }
                continue
            }
            let object: ChatValue
            do {
                object = try ChatValue.parse(json: Data(content.utf8), displayName: origin)
            } catch {
                throw CommandFailure("\(error)")
            }
            guard case .object = object else {
                throw CommandFailure("\(origin): not a JSON object (a .jsonl prompts file holds one {\"prompt\"|\"messages\"|\"ids\": …} object per line)")
            }
            var category: String?
            if let value = object["category"] {
                guard case .string(let name) = value, !name.isEmpty else { throw CommandFailure("\(origin): 'category' must be a non-empty string") }
                category = name
            }
            let kinds = ["prompt", "messages", "ids"].filter { object[$0] != nil }
            guard kinds.count == 1 else {
                throw CommandFailure("\(origin): give exactly one of 'prompt', 'messages' and 'ids' (found \(kinds.isEmpty ? "none" : kinds.joined(separator: ", ")))")
            }
            switch kinds[0] {
            case "prompt":
                guard case .string(let prompt)? = object["prompt"] else { throw CommandFailure("\(origin): 'prompt' must be a string") }
                prompts.append((index + 1, .text(prompt), category))
            case "ids":
                guard case .array(let list)? = object["ids"],
                      let ids = Self.ids(list.map { if case .int(let n) = $0 { "\(n)" } else { "x" } }.joined(separator: " ")) else {
                    throw CommandFailure("\(origin): 'ids' must be a non-empty list of non-negative token ids")
                }
                prompts.append((index + 1, .ids(ids), category))
            default:
                prompts.append((index + 1, try chat(content, origin: origin), category))
            }
        }
        guard !prompts.isEmpty else { throw CommandFailure("the prompts file '\(path)' holds no prompt") }
        return prompts
    }
}
