import Engine
import Foundation
import Graph
import Support
import Synchronization

/// The OpenAI-compatible API over a graph catalog: routes, authentication, admission, generation
/// (whole or streamed as server-sent events) and the answers' JSON.
final class CompletionService: HTTPHandler, Sendable {
    let catalog: GraphCatalog
    let options: ServerOptions
    let admission: Admission
    let metrics = ServerMetrics()
    /// Streams not yet sent to the end.
    let streams = OpenStreams()
    private let resources: ResourceRegistry
    private let serial = Atomic<Int>(0)
    private let started = Int(Date().timeIntervalSince1970)

    init(catalog: GraphCatalog, options: ServerOptions, resources: ResourceRegistry) {
        self.catalog = catalog
        self.options = options
        self.resources = resources
        admission = Admission(parallel: options.parallel, queue: options.queue)
    }

    func respond(to request: HTTPRequest) -> HTTPResponse {
        let endpoint = request.path
        let response = route(request)
        metrics.answered(endpoint: Self.knownPaths.contains(endpoint) ? endpoint : "other", status: response.status)
        return response
    }

    static let knownPaths: Set<String> = ["/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics"]

    private func route(_ request: HTTPRequest) -> HTTPResponse {
        if request.path == "/health" {
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            let draining = isDraining
            return .json(draining ? 503 : 200, draining ? "{\"status\":\"draining\"}" : "{\"status\":\"ok\"}")
        }
        if let key = options.apiKey {
            let given = request.headers["authorization"] ?? ""
            guard Self.constantTimeEqual(given, "Bearer " + key) else {
                return APIError(status: 401, type: "authentication_error",
                                message: "missing or wrong API key: send 'Authorization: Bearer KEY'", param: nil, code: "invalid_api_key").response
            }
        }
        switch request.path {
        case "/metrics":
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            let text = metrics.exposition(load: admission.load, forward: resources.forwardCounters())
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")], body: .bytes(Array(text.utf8)))
        case "/v1/models":
            guard request.method == "GET" else { return methodNotAllowed("GET") }
            return .json(200, modelsJSON())
        case "/v1/chat/completions", "/v1/completions":
            guard request.method == "POST" else { return methodNotAllowed("POST") }
            if request.bodyTooLarge {
                return APIError(status: 413, type: "invalid_request_error",
                                message: "the request body is larger than \(options.limits.maxBodyBytes) bytes", param: nil, code: nil).response
            }
            do {
                return try complete(request, endpoint: request.path == "/v1/completions" ? .completion : .chat)
            } catch {
                return error.response
            }
        default:
            return APIError(status: 404, type: "invalid_request_error", message: "no route \(request.method) \(request.path); this server answers /v1/chat/completions, /v1/completions, /v1/models, /health and /metrics", param: nil, code: nil).response
        }
    }

    private func methodNotAllowed(_ allowed: String) -> HTTPResponse {
        var error = APIError(status: 405, type: "invalid_request_error", message: "use \(allowed)", param: nil, code: nil)
        error.headers = [("Allow", allowed)]
        return error.response
    }

    private let draining = Atomic<Bool>(false)
    /// Set when a shutdown's deadline passed: every generation ends at its next step.
    private let cancelling = Atomic<Bool>(false)

    /// Ends every generation at its next step.
    func cancelEverything() { cancelling.store(true, ordering: .relaxed) }
    var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Stops admitting: waiting requests get 503, new ones too.
    func startDraining() {
        draining.store(true, ordering: .relaxed)
        admission.startDraining()
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<min(x.count, y.count) { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    private func modelsJSON() -> String {
        var out = "{\"object\":\"list\",\"data\":["
        for (i, entry) in catalog.entries.enumerated() {
            if i > 0 { out += "," }
            out += "{\"id\":" + JSONString.quoted(entry.name) + ",\"object\":\"model\",\"created\":\(started),\"owned_by\":\"decograph\""
            out += ",\"description\":" + (entry.plan.description.map(JSONString.quoted) ?? "null")
            out += ",\"lossless\":\(entry.plan.isLossless),\"chat\":\(entry.chats),\"response_format\":\(!entry.constrained && entry.targetScoreNode != nil),\"logprobs\":\(entry.logprobs)"
            out += ",\"max_tokens\":\(entry.plan.limits.maxNewTokens),\"parameters\":["
            for (j, p) in entry.plan.parameters.enumerated() {
                if j > 0 { out += "," }
                out += "{\"name\":" + JSONString.quoted(p.name) + ",\"type\":" + JSONString.quoted(p.type.description)
                out += ",\"default\":" + (p.defaultValue.map { JSONString.quoted($0.description) } ?? "null")
                out += ",\"range\":" + (p.range.map { JSONString.quoted($0.description) } ?? "null") + "}"
            }
            out += "]}"
        }
        return out + "]}"
    }

    // MARK: Generation

    /// A generation ready to run: its session, prompt tokens and request. A stream's is handed to
    /// the generation's thread and never touched again by the connection's, so its session is
    /// reached from one thread at a time.
    private struct Prepared: @unchecked Sendable {
        var request: CompletionRequest
        var session: Session
        var plan: Plan
        var key: String
        /// The choice (`n` > 1 runs one generation per choice).
        var index = 0
        var prompt: [Int32]
        var id: String
        var created: Int
    }

    private func complete(_ http: HTTPRequest, endpoint: CompletionRequest.Endpoint) throws(APIError) -> HTTPResponse {
        let limits = CompletionRequest.Limits(maxTokens: options.maxTokens, maxStopStrings: options.maxStopStrings, maxSchemaBytes: options.maxSchemaBytes,
                                              maxChoices: options.parallel)
        let catalog = self.catalog
        let request = try CompletionRequest(body: http.body, endpoint: endpoint, limits: limits) { name throws(APIError) in
            try catalog.entry(named: name).plan.parameters
        }
        let entry = try catalog.entry(named: request.graph)
        if case .chat = request.prompt, !entry.chats {
            throw .invalid("graph '\(entry.name)''s target model has no chat template; send a prompt to /v1/completions instead", param: "messages")
        }
        if request.logprobs != nil, !entry.logprobs {
            throw .invalid("graph '\(entry.name)' ends in a search, whose hypotheses are ranked by the search's own scores: it gives no per-token log-probabilities; leave 'logprobs' unset",
                           param: "logprobs")
        }
        switch admission.acquire(request.choices) {
        case .admitted: break
        case .queueFull:
            var error = APIError(status: 429, type: "rate_limit_error",
                                 message: "the server is busy (\(admission.parallel) generations running, \(admission.queue) waiting); retry shortly",
                                 param: nil, code: "rate_limit_exceeded")
            error.headers = [("Retry-After", "1")]
            throw error
        case .draining:
            throw APIError(status: 503, type: "server_error", message: "the server is shutting down", param: nil, code: "unavailable")
        }
        var prepared: [Prepared] = []
        do {
            prepared.append(try prepare(request, entry: entry))
            // Further choices: the same prompt and plan, a session each, the next seeds.
            for index in 1..<request.choices {
                var choice = prepared[0]
                choice.session = try catalog.session(for: choice.plan, key: choice.key)
                choice.request.seed = request.seed &+ UInt64(index)
                choice.index = index
                prepared.append(choice)
            }
        } catch {
            for p in prepared { catalog.recycle(p.session, key: p.key) }
            for _ in 0..<request.choices { admission.release() }
            throw error
        }
        if request.stream {
            let streams = self.streams
            streams.opened()
            let stream = ResponseStream(onRelease: { streams.released() })
            // The prepared generations move to their own thread; this thread returns at once.
            let thread = Thread { [self, prepared] in
                self.run(prepared, stream: stream)
            }
            thread.stackSize = Self.generationStackBytes
            thread.start()
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")], body: .stream(stream))
        }
        return run(prepared, stream: nil)
    }

    /// Stack of a streaming generation's thread, as the main thread's (the step loop and the
    /// constraint compiler recurse).
    static let generationStackBytes = 8 << 20

    private func prepare(_ request: CompletionRequest, entry: GraphCatalog.Entry) throws(APIError) -> Prepared {
        let (plan, key) = try catalog.plan(for: entry, arguments: request.arguments, schema: request.schema)
        let session = try catalog.session(for: plan, key: key)
        let prompt: [Int32]
        do {
            switch request.prompt {
            case .chat(let conversation): prompt = try session.encodeChat(conversation)
            case .text(let text): prompt = try session.encode(text)
            case .ids(let ids): prompt = ids
            }
        } catch {
            catalog.recycle(session, key: key)
            throw .invalid("\(error)", param: request.endpoint == .chat ? "messages" : "prompt")
        }
        do {
            guard !prompt.isEmpty else { throw APIError.invalid("the prompt encodes to no tokens", param: "prompt") }
            if let bad = prompt.first(where: { Int($0) >= session.vocabularySize }) {
                throw APIError.invalid("prompt token \(bad) is outside the model's vocabulary of \(session.vocabularySize)", param: "prompt")
            }
            guard prompt.count <= options.maxPromptTokens else {
                throw APIError.invalid("the prompt's \(prompt.count) tokens are more than this server's limit of \(options.maxPromptTokens)",
                                       param: request.endpoint == .chat ? "messages" : "prompt", code: "context_length_exceeded")
            }
            _ = try session.admit(promptTokens: prompt.count, maxNewTokens: request.maxTokens)
        } catch let error as APIError {
            catalog.recycle(session, key: key)
            throw error
        } catch {
            catalog.recycle(session, key: key)
            throw .invalid("\(error)", param: "max_tokens", code: "context_length_exceeded")
        }
        let id = (request.endpoint == .chat ? "chatcmpl-" : "cmpl-") + String(serial.add(1, ordering: .relaxed).newValue)
        return Prepared(request: request, session: session, plan: plan, key: key, prompt: prompt, id: id, created: Int(Date().timeIntervalSince1970))
    }

    /// What a generation asks before each step: a stream whose client left, or a shutdown past its
    /// deadline, ends it; with `--speculation-off-above N`, it drafts only while at most N
    /// generations run (beyond, the batch alone keeps the machine busy and drafts cost more rows
    /// than they save).
    private func control(_ stream: ResponseStream?) -> RunControl {
        let admission = self.admission
        let threshold = options.speculationOffAbove
        return RunControl(isCancelled: { (stream?.isCancelled ?? false) || self.cancelling.load(ordering: .relaxed) },
                          allowsDrafting: { threshold.map { admission.load.running <= $0 } ?? true })
    }

    /// One choice's generation: its writer (which kept the text offset) and its outcome.
    private struct Choice: @unchecked Sendable {
        var writer: ChunkWriter
        var outcome: Result<RunResult, any Error>
    }

    /// Runs one choice; with a stream, writes its events up to its finish reason. Its session and
    /// slot are given back as soon as it ends, before the response's last bytes go out.
    private func generate(_ p: Prepared, stream: ResponseStream?) -> Choice {
        let tokenizer = p.session.tokenizer
        var writer = ChunkWriter(id: p.id, created: p.created, model: p.request.graph, endpoint: p.request.endpoint, index: p.index,
                                 tokenBytes: { tokenizer?.tokenBytes($0) ?? [] })
        if let stream, p.request.endpoint == .chat { stream.write(writer.chunk(text: "", role: true, finish: nil)) }
        let outcome = Result {
            try p.session.run(prompt: p.prompt, maxNewTokens: p.request.maxTokens, seed: p.request.seed,
                              stop: p.request.stop, control: control(stream), logProbabilities: p.request.logprobs) { event in
                // A step whose tokens end inside a character has no text yet, but its tokens' log-probabilities go out now.
                guard let stream, !event.text.isEmpty || !(event.logProbabilities ?? []).isEmpty else { return }
                stream.write(writer.chunk(text: event.text, role: false, finish: nil, logprobs: event.logProbabilities))
            }
        }
        if case .success(let result) = outcome {
            metrics.generated(promptTokens: p.index == 0 ? p.prompt.count : 0, completionTokens: result.tokens.count,
                              targetCalls: result.metrics.targetCalls, cancelled: result.finishReason == "cancelled")
            if let stream { stream.write(writer.chunk(text: "", role: false, finish: result.finishReason)) }
        }
        catalog.recycle(p.session, key: p.key)
        admission.release()
        return Choice(writer: writer, outcome: outcome)
    }

    /// Runs a request's prepared choices together (each on a thread of its own beyond the first,
    /// so their model calls share passes); with a stream, writes their events interleaved, each
    /// chunk naming its choice, then the usage and `[DONE]`, and returns nothing useful.
    @discardableResult
    private func run(_ prepared: [Prepared], stream: ResponseStream?) -> HTTPResponse {
        let results = Mutex<[Int: Choice]>([:])
        let others = DispatchGroup()
        for p in prepared.dropFirst() {
            others.enter()
            let thread = Thread { [self] in
                let choice = self.generate(p, stream: stream)
                results.withLock { $0[p.index] = choice }
                others.leave()
            }
            thread.stackSize = Self.generationStackBytes
            thread.start()
        }
        let first = generate(prepared[0], stream: stream)
        others.wait()
        let choices = [first] + (1..<prepared.count).map { i in results.withLock { $0[i]! } }
        let request = prepared[0].request
        let last: [UInt8]
        let response: HTTPResponse
        var finished: [(writer: ChunkWriter, result: RunResult)] = []
        var failure: (any Error)?
        for choice in choices {
            switch choice.outcome {
            case .success(let result): finished.append((choice.writer, result))
            case .failure(let error): failure = failure ?? error
            }
        }
        if let failure {
            let error = APIError(status: 500, type: "server_error", message: "the generation failed: \(failure)", param: nil, code: nil)
            response = error.response
            last = Array(("data: " + error.json + "\n\n").utf8)
        } else {
            let usage = ChunkWriter.Usage(prompt: prepared[0].prompt.count, results: finished.map(\.result))
            var writer = finished[0].writer
            response = .json(200, writer.whole(finished.map { ($0.writer.index, $0.result) }, usage: usage))
            last = request.includeUsage ? writer.usageChunk(usage) : []
        }
        guard let stream else { return response }
        stream.write(last + Array("data: [DONE]\n\n".utf8))
        stream.finish()
        return response
    }
}

/// The JSON of completions and their stream chunks in OpenAI's shapes.
struct ChunkWriter {
    let id: String
    let created: Int
    let model: String
    let endpoint: CompletionRequest.Endpoint
    /// The choice its chunks belong to.
    let index: Int
    /// A token's bytes (its text in log-probability entries).
    let tokenBytes: (Int32) -> [UInt8]
    /// Characters of the completion's tokens written so far: where the next token's text starts
    /// (`/v1/completions`' `text_offset`).
    private var textOffset = 0

    init(id: String, created: Int, model: String, endpoint: CompletionRequest.Endpoint, index: Int = 0, tokenBytes: @escaping (Int32) -> [UInt8]) {
        self.id = id
        self.created = created
        self.model = model
        self.endpoint = endpoint
        self.index = index
        self.tokenBytes = tokenBytes
    }

    /// Token counts and the runs' figures (one run per choice; the prompt counts once).
    struct Usage {
        var prompt: Int
        var results: [RunResult]
        var completion: Int { results.reduce(0) { $0 + $1.tokens.count } }
    }

    /// OpenAI's finish reason for the engine's: the budget (and a constraint closed at it) is
    /// `length`; end of sequence, a stop string or a finished search is `stop`.
    static func finishReason(_ engine: String) -> String {
        switch engine {
        case "max_tokens", "closed": "length"
        default: "stop"
        }
    }

    private var head: String {
        "{\"id\":" + JSONString.quoted(id) + ",\"object\":\"" + (endpoint == .chat ? "chat.completion" : "text_completion") + "\",\"created\":\(created),\"model\":" + JSONString.quoted(model)
    }

    private var chunkHead: String {
        "{\"id\":" + JSONString.quoted(id) + ",\"object\":\"" + (endpoint == .chat ? "chat.completion.chunk" : "text_completion") + "\",\"created\":\(created),\"model\":" + JSONString.quoted(model)
    }

    /// One server-sent event carrying a text delta (with its tokens' log-probabilities when asked
    /// for), or the finish reason.
    mutating func chunk(text: String, role: Bool, finish: String?, logprobs: [TokenLogProbability]? = nil) -> [UInt8] {
        var out = "data: " + chunkHead + ",\"choices\":[{\"index\":\(index),"
        if endpoint == .chat {
            out += "\"delta\":{"
            if role { out += "\"role\":\"assistant\"," }
            out += finish == nil ? "\"content\":" + JSONString.quoted(text) + "}" : "}"
        } else {
            out += "\"text\":" + JSONString.quoted(text)
        }
        out += ",\"logprobs\":" + logprobsJSON(logprobs) + ",\"finish_reason\":" + (finish.map { JSONString.quoted(Self.finishReason($0)) } ?? "null") + "}]}\n\n"
        return Array(out.utf8)
    }

    /// The last chunk with `stream_options.include_usage`: no choices, the usage.
    func usageChunk(_ usage: Usage) -> [UInt8] {
        Array(("data: " + chunkHead + ",\"choices\":[],\"usage\":" + usageJSON(usage) + "}\n\n").utf8)
    }

    /// A whole (non-streamed) completion of one or more choices (each with its writer's index).
    mutating func whole(_ choices: [(index: Int, result: RunResult)], usage: Usage) -> String {
        var out = head + ",\"choices\":["
        for (i, choice) in choices.enumerated() {
            if i > 0 { out += "," }
            out += "{\"index\":\(choice.index),"
            if endpoint == .chat {
                out += "\"message\":{\"role\":\"assistant\",\"content\":" + JSONString.quoted(choice.result.text) + "}"
            } else {
                out += "\"text\":" + JSONString.quoted(choice.result.text)
            }
            // Each choice's text offsets start at 0.
            textOffset = 0
            out += ",\"logprobs\":" + logprobsJSON(choice.result.logProbabilities) + ",\"finish_reason\":" + JSONString.quoted(Self.finishReason(choice.result.finishReason)) + "}"
        }
        return out + "],\"usage\":" + usageJSON(usage) + "}"
    }

    /// A choice's `logprobs` for these tokens, in the endpoint's shape: chat's `{"content": [{token,
    /// logprob, bytes, top_logprobs}]}`, or the completions endpoint's parallel lists `tokens`,
    /// `token_logprobs`, `top_logprobs` (token → log-probability) and `text_offset`; `null`
    /// without.
    private mutating func logprobsJSON(_ entries: [TokenLogProbability]?) -> String {
        guard let entries, !entries.isEmpty else { return "null" }
        func text(_ token: Int32) -> (text: String, bytes: [UInt8]) {
            let bytes = tokenBytes(token)
            return (String(decoding: bytes, as: UTF8.self), bytes)
        }
        func item(_ token: Int32, _ logprob: Float) -> String {
            let (t, bytes) = text(token)
            return "\"token\":" + JSONString.quoted(t) + ",\"logprob\":" + Self.number(logprob) + ",\"bytes\":[" + bytes.map(String.init).joined(separator: ",") + "]"
        }
        switch endpoint {
        case .chat:
            let content = entries.map { entry in
                "{" + item(entry.token, entry.logProbability) + ",\"top_logprobs\":["
                    + entry.alternatives.map { "{" + item($0.token, $0.logProbability) + "}" }.joined(separator: ",") + "]}"
            }
            return "{\"content\":[" + content.joined(separator: ",") + "]}"
        case .completion:
            var tokens: [String] = [], offsets: [String] = [], tops: [String] = []
            for entry in entries {
                let t = text(entry.token).text
                tokens.append(JSONString.quoted(t))
                offsets.append(String(textOffset))
                textOffset += t.unicodeScalars.count
                // A JSON object's keys must differ: of alternatives with the same text, the likelier stays.
                var seen: Set<String> = []
                let members = entry.alternatives.compactMap { alternative -> String? in
                    let key = text(alternative.token).text
                    return seen.insert(key).inserted ? JSONString.quoted(key) + ":" + Self.number(alternative.logProbability) : nil
                }
                tops.append("{" + members.joined(separator: ",") + "}")
            }
            return "{\"tokens\":[" + tokens.joined(separator: ",") + "],\"token_logprobs\":[" + entries.map { Self.number($0.logProbability) }.joined(separator: ",")
                + "],\"top_logprobs\":[" + tops.joined(separator: ",") + "],\"text_offset\":[" + offsets.joined(separator: ",") + "]}"
        }
    }

    /// A log-probability as a JSON number: a token the row rules out (−∞) is −9999, as OpenAI's
    /// and vLLM's servers write it (JSON has no infinity).
    static func number(_ logprob: Float) -> String {
        logprob.isFinite ? "\(logprob)" : "-9999.0"
    }

    /// OpenAI's usage object, with the run's decoding figures under `decograph`.
    /// With several choices the figures are summed (steps, target calls) and the seconds are the
    /// longest choice's; `finish` is the first choice's.
    private func usageJSON(_ usage: Usage) -> String {
        let steps = usage.results.reduce(0) { $0 + $1.metrics.steps }, calls = usage.results.reduce(0) { $0 + $1.metrics.targetCalls }
        var out = "{\"prompt_tokens\":\(usage.prompt),\"completion_tokens\":\(usage.completion),\"total_tokens\":\(usage.prompt + usage.completion)"
        out += ",\"decograph\":{\"finish\":" + JSONString.quoted(usage.results[0].finishReason) + ",\"steps\":\(steps),\"target_calls\":\(calls)"
        out += ",\"mean_accepted\":" + String(format: "%.3f", calls == 0 ? 0 : Double(usage.completion) / Double(calls))
        out += ",\"seconds\":" + String(format: "%.4f", usage.results.map(\.metrics.seconds).max() ?? 0) + "}}"
        return out
    }
}
