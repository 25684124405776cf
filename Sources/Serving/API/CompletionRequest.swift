import ChatTemplates
import Foundation
import Graph

/// A `/v1/chat/completions` or `/v1/completions` request, read and checked: every field the server
/// acts on has a value of the right type and range, and every field it cannot honour is refused by
/// name rather than ignored.
struct CompletionRequest {
    /// Which endpoint it came to.
    enum Endpoint: String { case chat = "chat.completion", completion = "text_completion" }

    /// What the model continues.
    enum Prompt {
        /// Messages (and tools) rendered with the target's chat template.
        case chat(ChatConversation)
        /// Text encoded with the target's tokenizer.
        case text(String)
        /// Token ids as given.
        case ids([Int32])
    }

    var endpoint: Endpoint
    /// The graph's name (`model`).
    var graph: String
    var prompt: Prompt
    /// `max_tokens` / `max_completion_tokens`; nil: the graph's `limits.max_new_tokens`.
    var maxTokens: Int?
    var seed: UInt64
    /// `stop`; nil: the graph's.
    var stop: [String]?
    var stream: Bool
    /// `stream_options.include_usage`: a last chunk with the usage counts.
    var includeUsage: Bool
    /// Request fields that set the graph's declared parameters.
    var arguments: [(name: String, value: YAMLNode)]
    /// `response_format`'s JSON Schema, composed into the graph as a constraint.
    var schema: YAMLNode?
    /// `n`: completions of the prompt, each a generation of its own (seeds `seed`, `seed + 1`, …).
    var choices = 1
    /// With log-probabilities, how many alternatives per token (chat: `logprobs: true` and
    /// `top_logprobs`; completions: `logprobs: N`); nil without.
    var logprobs: Int?

    /// Most alternatives per token a request may ask for (OpenAI's limit for chat).
    static let maxTopLogprobs = 20

    /// Limits on what a request may send, beyond the body size the HTTP layer enforces.
    struct Limits {
        /// Largest `max_tokens` a request may ask for.
        var maxTokens: Int
        /// Most stop strings (OpenAI allows 4; more cost a scan per step each).
        var maxStopStrings: Int
        /// Largest response-format schema, in bytes of its JSON (compiling one costs time and memory).
        var maxSchemaBytes: Int
        /// Largest `n`: the server's parallelism, since a request's choices run together.
        var maxChoices: Int
    }

    /// Request fields that are OpenAI sampling controls: a graph that does not declare one as a
    /// parameter refuses a request setting it to anything but its neutral value, so nobody believes
    /// they sampled at temperature 0.7 from a greedy graph.
    static let samplingFields: [String: ChatValue?] = [
        "temperature": nil, "top_p": nil, "top_k": nil, "min_p": nil, "typical_p": nil,
        "frequency_penalty": .int(0), "presence_penalty": .int(0), "repetition_penalty": .int(1),
    ]

    /// Fields of the request itself, which a graph parameter of the same name cannot take.
    static let reservedFields: Set<String> = [
        "model", "messages", "prompt", "max_tokens", "max_completion_tokens", "seed", "stop", "stream", "stream_options",
        "n", "logprobs", "top_logprobs", "echo", "response_format", "tools", "tool_choice", "user", "suffix", "best_of",
        "logit_bias", "parallel_tool_calls", "metadata", "store", "service_tier",
    ]

    /// Reads a request body.
    /// - Parameters:
    ///   - body: the JSON text.
    ///   - endpoint: the endpoint it was sent to.
    ///   - parameters: the declared parameters of the graph, looked up by name once the `model`
    ///     field is read (nil: no such graph, answered 404).
    ///   - limits: the server's limits.
    /// - Throws: `APIError` naming the field at fault.
    init(body: [UInt8], endpoint: Endpoint, limits: Limits, parameters: (String) throws(APIError) -> [ParameterSpec]) throws(APIError) {
        let root: ChatValue
        do {
            root = try ChatValue.parse(json: Data(body), displayName: "request body")
        } catch {
            throw .invalid("the request body is not valid JSON: \(error)")
        }
        guard case .object(let members) = root else { throw .invalid("the request body must be a JSON object") }
        func field(_ name: String) -> ChatValue? {
            guard let value = root[name], value != .null else { return nil }
            return value
        }
        self.endpoint = endpoint
        guard case .string(let graph)? = field("model") else {
            throw .invalid("'model' is required: the name of one of the server's graphs (GET /v1/models lists them)", param: "model")
        }
        self.graph = graph
        let declared = try parameters(graph)

        switch endpoint {
        case .chat:
            guard case .array(let messages)? = field("messages"), !messages.isEmpty else {
                throw .invalid("'messages' must be a non-empty array of {role, content} objects", param: "messages")
            }
            var tools: [ChatValue]?
            if let t = field("tools") {
                guard case .array(let list) = t else { throw .invalid("'tools' must be an array", param: "tools") }
                tools = list
            }
            prompt = .chat(ChatConversation(messages: try messages.enumerated().map(Self.message), tools: tools))
        case .completion:
            switch field("prompt") {
            case .string(let text)?:
                prompt = .text(text)
            case .array(let items)? where items.count == 1:
                if case .string(let text) = items[0] {
                    prompt = .text(text)
                } else if case .array(let ids) = items[0] {
                    prompt = .ids(try Self.tokenIDs(ids))
                } else {
                    prompt = .ids(try Self.tokenIDs(items))
                }
            case .array(let items)?:
                guard items.allSatisfy({ if case .int = $0 { true } else { false } }), !items.isEmpty else {
                    throw .invalid("'prompt' must be a string, an array of token ids, or an array of one of those (one prompt per request)", param: "prompt")
                }
                prompt = .ids(try Self.tokenIDs(items))
            default:
                throw .invalid("'prompt' is required: a string or an array of token ids", param: "prompt")
            }
            if case .bool(true)? = field("echo") { throw .invalid("'echo' is not supported", param: "echo") }
            if field("suffix") != nil { throw .invalid("'suffix' (fill-in-the-middle) is not supported", param: "suffix") }
        }

        let tokensField = field("max_completion_tokens") != nil ? "max_completion_tokens" : "max_tokens"
        if let value = field(tokensField) {
            guard case .int(let n) = value, (1...limits.maxTokens).contains(n) else {
                throw .invalid("'\(tokensField)' must be an integer in 1...\(limits.maxTokens)", param: tokensField)
            }
            maxTokens = n
        }
        seed = 0
        if let value = field("seed") {
            guard case .int(let s) = value, s >= 0 else { throw .invalid("'seed' must be a non-negative integer", param: "seed") }
            seed = UInt64(s)
        }
        switch field("stop") {
        case nil: break
        case .string(let s)?: stop = [s]
        case .array(let items)?:
            stop = try items.map { item throws(APIError) in
                guard case .string(let s) = item else { throw .invalid("'stop' must be a string or an array of strings", param: "stop") }
                return s
            }
        default: throw .invalid("'stop' must be a string or an array of strings", param: "stop")
        }
        if let stop {
            guard stop.count <= limits.maxStopStrings else { throw .invalid("'stop' holds at most \(limits.maxStopStrings) strings", param: "stop") }
            guard !stop.contains(where: \.isEmpty) else { throw .invalid("'stop' strings must not be empty", param: "stop") }
        }
        switch field("stream") {
        case nil, .bool(false)?: stream = false
        case .bool(true)?: stream = true
        default: throw .invalid("'stream' must be a boolean", param: "stream")
        }
        includeUsage = false
        if let options = field("stream_options") {
            guard stream else { throw .invalid("'stream_options' is only allowed with 'stream': true", param: "stream_options") }
            if case .bool(let b)? = options["include_usage"] { includeUsage = b }
        }
        if let n = field("n") {
            guard case .int(let count) = n, (1...limits.maxChoices).contains(count) else {
                throw .invalid("'n' must be an integer in 1...\(limits.maxChoices) (the server's parallelism: a request's choices run together)", param: "n")
            }
            choices = count
        }
        for name in ["best_of"] where field(name) != nil && field(name) != .int(1) {
            throw .invalid("'\(name)' is not supported", param: name)
        }
        logprobs = try Self.logprobs(field("logprobs"), top: field("top_logprobs"), endpoint: endpoint)
        if let logitBias = field("logit_bias"), logitBias != .object([]) {
            throw .invalid("'logit_bias' is not supported; write the bias into a graph", param: "logit_bias")
        }

        // The graph's parameters: request fields of the same name, of plain types only (a string or
        // list parameter could carry a path or a command into a node).
        var arguments: [(name: String, value: YAMLNode)] = []
        for (name, value) in members where !Self.reservedFields.contains(name) && value != .null {
            if let spec = declared.first(where: { $0.name == name }) {
                switch spec.type {
                case .int, .float, .bool, .enumeration: break
                default: throw .invalid("parameter '\(name)' of graph '\(graph)' is a \(spec.typeSummary), which requests cannot set", param: name)
                }
                arguments.append((name, try Self.yaml(value, field: name)))
            } else if let neutral = Self.samplingFields[name] {
                if let neutral, Self.numericallyEqual(value, neutral) { continue }
                let names = declared.map(\.name).sorted()
                throw .invalid("graph '\(graph)' does not take '\(name)' (its parameters: \(names.isEmpty ? "none" : names.joined(separator: ", "))); choose a graph that samples, or leave '\(name)' unset",
                               param: name, code: "unsupported_parameter")
            }
        }
        self.arguments = arguments

        if let format = field("response_format") {
            guard case .string(let type)? = format["type"] else {
                throw .invalid("'response_format.type' must be 'text', 'json_object' or 'json_schema'", param: "response_format")
            }
            switch type {
            case "text": break
            case "json_object":
                schema = YAMLNode(.mapping([YAMLNode.Entry(key: Self.string("type"), value: Self.string("object"))]), at: Self.origin)
            case "json_schema":
                guard case .object? = format["json_schema"], let body = format["json_schema"]?["schema"], case .object = body else {
                    throw .invalid("'response_format.json_schema.schema' must be a JSON Schema object", param: "response_format")
                }
                guard body.jsonText.utf8.count <= limits.maxSchemaBytes else {
                    throw .invalid("the response format's schema is larger than \(limits.maxSchemaBytes) bytes", param: "response_format")
                }
                schema = try Self.yaml(body, field: "response_format")
            default:
                throw .invalid("'response_format.type' must be 'text', 'json_object' or 'json_schema', not '\(type)'", param: "response_format")
            }
        }
    }

    /// The alternatives a request asks for: chat's `logprobs` is a boolean with `top_logprobs`
    /// beside it, the completions endpoint's `logprobs` the count itself.
    private static func logprobs(_ value: ChatValue?, top: ChatValue?, endpoint: Endpoint) throws(APIError) -> Int? {
        let range = 0...maxTopLogprobs
        switch endpoint {
        case .chat:
            let on: Bool
            switch value {
            case nil, .bool(false)?: on = false
            case .bool(true)?: on = true
            default: throw .invalid("'logprobs' must be a boolean", param: "logprobs")
            }
            guard let top else { return on ? 0 : nil }
            guard case .int(let n) = top, range.contains(n) else { throw .invalid("'top_logprobs' must be an integer in \(range)", param: "top_logprobs") }
            guard on else { throw .invalid("'top_logprobs' needs 'logprobs': true", param: "top_logprobs") }
            return n
        case .completion:
            if top != nil { throw .invalid("'top_logprobs' belongs to /v1/chat/completions; here 'logprobs' is the count", param: "top_logprobs") }
            guard let value else { return nil }
            guard case .int(let n) = value, range.contains(n) else { throw .invalid("'logprobs' must be an integer in \(range)", param: "logprobs") }
            return n
        }
    }

    /// Where request values are said to be written, in the compiler's messages.
    static let origin = SourceLocation(file: "request", line: 1, column: 1)

    private static func string(_ text: String) -> YAMLNode { YAMLNode(.scalar(text, plain: false), at: origin) }

    /// A message object, with OpenAI's content-part arrays joined into text (templates read strings).
    private static func message(_ index: Int, _ message: ChatValue) throws(APIError) -> ChatValue {
        guard case .object(var members) = message, case .string? = message["role"] else {
            throw .invalid("messages[\(index)] must be an object with a string 'role'", param: "messages")
        }
        if case .array(let parts)? = message["content"] {
            var text = ""
            for part in parts {
                guard case .string("text")? = part["type"], case .string(let piece)? = part["text"] else {
                    throw .invalid("messages[\(index)].content: only text parts ({\"type\": \"text\", \"text\": …}) are supported", param: "messages")
                }
                text += piece
            }
            members = members.map { $0.0 == "content" ? ("content", .string(text)) : $0 }
        }
        return .object(members)
    }

    private static func tokenIDs(_ items: [ChatValue]) throws(APIError) -> [Int32] {
        guard !items.isEmpty else { throw .invalid("'prompt' must not be empty", param: "prompt") }
        return try items.map { item throws(APIError) in
            guard case .int(let id) = item, (0...Int(Int32.max)).contains(id) else {
                throw .invalid("'prompt' token ids must be non-negative integers", param: "prompt")
            }
            return Int32(id)
        }
    }

    private static func numericallyEqual(_ a: ChatValue, _ b: ChatValue) -> Bool {
        func number(_ v: ChatValue) -> Double? {
            switch v {
            case .int(let i): Double(i)
            case .double(let d): d
            default: nil
            }
        }
        guard let x = number(a), let y = number(b) else { return false }
        return x == y
    }

    /// A JSON value as the graph language's YAML node (object members keep their order, strings stay
    /// strings, numbers and booleans plain scalars as YAML's core schema reads them).
    static func yaml(_ value: ChatValue, field: String) throws(APIError) -> YAMLNode {
        switch value {
        case .null: return YAMLNode(.scalar("null", plain: true), at: origin)
        case .bool(let b): return YAMLNode(.scalar(b ? "true" : "false", plain: true), at: origin)
        case .int(let i): return YAMLNode(.scalar(String(i), plain: true), at: origin)
        case .double(let d):
            guard d.isFinite else { throw .invalid("'\(field)' holds a number JSON cannot hold", param: field) }
            return YAMLNode(.scalar("\(d)", plain: true), at: origin)
        case .string(let s): return string(s)
        case .array(let items): return YAMLNode(.sequence(try items.map { v throws(APIError) in try yaml(v, field: field) }), at: origin)
        case .object(let members):
            return YAMLNode(.mapping(try members.map { k, v throws(APIError) in YAMLNode.Entry(key: string(k), value: try yaml(v, field: field)) }), at: origin)
        }
    }
}
