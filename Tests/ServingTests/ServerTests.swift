import Foundation
import NGramStore
import Serving
import Synchronization
import Testing

/// `decograph serve` end to end over loopback, on the demo models: OpenAI's shapes, streams equal
/// to the same request run alone, the graph's parameters, response formats composed into
/// speculative graphs, errors, overload, clients that go away, and shutdown.
@Suite(.serialized)
struct ServerTests {
    static let prompts: [String] = {
        let text = (try? String(contentsOfFile: ServerFixture.repository + "/examples/prompts.txt", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").prefix(8).map(String.init)
    }()

    static func completion(_ graph: String, _ prompt: String, maxTokens: Int, stream: Bool = false, extra: String = "") -> String {
        "{\"model\":\"\(graph)\",\"prompt\":\(ServerFixture.quoted(prompt)),\"max_tokens\":\(maxTokens),\"stream\":\(stream)\(extra)}"
    }

    @Test func completionHasOpenAIsShapeAndCounts() throws {
        let fixture = try ServerFixture()
        defer { fixture.server.shutdown() }
        let (status, json, _) = fixture.post("/v1/completions", Self.completion("speculative", Self.prompts[0], maxTokens: 24))
        #expect(status == 200)
        #expect(json["object"] as? String == "text_completion")
        #expect(json["model"] as? String == "speculative")
        let choice = try #require((json["choices"] as? [[String: Any]])?.first)
        #expect(choice["finish_reason"] as? String == "length")
        let usage = try #require(json["usage"] as? [String: Any])
        #expect(usage["completion_tokens"] as? Int == 24)
        #expect(usage["total_tokens"] as? Int == (usage["prompt_tokens"] as? Int ?? -1) + 24)
        #expect(!(ServerFixture.text(of: json) ?? "").isEmpty)
        let models = fixture.get("/v1/models")
        let list = try #require((try JSONSerialization.jsonObject(with: Data(models.body)) as? [String: Any])?["data"] as? [[String: Any]])
        #expect(Set(list.compactMap { $0["id"] as? String }) == ["greedy", "speculative", "sampling", "lookup", "ngram"])
        #expect(fixture.get("/health").text == "{\"status\":\"ok\"}")
    }

    /// The reliability oracle: every stream of many concurrent clients equals the same request run
    /// alone, under greedy, for plain and speculative graphs (their model calls share passes).
    @Test func concurrentStreamsEqualTheSameRequestsRunAlone() throws {
        let fixture = try ServerFixture { $0.parallel = 8 }
        defer { fixture.server.shutdown() }
        var requests: [String] = []
        for graph in ["greedy", "speculative", "lookup"] {
            for prompt in Self.prompts.prefix(4) { requests.append(Self.completion(graph, prompt, maxTokens: 40)) }
        }
        let answers = requests.map { fixture.post("/v1/completions", $0).json }
        let alone = answers.map(ServerFixture.text(of:))
        let tokens = answers.map { ($0["usage"] as? [String: Any])?["completion_tokens"] as? Int ?? 0 }.reduce(0, +)
        #expect(alone.allSatisfy { $0 != nil && !$0!.isEmpty })
        let streamed = Mutex<[Int: String]>([:])
        let bodies = requests.map { $0.replacingOccurrences(of: "\"stream\":false", with: "\"stream\":true") }
        // A thread per client, all in flight at once (Dispatch would run about one per core).
        let finished = DispatchSemaphore(value: 0)
        for i in bodies.indices {
            Thread {
                let (status, events, done) = fixture.stream("/v1/completions", bodies[i])
                if status == 200 && done {
                    let text = ServerFixture.text(of: events)
                    streamed.withLock { $0[i] = text }
                }
                finished.signal()
            }.start()
        }
        for _ in bodies.indices { finished.wait() }
        let texts = streamed.withLock { $0 }
        for i in requests.indices { #expect(texts[i] == alone[i], "request \(i)") }
        let metrics = fixture.get("/metrics").text
        #expect(metrics.contains("decograph_running 0"))
        #expect(metrics.contains("decograph_completion_tokens_total \(2 * tokens)"))
    }

    @Test func chatStreamStartsWithTheRoleAndEndsWithUsage() throws {
        let fixture = try ServerFixture()
        defer { fixture.server.shutdown() }
        // The demo models have no chat template: chat is refused by name.
        let refused = fixture.post("/v1/chat/completions", "{\"model\":\"greedy\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
        #expect(refused.status == 400)
        #expect(ServerFixture.error(refused.json).message.contains("chat template"))
        let (status, events, done) = fixture.stream("/v1/completions", Self.completion("greedy", Self.prompts[1], maxTokens: 12, stream: true,
                                                                                       extra: ",\"stream_options\":{\"include_usage\":true}"))
        #expect(status == 200 && done)
        let last = try #require(events.last)
        #expect((last["choices"] as? [Any])?.isEmpty == true)
        #expect((last["usage"] as? [String: Any])?["completion_tokens"] as? Int == 12)
        let finish = events.dropLast().last.flatMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
        #expect(finish == "length")
    }

    /// Request fields set the graph's declared parameters, checked against their ranges.
    @Test func requestFieldsSetTheGraphsParameters() throws {
        let fixture = try ServerFixture()
        defer { fixture.server.shutdown() }
        let greedy = fixture.post("/v1/completions", Self.completion("greedy", Self.prompts[2], maxTokens: 20))
        let cold = fixture.post("/v1/completions", Self.completion("sampling", Self.prompts[2], maxTokens: 20, extra: ",\"temperature\":0"))
        #expect(cold.status == 200)
        #expect(ServerFixture.text(of: cold.json) == ServerFixture.text(of: greedy.json))
        let hot = fixture.post("/v1/completions", Self.completion("sampling", Self.prompts[2], maxTokens: 20, extra: ",\"temperature\":1.5,\"seed\":7"))
        let again = fixture.post("/v1/completions", Self.completion("sampling", Self.prompts[2], maxTokens: 20, extra: ",\"temperature\":1.5,\"seed\":7"))
        #expect(ServerFixture.text(of: hot.json) == ServerFixture.text(of: again.json))
        #expect(ServerFixture.text(of: hot.json) != ServerFixture.text(of: greedy.json))
        let outOfRange = fixture.post("/v1/completions", Self.completion("sampling", Self.prompts[2], maxTokens: 20, extra: ",\"temperature\":3"))
        #expect(outOfRange.status == 400)
        #expect(ServerFixture.error(outOfRange.json).param == "temperature")
        #expect(ServerFixture.error(outOfRange.json).message.contains("[0, 2]"))
        let undeclared = fixture.post("/v1/completions", Self.completion("greedy", Self.prompts[2], maxTokens: 20, extra: ",\"top_p\":0.5"))
        #expect(undeclared.status == 400)
        #expect(ServerFixture.error(undeclared.json).code == "unsupported_parameter")
        // A neutral value of a control the graph does not have is accepted.
        #expect(fixture.post("/v1/completions", Self.completion("greedy", Self.prompts[2], maxTokens: 4, extra: ",\"presence_penalty\":0")).status == 200)
    }

    /// A response format composes a JSON-Schema constraint into a speculative graph: the output is
    /// JSON with the schema's required keys, and the drafts still verify.
    @Test func responseFormatConstrainsASpeculativeGraph() throws {
        let fixture = try ServerFixture()
        defer { fixture.server.shutdown() }
        let schema = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":12},\"version\":{\"type\":\"integer\"}},\"required\":[\"name\",\"version\"],\"additionalProperties\":false}"
        for graph in ["speculative", "lookup"] {
            let body = Self.completion(graph, "Release:", maxTokens: 96, extra: ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"release\",\"schema\":\(schema)}}")
            let (status, json, _) = fixture.post("/v1/completions", body)
            #expect(status == 200)
            let text = try #require(ServerFixture.text(of: json))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(graph): \(text)")
            #expect(Set(object.keys) == ["name", "version"])
        }
        let constrained = fixture.post("/v1/completions", Self.completion("speculative", "x", maxTokens: 8, extra: ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"type\":\"strin\"}}}"))
        #expect(constrained.status == 400)
        #expect(ServerFixture.error(constrained.json).param == "response_format")
        #expect(ServerFixture.error(constrained.json).message.contains("strin"))
    }

    /// `logprobs`: per token the target's log-probability and its most likely alternatives, the
    /// same whole and streamed, for plain and speculative graphs; a search graph refuses them.
    @Test(arguments: ["greedy", "speculative", "lookup"])
    func completionsCarryLogProbabilities(graph: String) throws {
        let fixture = try ServerFixture(graphs: ["greedy.yaml", "speculative.yaml", "lookup.yaml", "beam.yaml"])
        defer { fixture.server.shutdown() }
        let body = Self.completion(graph, Self.prompts[3], maxTokens: 20, extra: ",\"logprobs\":3")
        let (status, json, _) = fixture.post("/v1/completions", body)
        #expect(status == 200)
        let choice = try #require((json["choices"] as? [[String: Any]])?.first)
        let logprobs = try #require(choice["logprobs"] as? [String: Any])
        let tokens = try #require(logprobs["tokens"] as? [String])
        let values = try #require(logprobs["token_logprobs"] as? [Double])
        let tops = try #require(logprobs["top_logprobs"] as? [[String: Double]])
        let offsets = try #require(logprobs["text_offset"] as? [Int])
        #expect(tokens.count == 20 && values.count == 20 && tops.count == 20 && offsets.count == 20)
        #expect(tokens.joined() == ServerFixture.text(of: json))
        #expect(offsets == tokens.indices.map { i in tokens[..<i].reduce(0) { $0 + $1.unicodeScalars.count } })
        for (value, top) in zip(values, tops) {
            #expect(value <= 0)
            #expect((1...3).contains(top.count))
            // Greedy chose the most likely token.
            #expect(abs(value - top.values.max()!) < 1e-6)
        }
        let (streamStatus, events, done) = fixture.stream("/v1/completions", body.replacingOccurrences(of: "\"stream\":false", with: "\"stream\":true"))
        #expect(streamStatus == 200 && done)
        let streamed = events.compactMap { (($0["choices"] as? [[String: Any]])?.first?["logprobs"] as? [String: Any]) }
        #expect(streamed.flatMap { $0["token_logprobs"] as? [Double] ?? [] } == values)
        #expect(streamed.flatMap { $0["text_offset"] as? [Int] ?? [] } == offsets)
        let search = fixture.post("/v1/completions", Self.completion("beam", Self.prompts[3], maxTokens: 8, extra: ",\"logprobs\":1"))
        #expect(search.status == 400)
        #expect(ServerFixture.error(search.json).param == "logprobs")
        let models = fixture.get("/v1/models")
        let list = try #require((try JSONSerialization.jsonObject(with: Data(models.body)) as? [String: Any])?["data"] as? [[String: Any]])
        #expect(list.first { $0["id"] as? String == "beam" }?["logprobs"] as? Bool == false)
        #expect(list.first { $0["id"] as? String == graph }?["logprobs"] as? Bool == true)
    }

    /// `n`: one generation per choice, run together; choice i is the request with seed + i, whole
    /// and streamed (each chunk names its choice); the usage counts the prompt once.
    @Test func severalChoicesAreSeparateGenerations() throws {
        let fixture = try ServerFixture(graphs: ["sampling.yaml", "greedy.yaml"])
        defer { fixture.server.shutdown() }
        let body = Self.completion("sampling", Self.prompts[4], maxTokens: 16, extra: ",\"temperature\":1.2,\"seed\":7,\"n\":3")
        let (status, json, _) = fixture.post("/v1/completions", body)
        #expect(status == 200)
        let choices = try #require(json["choices"] as? [[String: Any]])
        #expect(choices.map { $0["index"] as? Int } == [0, 1, 2])
        let texts = choices.map { $0["text"] as? String ?? "" }
        for (i, text) in texts.enumerated() {
            let alone = fixture.post("/v1/completions", Self.completion("sampling", Self.prompts[4], maxTokens: 16, extra: ",\"temperature\":1.2,\"seed\":\(7 + i)"))
            #expect(ServerFixture.text(of: alone.json) == text, "choice \(i)")
        }
        #expect(Set(texts).count > 1, "three samples at temperature 1.2 were all equal")
        let usage = try #require(json["usage"] as? [String: Any])
        #expect(usage["completion_tokens"] as? Int == 48)
        let promptTokens = try #require(usage["prompt_tokens"] as? Int)
        #expect(usage["total_tokens"] as? Int == promptTokens + 48)
        let (streamStatus, events, done) = fixture.stream("/v1/completions", body.replacingOccurrences(of: "\"stream\":false", with: "\"stream\":true"))
        #expect(streamStatus == 200 && done)
        for i in 0..<3 {
            let mine = events.filter { (($0["choices"] as? [[String: Any]])?.first?["index"] as? Int) == i }
            #expect(ServerFixture.text(of: mine) == texts[i], "streamed choice \(i)")
            #expect(mine.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }.count == 1)
        }
        // More choices than the server runs at once can never be admitted.
        let tooMany = fixture.post("/v1/completions", Self.completion("greedy", "x", maxTokens: 2, extra: ",\"n\":17"))
        #expect(tooMany.status == 400)
        #expect(ServerFixture.error(tooMany.json).param == "n")
    }

    @Test func badRequestsGetOpenAIErrorObjects() throws {
        let fixture = try ServerFixture { $0.limits.maxBodyBytes = 4096 }
        defer { fixture.server.shutdown() }
        let cases: [(body: String, status: Int, param: String?)] = [
            ("{not json", 400, nil),
            ("[1, 2]", 400, nil),
            ("{\"prompt\":\"x\"}", 400, "model"),
            ("{\"model\":\"nothing\",\"prompt\":\"x\"}", 404, "model"),
            ("{\"model\":\"greedy\"}", 400, "prompt"),
            ("{\"model\":\"greedy\",\"prompt\":\"x\",\"max_tokens\":0}", 400, "max_tokens"),
            ("{\"model\":\"greedy\",\"prompt\":\"x\",\"n\":0}", 400, "n"),
            ("{\"model\":\"greedy\",\"prompt\":\"x\",\"n\":99}", 400, "n"),
            ("{\"model\":\"greedy\",\"prompt\":\"x\",\"logprobs\":true}", 400, "logprobs"),
            ("{\"model\":\"greedy\",\"prompt\":\"x\",\"logprobs\":21}", 400, "logprobs"),
            ("{\"model\":\"greedy\",\"prompt\":\"x\",\"top_logprobs\":2}", 400, "top_logprobs"),
            ("{\"model\":\"greedy\",\"prompt\":\"x\",\"stop\":[\"\"]}", 400, "stop"),
            ("{\"model\":\"greedy\",\"prompt\":\"x\",\"seed\":-1}", 400, "seed"),
            ("{\"model\":\"greedy\",\"prompt\":[99999999]}", 400, "prompt"),
            ("{\"model\":\"greedy\",\"prompt\":\"x\",\"response_format\":{\"type\":\"xml\"}}", 400, "response_format"),
            ("{\"model\":\"greedy\",\"prompt\":\"" + String(repeating: "a", count: 5000) + "\"}", 413, nil),
        ]
        for c in cases {
            let (status, json, _) = fixture.post("/v1/completions", c.body)
            #expect(status == c.status, "\(c.body.prefix(60))")
            #expect(ServerFixture.error(json).param == c.param, "\(c.body.prefix(60))")
            #expect(!ServerFixture.error(json).message.isEmpty)
        }
        #expect(fixture.get("/v1/completions").status == 405)
        #expect(fixture.get("/nowhere").status == 404)
    }

    @Test func anAPIKeyIsRequiredWhenSetAndOffLoopback() throws {
        let fixture = try ServerFixture(graphs: ["greedy.yaml"]) { $0.apiKey = "s3cret" }
        defer { fixture.server.shutdown() }
        #expect(fixture.get("/v1/models", headers: []).status == 401)
        #expect(fixture.get("/v1/models", headers: ["Authorization: Bearer wrong"]).status == 401)
        #expect(fixture.get("/v1/models").status == 200)
        #expect(fixture.get("/health", headers: []).status == 200)
        #expect(throws: ServerError.self) {
            _ = try ServerFixture(graphs: ["greedy.yaml"]) { $0.host = "0.0.0.0" }
        }
    }

    /// Beyond the running and waiting limits a request gets 429 with Retry-After at once.
    @Test func overloadIsRefusedWithRetryAfter() throws {
        let fixture = try ServerFixture(graphs: [], extra: ["endless.yaml": ServerFixture.endless]) { options in
            options.parallel = 1
            options.queue = 0
            options.drainSeconds = 0
        }
        defer { fixture.server.shutdown() }
        let holder = Thread {
            _ = fixture.stream("/v1/completions", Self.completion("endless", Self.prompts[0], maxTokens: 4000, stream: true))
        }
        holder.start()
        // Wait until the long generation holds the only slot.
        for _ in 0..<500 where !fixture.get("/metrics").text.contains("decograph_running 1") { Thread.sleep(forTimeInterval: 0.01) }
        let clock = ContinuousClock.now
        let refused = fixture.post("/v1/completions", Self.completion("endless", Self.prompts[1], maxTokens: 4))
        #expect(refused.status == 429)
        #expect(refused.response.retryAfter == "1")
        #expect(ContinuousClock.now - clock < .seconds(5))
    }

    /// A client that hangs up mid-stream ends its generation at the next step and frees its slot.
    @Test func aClientThatHangsUpFreesItsGeneration() throws {
        let fixture = try ServerFixture(graphs: [], extra: ["endless.yaml": ServerFixture.endless]) { $0.parallel = 1 }
        defer { fixture.server.shutdown() }
        let (_, events, done) = fixture.stream("/v1/completions", Self.completion("endless", Self.prompts[0], maxTokens: 4000, stream: true),
                                               hangUpAfter: 3)
        #expect(events.count >= 3 && !done)
        var metrics = ""
        for _ in 0..<500 {
            metrics = fixture.get("/metrics").text
            if metrics.contains("decograph_cancelled_total 1") && metrics.contains("decograph_running 0") { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(metrics.contains("decograph_cancelled_total 1"))
        #expect(metrics.contains("decograph_running 0"))
        // The slot is free: the next request runs.
        #expect(fixture.post("/v1/completions", Self.completion("endless", Self.prompts[1], maxTokens: 4)).status == 200)
    }

    /// Shutdown lets generations in flight finish, then closes the stores: everything the runs
    /// learned is in the store file.
    @Test func shutdownFinishesGenerationsAndKeepsWhatStoresLearned() throws {
        let fixture = try ServerFixture(graphs: ["ngram.yaml"]) { $0.drainSeconds = 60 }
        var expected = 0
        for prompt in Self.prompts.prefix(3) {
            let (status, json, _) = fixture.post("/v1/completions", Self.completion("ngram", prompt, maxTokens: 30))
            #expect(status == 200)
            let usage = json["usage"] as? [String: Any] ?? [:]
            expected += min(usage["prompt_tokens"] as? Int ?? 0, 4) + (usage["completion_tokens"] as? Int ?? 0)
        }
        // One more in flight when the shutdown starts: it finishes, and new requests are refused.
        // Whether it ended with [DONE], and the tokens it learned (the prompt's last 4 and its output).
        let inFlight = Mutex<(done: Bool, learned: Int)?>(nil)
        let thread = Thread {
            let (_, events, done) = fixture.stream("/v1/completions", Self.completion("ngram", Self.prompts[3], maxTokens: 60, stream: true,
                                                                                      extra: ",\"stream_options\":{\"include_usage\":true}"))
            let usage = events.last?["usage"] as? [String: Any] ?? [:]
            let learned = min(usage["prompt_tokens"] as? Int ?? 0, 4) + (usage["completion_tokens"] as? Int ?? -1000)
            inFlight.withLock { $0 = (done, learned) }
        }
        thread.start()
        for _ in 0..<500 where !fixture.get("/metrics").text.contains("decograph_running 1") { Thread.sleep(forTimeInterval: 0.01) }
        #expect(fixture.server.shutdown())
        #expect(fixture.server.shutdown())  // a second call is harmless
        for _ in 0..<500 where inFlight.withLock({ $0 == nil }) { Thread.sleep(forTimeInterval: 0.01) }
        let finished = try #require(inFlight.withLock { $0 })
        #expect(finished.done)
        let inFlightTokens = finished.learned
        #expect(fixture.post("/v1/completions", Self.completion("ngram", "x", maxTokens: 4)).status == 0)
        let store = try NGramStore.open(at: fixture.directory + "/stores/learned.lmdb", tokenizerFingerprint: nil,
                                        options: NGramStore.Options(readOnly: true))
        let learned = try store.statistics().tokensLearned
        // The in-flight run learned its prompt's last 4 tokens and its output too.
        #expect(learned == UInt64(expected + inFlightTokens))
    }
}
