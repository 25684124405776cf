import Dispatch
import Engine
import Foundation
import Serving

extension CommandSpec {
    /// `decograph serve --graphs DIR`: the OpenAI-compatible server.
    static let serve = CommandSpec(
        "serve",
        abstract: "Serve a directory of graphs over an OpenAI-compatible HTTP API.",
        discussion: """
            Every *.yaml in DIR is compiled and its models loaded; a request's "model" names a graph (GET \
            /v1/models lists them). Endpoints: POST /v1/chat/completions and /v1/completions (streaming with \
            "stream": true), GET /v1/models, /health and /metrics (Prometheus). Request fields set the graph's \
            declared parameters (params:) of type int, float, bool or enumeration, checked against their ranges; \
            "response_format" (json_schema or json_object) puts a JSON-Schema constraint in front of the graph's \
            target scorer, whatever drafts it. Binds 127.0.0.1 unless --host says otherwise; any other address \
            needs --api-key (or DECOGRAPH_API_KEY). SIGTERM or SIGINT stops accepting, lets generations in \
            flight finish within --drain-seconds, then exits. docs/serving.md has the details.
            """,
        options: [
            .value("graphs", "DIR", help: "The directory of graphs to serve (required)."),
            .value("host", "ADDR", help: "The address to bind (default 127.0.0.1)."),
            .value("port", "N", help: "The port (default 8080; 0 lets the system choose)."),
            .value("api-key", "KEY", help: "Clients must send 'Authorization: Bearer KEY' (default: $DECOGRAPH_API_KEY, else none)."),
            .value("parallel", "N", help: "Generations running at once, their model calls batched together (default 16)."),
            .value("queue", "N", help: "Requests waiting for a slot before the server answers 429 (default 64)."),
            .value("max-tokens", "N", help: "Largest max_tokens a request may ask for (default 4096)."),
            .value("speculation-off-above", "N", help: "With more than N generations running, steps do not draft (the batch alone fills the passes); default: always draft."),
            .value("max-body", "BYTES", help: "Largest request body (default 4194304)."),
            .value("drain-seconds", "S", help: "On SIGTERM, how long generations in flight may take to finish before they are cancelled (default 30)."),
            DecographCLI.modelOption,
            .value("kv-cache-mb", "MIB", help: "KV-cache memory of every model the graphs load, in MiB (bounds the tokens all concurrent generations hold)."),
        ],
        positionals: [],
        body: { arguments, context in
            guard let directory = arguments.value("graphs") else {
                throw UsageError("Missing '--graphs DIR': the directory of graphs to serve.", usage: arguments.usageLine)
            }
            var options = ServerOptions(graphsDirectory: directory)
            if let host = arguments.value("host") { options.host = host }
            if let port = try arguments.int("port", in: 0...65_535) { options.port = port }
            options.apiKey = arguments.value("api-key") ?? ProcessInfo.processInfo.environment["DECOGRAPH_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
            if let n = try arguments.int("parallel", in: 1...4096) { options.parallel = n }
            if let n = try arguments.int("queue", in: 0...1_000_000) { options.queue = n }
            if let n = try arguments.int("max-tokens", in: 1...Int(Int32.max)) { options.maxTokens = n }
            if let n = try arguments.int("speculation-off-above", in: 0...1_000_000) { options.speculationOffAbove = n }
            if let n = try arguments.int("max-body", in: 1024...(1 << 30)) { options.limits.maxBodyBytes = n }
            if let s = try arguments.double("drain-seconds") {
                guard s >= 0 && s.isFinite else { throw UsageError("'--drain-seconds' must be a non-negative number.", usage: arguments.usageLine) }
                options.drainSeconds = s
            }
            if let mib = try arguments.int("kv-cache-mb", in: 1...(1 << 30)) {
                ResourceRegistry.shared.kvCacheOverride.store(mib << 20, ordering: .relaxed)
            }
            let models = arguments.values("model").isEmpty ? nil : arguments.values("model").joined(separator: ",")
            // Signals are taken by a dispatch source, not the default action, from before the
            // server starts: a SIGTERM during loading still drains.
            signal(SIGTERM, SIG_IGN)
            signal(SIGINT, SIG_IGN)
            let server = try startServer(options, models: models, context: context)
            let shown = options.host.contains(":") ? "[\(options.host)]" : options.host
            context.printError("decograph serve: http://\(shown):\(server.port)/v1 — graphs: \(server.graphNames.joined(separator: ", "))")
            let stop = DispatchSemaphore(value: 0)
            let queue = DispatchQueue(label: "decograph.serve.signals")
            let sources = [SIGTERM, SIGINT].map { DispatchSource.makeSignalSource(signal: $0, queue: queue) }
            for source in sources {
                source.setEventHandler { stop.signal() }
                source.resume()
            }
            // The sources must live until the signal: an optimised build may release a local
            // after its last use, and a released source delivers nothing.
            withExtendedLifetime(sources) { stop.wait() }
            context.printError("decograph serve: shutting down (generations in flight get \(Int(options.drainSeconds)) s)")
            let finished = server.shutdown()
            context.printError(finished ? "decograph serve: stopped" : "decograph serve: stopped; generations past the deadline were cancelled")
            return 0
        })
}

extension CommandSpec {
    /// A server on the options, with `--model` applied to every graph; its graphs' messages go to
    /// standard error.
    static func startServer(_ options: ServerOptions, models: String?, context: CommandContext) throws -> Server {
        do {
            return try Server(options: options, registry: DecographCLI.operatorRegistry(),
                              transform: { try DecographCLI.replacingModels(in: $0, option: models) },
                              log: { context.printError($0) })
        } catch let error as ServerError {
            throw CommandFailure(error.description)
        }
    }
}
