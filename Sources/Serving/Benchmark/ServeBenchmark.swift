import Foundation
import Support
import Synchronization

/// `decograph bench serve`: a load generator over HTTP. For each graph and each client count N,
/// N clients each send streaming requests one after another for a fixed time; the report gives
/// throughput, time to first token and inter-token latency percentiles, and — with `check` — how
/// many streams differ from the same request run alone (the server's reliability oracle under
/// greedy decoding: continuous batching must not change a stream's text).
public enum ServeBenchmark {
    /// One request the clients cycle through.
    public struct Request: Sendable {
        /// `/v1/completions` or `/v1/chat/completions`.
        public var path: String
        /// The JSON members after `model` (`"prompt": "…"` or `"messages": […]`), without braces.
        public var members: String

        /// Creates a request.
        public init(path: String, members: String) {
            self.path = path
            self.members = members
        }
    }

    /// What to run.
    public struct Options: Sendable {
        /// The server's base address (`http://127.0.0.1:8080`).
        public var baseURL: String
        /// Graphs to load, one after another.
        public var graphs: [String]
        /// Client counts, one row each.
        public var clients: [Int] = [1, 4, 16, 64]
        /// Seconds of load per row (requests started before the end run to completion).
        public var seconds: Double = 30
        /// `max_tokens` of every request.
        public var maxTokens: Int = 64
        /// The requests, cycled through.
        public var requests: [Request]
        /// Compare every stream with the same request run alone first.
        public var check = false
        /// Headers every request sends (`Authorization`).
        public var headers: [String] = []
        /// Times a request that failed before its first event is sent again (a replica that went
        /// away behind a load balancer), after `retryPause`.
        public var retries = 0
        /// The pause before a retry, seconds.
        public var retryPause = 0.2

        /// Options with the default client counts and duration.
        public init(baseURL: String, graphs: [String], requests: [Request]) {
            self.baseURL = baseURL
            self.graphs = graphs
            self.requests = requests
        }
    }

    /// One row: a graph under N clients.
    public struct Row: Sendable, Codable {
        public var graph: String
        public var clients: Int
        public var requests: Int
        /// Requests that failed (HTTP error, connection error, no `[DONE]`).
        public var failures: Int
        /// Streams whose text differs from the request run alone (`check` only).
        public var mismatches: Int
        /// Failed requests that had streamed part of their answer (in flight when a server went away).
        public var interrupted: Int
        /// Requests sent again after failing before their first event.
        public var retried: Int
        public var completionTokens: Int
        /// Tokens per target call over the row's requests (MAT: what drafting gained per call).
        public var meanAccepted: Double
        public var seconds: Double
        public var tokensPerSecond: Double
        public var requestsPerSecond: Double
        public var timeToFirstTokenP50: Double
        public var timeToFirstTokenP99: Double
        /// Gaps between consecutive content events of a stream (an event may carry several
        /// tokens under speculation), seconds.
        public var interTokenP50: Double
        public var interTokenP99: Double
        /// Per request: (last event − first event) / (tokens − 1), seconds.
        public var timePerOutputTokenP50: Double
    }

    /// The report.
    public struct Report: Sendable, Codable {
        public var rows: [Row]
    }

    /// What one streamed request saw.
    private struct Outcome {
        var ok: Bool
        /// Whether any event arrived.
        var started: Bool
        var text: String
        var tokens: Int
        /// The target's calls (the usage's `decograph.target_calls`).
        var targetCalls: Int
        var firstToken: Double?
        var gaps: [Double]
        var perToken: Double?
    }

    /// Runs every row.
    /// - Parameters:
    ///   - options: what to run.
    ///   - progress: a line per row as it starts.
    /// - Returns: the rows in order.
    public static func run(_ options: Options, progress: (String) -> Void = { _ in }) -> Report {
        var rows: [Row] = []
        for graph in options.graphs {
            var reference: [String?] = []
            if options.check {
                progress("\(graph): running each of \(options.requests.count) requests alone")
                reference = options.requests.map { request in
                    let outcome = stream(options, graph: graph, request: request)
                    return outcome.ok ? outcome.text : nil
                }
            }
            for clients in options.clients {
                progress("\(graph): \(clients) clients for \(Int(options.seconds)) s")
                rows.append(row(options, graph: graph, clients: clients, reference: reference))
            }
        }
        return Report(rows: rows)
    }

    private static func body(_ options: Options, graph: String, request: Request) -> [UInt8] {
        Array(("{\"model\":" + JSONString.quoted(graph) + "," + request.members + ",\"max_tokens\":\(options.maxTokens)"
            + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}").utf8)
    }

    /// One streamed request, timed.
    private static func stream(_ options: Options, graph: String, request: Request) -> Outcome {
        let start = ContinuousClock.now
        var buffer = ""
        var text = ""
        var tokens = 0
        var targetCalls = 0
        var done = false
        var eventTimes: [Double] = []
        let response = HTTPClient.send(options.baseURL + request.path, method: "POST", body: body(options, graph: graph, request: request),
                                       headers: options.headers, timeoutSeconds: 3600) { bytes in
            let now = (ContinuousClock.now - start).seconds
            buffer += String(decoding: bytes, as: UTF8.self)
            while let end = buffer.range(of: "\n\n") {
                let event = buffer[..<end.lowerBound]
                buffer = String(buffer[end.upperBound...])
                guard event.hasPrefix("data: ") else { continue }
                let payload = event.dropFirst(6)
                if payload == "[DONE]" { done = true; continue }
                guard let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] else { continue }
                if let usage = object["usage"] as? [String: Any] {
                    tokens = usage["completion_tokens"] as? Int ?? 0
                    targetCalls = (usage["decograph"] as? [String: Any])?["target_calls"] as? Int ?? 0
                }
                guard let choice = (object["choices"] as? [[String: Any]])?.first else { continue }
                let piece = (choice["delta"] as? [String: Any])?["content"] as? String ?? choice["text"] as? String ?? ""
                if !piece.isEmpty {
                    text += piece
                    eventTimes.append(now)
                }
            }
            return true
        }
        let ok = response.status == 200 && response.failure == nil && done
        let gaps = zip(eventTimes.dropFirst(), eventTimes).map { $0 - $1 }
        let perToken = tokens > 1 && eventTimes.count > 1 ? (eventTimes.last! - eventTimes.first!) / Double(tokens - 1) : nil
        return Outcome(ok: ok, started: !eventTimes.isEmpty || done, text: text, tokens: tokens, targetCalls: targetCalls, firstToken: eventTimes.first, gaps: gaps, perToken: perToken)
    }

    private static func row(_ options: Options, graph: String, clients: Int, reference: [String?]) -> Row {
        let next = Atomic<Int>(0)
        let outcomes = Mutex<[(index: Int, outcome: Outcome, retried: Int)]>([])
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int(options.seconds * 1000))
        // A thread per client: Dispatch's pool runs about one task per core, which would put
        // 2 clients, not N, in flight on this machine.
        let finished = DispatchSemaphore(value: 0)
        for _ in 0..<clients {
            let thread = Thread {
                while ContinuousClock.now < deadline {
                    let index = next.add(1, ordering: .relaxed).oldValue % options.requests.count
                    var outcome = stream(options, graph: graph, request: options.requests[index])
                    var attempts = 0
                    while !outcome.ok && !outcome.started && attempts < options.retries {
                        attempts += 1
                        Thread.sleep(forTimeInterval: options.retryPause)
                        outcome = stream(options, graph: graph, request: options.requests[index])
                    }
                    let retriedTimes = attempts
                    let final = outcome
                    outcomes.withLock { $0.append((index, final, retriedTimes)) }
                }
                finished.signal()
            }
            thread.start()
        }
        for _ in 0..<clients { finished.wait() }
        let seconds = (ContinuousClock.now - start).seconds
        let all = outcomes.withLock { $0 }
        let good = all.filter(\.outcome.ok)
        let tokens = good.reduce(0) { $0 + $1.outcome.tokens }
        let mismatches = reference.isEmpty ? 0 : good.filter { reference[$0.index] != $0.outcome.text }.count
        let ttft = good.compactMap(\.outcome.firstToken).sorted()
        let gaps = good.flatMap(\.outcome.gaps).sorted()
        let perToken = good.compactMap(\.outcome.perToken).sorted()
        func p(_ q: Double, _ values: [Double]) -> Double { values.isEmpty ? .nan : Percentile.of(q, sorted: values) }
        return Row(graph: graph, clients: clients, requests: all.count, failures: all.count - good.count, mismatches: mismatches,
                   interrupted: all.filter { !$0.outcome.ok && $0.outcome.started }.count, retried: all.reduce(0) { $0 + $1.retried },
                   completionTokens: tokens, meanAccepted: Double(tokens) / Double(max(1, good.reduce(0) { $0 + $1.outcome.targetCalls })),
                   seconds: seconds, tokensPerSecond: Double(tokens) / seconds,
                   requestsPerSecond: Double(good.count) / seconds,
                   timeToFirstTokenP50: p(0.5, ttft), timeToFirstTokenP99: p(0.99, ttft),
                   interTokenP50: p(0.5, gaps), interTokenP99: p(0.99, gaps), timePerOutputTokenP50: p(0.5, perToken))
    }
}
