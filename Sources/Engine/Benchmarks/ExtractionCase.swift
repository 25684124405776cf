import ChatTemplates
import Foundation
import Graph

/// One case of `decograph bench extraction`: a prompt asking for JSON and the schema the answer
/// must validate against.
///
/// A cases file (`.jsonl`) holds one JSON object per line: `name` (unique), `schema` (a schema
/// file, relative to the cases file), and exactly one of `messages` (an OpenAI-style chat,
/// rendered with the target's chat template) or `prompt` (plain text, for models without one).
/// Blank lines are skipped.
public struct ExtractionCase: Sendable {
    /// How the prompt reaches the model.
    public enum Prompt: Sendable {
        /// A conversation, rendered with the target's chat template.
        case chat(ChatConversation)
        /// Text, encoded with the target's tokenizer as it is.
        case text(String)
    }

    /// The case's name.
    public var name: String
    /// The prompt.
    public var prompt: Prompt
    /// The schema file, as the cases file names it resolved against the cases file's directory.
    public var schemaPath: String
    /// The schema's text.
    public var schemaText: String
    /// Where the case is written (`file:line:1`).
    public var location: SourceLocation

    /// Creates a case.
    /// - Parameters:
    ///   - name: the case's name.
    ///   - prompt: the prompt.
    ///   - schemaPath: the schema file (read by the graph's `constrain.json_schema` node).
    ///   - schemaText: the schema's text.
    ///   - location: where the case is written.
    public init(name: String, prompt: Prompt, schemaPath: String, schemaText: String, location: SourceLocation) {
        self.name = name
        self.prompt = prompt
        self.schemaPath = schemaPath
        self.schemaText = schemaText
        self.location = location
    }

    /// Reads a cases file.
    /// - Parameter path: the `.jsonl` file.
    /// - Returns: its cases, in order.
    /// - Throws: `EngineError` at the first bad line (`file:line:1`), naming the member at fault and
    ///   what it must be; or naming the file when it cannot be read or holds no case.
    public static func load(file path: String) throws -> [ExtractionCase] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw EngineError("cannot read the cases file '\(path)' as UTF-8 text")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        var cases: [ExtractionCase] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.allSatisfy(\.isWhitespace) else { continue }
            let location = SourceLocation(file: path, line: index + 1, column: 1)
            let loaded = try parse(line, location: location, directory: directory)
            if cases.contains(where: { $0.name == loaded.name }) {
                throw EngineError(at: location, "a case named '\(loaded.name)' is already defined; give each case its own name")
            }
            cases.append(loaded)
        }
        guard !cases.isEmpty else { throw EngineError("the cases file '\(path)' holds no case (one JSON object per line)") }
        return cases
    }

    /// One line of a cases file.
    static func parse(_ line: Substring, location: SourceLocation, directory: URL) throws -> ExtractionCase {
        let object: ChatValue
        do {
            object = try ChatValue.parse(json: Data(line.utf8), displayName: location.description)
        } catch {
            throw EngineError(at: location, "not a JSON object: \(error)")
        }
        guard case .object = object else {
            throw EngineError(at: location, "not a JSON object (a cases file holds one {\"name\", \"schema\", \"messages\"|\"prompt\"} object per line)")
        }
        guard case .string(let name)? = object["name"], !name.isEmpty else {
            throw EngineError(at: location, "'name' must be a non-empty string")
        }
        guard case .string(let schema)? = object["schema"], !schema.isEmpty else {
            throw EngineError(at: location, "case '\(name)': 'schema' must name a schema file, relative to the cases file")
        }
        let kinds = ["messages", "prompt"].filter { object[$0] != nil }
        guard kinds.count == 1 else {
            throw EngineError(at: location, "case '\(name)': give exactly one of 'messages' and 'prompt' (found \(kinds.isEmpty ? "none" : kinds.joined(separator: ", ")))")
        }
        let prompt: Prompt
        if case .string(let text)? = object["prompt"] {
            prompt = .text(text)
        } else if case .array(let messages)? = object["messages"], !messages.isEmpty {
            for (k, message) in messages.enumerated() {
                guard case .string? = message["role"], case .string? = message["content"] else {
                    throw EngineError(at: location, "case '\(name)': messages[\(k)] must be an object with string 'role' and 'content'")
                }
            }
            prompt = .chat(ChatConversation(messages: messages))
        } else {
            throw EngineError(at: location, "case '\(name)': '\(kinds[0])' must be \(kinds[0] == "prompt" ? "a string" : "a non-empty list of messages")")
        }
        let schemaURL = URL(fileURLWithPath: schema, relativeTo: directory).standardizedFileURL
        guard let schemaData = FileManager.default.contents(atPath: schemaURL.path),
              let schemaText = String(data: schemaData, encoding: .utf8) else {
            throw EngineError(at: location, "case '\(name)': cannot read the schema file '\(schemaURL.path)'")
        }
        return ExtractionCase(name: name, prompt: prompt, schemaPath: schemaURL.path, schemaText: schemaText, location: location)
    }
}
