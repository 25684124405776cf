import Foundation

/// A conversation as a messages file gives it (`decograph tokenize --messages`, `run --messages`):
/// an OpenAI-style JSON array of messages, or an object with `messages` and optionally `tools`,
/// `documents` and further members, which become template variables (`"enable_thinking": false`).
public struct ChatConversation: Sendable, Equatable {
    public var messages: [ChatValue]
    public var tools: [ChatValue]?
    public var documents: [ChatValue]?
    /// Further template variables.
    public var extra: [String: ChatValue]

    /// Creates a conversation.
    public init(messages: [ChatValue], tools: [ChatValue]? = nil, documents: [ChatValue]? = nil, extra: [String: ChatValue] = [:]) {
        self.messages = messages
        self.tools = tools
        self.documents = documents
        self.extra = extra
    }

    /// Reads a messages file's JSON.
    /// - Parameters:
    ///   - data: the JSON text.
    ///   - displayName: the file name errors name.
    /// - Throws: `TokenizerError` for text that is not JSON; `ChatTemplateError` (`.value`) naming
    ///   the JSON path of a member of the wrong shape.
    public init(json data: Data, displayName: String) throws {
        func fail(_ path: String, _ message: String) -> ChatTemplateError {
            ChatTemplateError(.value, source: displayName, line: 0, "\(path): \(message)")
        }
        func list(_ v: ChatValue?, _ path: String) throws -> [ChatValue]? {
            switch v {
            case nil, .null?: return nil
            case .array(let a)?: return a
            default: throw fail(path, "expected an array")
            }
        }
        let root = try ChatValue.parse(json: data, displayName: displayName)
        var extra: [String: ChatValue] = [:]
        switch root {
        case .array(let a):
            messages = a
        case .object(let members):
            guard let m = try list(root["messages"], "$.messages") else { throw fail("$", "expected a 'messages' array") }
            messages = m
            tools = try list(root["tools"], "$.tools")
            documents = try list(root["documents"], "$.documents")
            for (k, v) in members where !["messages", "tools", "documents"].contains(k) { extra[k] = v }
        default:
            throw fail("$", "expected an array of messages or an object with 'messages'")
        }
        self.extra = extra
        for (k, message) in messages.enumerated() {
            guard case .object = message else { throw fail("$.messages[\(k)]", "a message must be an object with 'role' and 'content'") }
            guard case .string? = message["role"] else { throw fail("$.messages[\(k)].role", "expected a string") }
        }
    }
}
