import ChatTemplates
import Engine
import Foundation
import Serving

extension CommandSpec {
    /// `decograph bench serve`: the server under N concurrent streaming clients.
    static let benchServe = CommandSpec(
        "serve", abstract: "Server load: throughput, time to first token and inter-token latency p50/p99 at N concurrent streaming clients.",
        discussion: """
            Starts a server on the graphs of --graphs DIR (loopback, a free port) or loads the one at --url, then, for \
            each graph of --graph and each N of --clients, runs N clients that each send streaming requests one after \
            another for --seconds. N = 1 is the requests run one at a time. With --check, each prompt is first run \
            alone and every stream under load is compared with it (greedy graphs must give the same text); the row \
            counts mismatches and failed requests. Run on a release build.
            """,
        options: [
            .value("graphs", "DIR", help: "Serve this directory of graphs in this process."),
            .value("url", "URL", help: "Load a running server instead (http://HOST:PORT)."),
            .value("graph", "NAMES", help: "Graphs to load, comma-separated (default greedy,speculative)."),
            .value("prompts", "FILE", help: "One prompt per line, or a .jsonl file of {prompt|messages} objects (default examples/prompts.txt)."),
            .value("clients", "LIST", help: "Client counts, comma-separated (default 1,4,16,64)."),
            .value("seconds", "S", help: "Seconds of load per row (default 30)."),
            .value("max-tokens", "N", help: "max_tokens of every request (default 64)."),
            .value("speculation-off-above", "N", help: "With --graphs: the server drafts only while at most N generations run."),
            .value("api-key", "KEY", help: "Sent as 'Authorization: Bearer KEY' (default $DECOGRAPH_API_KEY)."),
            .value("retries", "N", help: "Send a request again, up to N times, when it failed before its first event (a replica gone behind a load balancer); default 0."),
            .flag("check", help: "Compare every stream with the same request run alone."),
            .flag("json", help: "Print JSON."),
            DecographCLI.modelOption,
        ],
        body: { arguments, context in
            guard (arguments.value("graphs") == nil) != (arguments.value("url") == nil) else {
                throw UsageError("Give one of '--graphs DIR' (serve it here) and '--url URL' (a running server).", usage: arguments.usageLine)
            }
            let promptsPath = arguments.value("prompts") ?? "examples/prompts.txt"
            guard let data = FileManager.default.contents(atPath: promptsPath), let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure("cannot read the prompts file '\(promptsPath)'")
            }
            let requests = try PromptInput.file(text, path: promptsPath, targetHasTokenizer: true).map { entry -> ServeBenchmark.Request in
                switch entry.prompt {
                case .text(let prompt):
                    return ServeBenchmark.Request(path: "/v1/completions", members: "\"prompt\":" + ChatValue.string(prompt).jsonText)
                case .ids(let ids):
                    return ServeBenchmark.Request(path: "/v1/completions", members: "\"prompt\":[" + ids.map(String.init).joined(separator: ",") + "]")
                case .chat(let conversation):
                    var members = "\"messages\":" + ChatValue.array(conversation.messages).jsonText
                    if let tools = conversation.tools { members += ",\"tools\":" + ChatValue.array(tools).jsonText }
                    return ServeBenchmark.Request(path: "/v1/chat/completions", members: members)
                }
            }
            let graphs = (arguments.value("graph") ?? "greedy,speculative").split(separator: ",").map(String.init)
            let clients = try (arguments.value("clients") ?? "1,4,16,64").split(separator: ",").map { item -> Int in
                guard let n = Int(item), (1...4096).contains(n) else { throw UsageError("'--clients' takes counts in 1...4096, comma-separated.", usage: arguments.usageLine) }
                return n
            }
            let key = arguments.value("api-key") ?? ProcessInfo.processInfo.environment["DECOGRAPH_API_KEY"]
            var server: Server?
            let base: String
            if let directory = arguments.value("graphs") {
                var options = ServerOptions(graphsDirectory: directory)
                options.port = 0
                options.apiKey = key
                options.parallel = max(clients.max() ?? 1, 1)
                options.queue = options.parallel
                options.speculationOffAbove = try arguments.int("speculation-off-above", in: 0...1_000_000)
                let models = arguments.values("model").isEmpty ? nil : arguments.values("model").joined(separator: ",")
                server = try startServer(options, models: models, context: context)
                base = "http://127.0.0.1:\(server!.port)"
            } else {
                base = arguments.value("url")!.hasSuffix("/") ? String(arguments.value("url")!.dropLast()) : arguments.value("url")!
            }
            var options = ServeBenchmark.Options(baseURL: base, graphs: graphs, requests: requests)
            options.clients = clients
            if let s = try arguments.double("seconds") {
                guard s > 0, s.isFinite else { throw UsageError("'--seconds' must be positive.", usage: arguments.usageLine) }
                options.seconds = s
            }
            options.maxTokens = try arguments.int("max-tokens", in: 1...1_000_000) ?? options.maxTokens
            options.check = arguments.flag("check")
            options.retries = try arguments.int("retries", in: 0...1000) ?? 0
            options.headers = key.map { ["Authorization: Bearer \($0)"] } ?? []
            let residentBefore = ResidentMemory.bytes()
            let report = ServeBenchmark.run(options) { context.progress($0) }
            context.endProgress()
            let residentAfter = ResidentMemory.bytes()
            server?.shutdown()
            if arguments.flag("json") {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                encoder.keyEncodingStrategy = .convertToSnakeCase
                context.print(String(decoding: try encoder.encode(report), as: UTF8.self))
                return 0
            }
            let f = { (x: Double, digits: Int) in String(format: "%.\(digits)f", x) }
            context.print("graph                  N   requests  fail  mism    tok/s  ×N=1  req/s   MAT  TTFT p50/p99 ms  ITL p50/p99 ms  TPOT p50 ms")
            for row in report.rows {
                let single = report.rows.first { $0.graph == row.graph && $0.clients == 1 }?.tokensPerSecond
                let ratio = single.map { f(row.tokensPerSecond / $0, 2) } ?? "–"
                func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
                context.print(row.graph.padding(toLength: 20, withPad: " ", startingAt: 0)
                    + pad("\(row.clients)", 5) + pad("\(row.requests)", 11) + pad("\(row.failures)", 6) + pad("\(row.mismatches)", 6)
                    + pad(f(row.tokensPerSecond, 1), 9) + pad(ratio, 6) + pad(f(row.requestsPerSecond, 2), 7) + pad(f(row.meanAccepted, 2), 6)
                    + pad(f(row.timeToFirstTokenP50 * 1000, 1), 8) + " /" + pad(f(row.timeToFirstTokenP99 * 1000, 1), 7)
                    + pad(f(row.interTokenP50 * 1000, 1), 8) + " /" + pad(f(row.interTokenP99 * 1000, 1), 7)
                    + pad(f(row.timePerOutputTokenP50 * 1000, 1), 9))
            }
            let retried = report.rows.reduce(0) { $0 + $1.retried }, interrupted = report.rows.reduce(0) { $0 + $1.interrupted }
            if retried + interrupted > 0 {
                context.print("retried before their first event: \(retried); failed after it (in flight on a server that went away): \(interrupted)")
            }
            if server != nil {
                context.print("server resident memory: \(f(Double(residentBefore) / 1048576, 0)) MiB before the load, \(f(Double(residentAfter) / 1048576, 0)) MiB after")
            }
            return 0
        })
}

/// This process's resident memory, from /proc (0 where there is none).
enum ResidentMemory {
    static func bytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kib * 1024
    }
}
