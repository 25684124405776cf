import Engine
import Foundation
import Graph
import Synchronization

/// What `decograph serve` is told.
public struct ServerOptions: Sendable {
    /// The directory of graphs to serve.
    public var graphsDirectory: String
    /// The address to bind; loopback unless told otherwise.
    public var host: String = "127.0.0.1"
    /// The port (0: the system chooses).
    public var port: Int = 8080
    /// The key clients must send as `Authorization: Bearer KEY`; required when `host` is not loopback.
    public var apiKey: String?
    /// Generations running at once (their model calls share forward passes).
    public var parallel: Int = 16
    /// Requests waiting for a slot before the server answers 429.
    public var queue: Int = 64
    /// Largest `max_tokens` a request may ask for.
    public var maxTokens: Int = 4096
    /// Longest prompt, in tokens.
    public var maxPromptTokens: Int = 8192
    /// Most stop strings per request.
    public var maxStopStrings: Int = 16
    /// Largest response-format schema, in bytes of JSON.
    public var maxSchemaBytes: Int = 64 << 10
    /// Above this many running generations, steps do not draft (vLLM's
    /// `speculative_disable_by_batch_size`); nil: always draft.
    public var speculationOffAbove: Int?
    /// Seconds a shutdown waits for generations in flight before it cancels them.
    public var drainSeconds: Double = 30
    /// HTTP limits (body size, connections, idle timeout).
    public var limits = HTTPServer.Limits()

    /// Options with defaults for everything but the directory.
    public init(graphsDirectory: String) { self.graphsDirectory = graphsDirectory }

    /// Whether `host` is a loopback address.
    public var bindsLoopback: Bool { host == "127.0.0.1" || host == "::1" || host.hasPrefix("127.") || host == "localhost" }
}

/// A running `decograph serve`: the graph catalog, the API and the HTTP listener.
public final class Server: Sendable {
    /// The options it runs with.
    public let options: ServerOptions
    private let service: CompletionService
    private let http: HTTPServer
    private let resources: ResourceRegistry
    /// Whether `shutdown()` ran (a second call returns at once).
    private let stopped = Mutex<Bool?>(nil)

    /// The port it listens on.
    public var port: Int { http.port }

    /// The names of the graphs it serves.
    public var graphNames: [String] { service.catalog.entries.map(\.name) }

    /// Loads the graphs and starts listening.
    /// - Parameters:
    ///   - options: what to serve and how.
    ///   - registry: the ops graphs may use.
    ///   - resources: where models and stores are loaded (shared by all graphs).
    ///   - transform: changes each compiled plan before it runs (`--model`).
    ///   - log: receives the graphs' diagnostics and why a graph is not served.
    /// - Throws: `ServerError` (no API key on a public address, no servable graph, a port that
    ///   cannot be bound).
    public init(options: ServerOptions, registry: OpRegistry, resources: ResourceRegistry = .shared,
                transform: @escaping @Sendable (Plan) throws -> Plan = { $0 }, log: (String) -> Void) throws {
        var options = options
        if options.host == "localhost" { options.host = "127.0.0.1" }
        guard options.bindsLoopback || options.apiKey != nil else {
            throw ServerError("binding \(options.host) exposes the server beyond this machine: give --api-key KEY (clients send 'Authorization: Bearer KEY')")
        }
        guard options.parallel >= 1, options.queue >= 0 else { throw ServerError("--parallel must be at least 1 and --queue at least 0") }
        self.options = options
        self.resources = resources
        let catalog = try GraphCatalog(directory: options.graphsDirectory, registry: registry, resources: resources,
                                       maxIdlePerPlan: options.parallel, transform: transform, log: log)
        service = CompletionService(catalog: catalog, options: options, resources: resources)
        do {
            http = try HTTPServer(host: options.host, port: options.port, limits: options.limits, handler: service)
        } catch {
            throw ServerError("\(error)")
        }
    }

    /// How long cancelled generations get to reach their next step (one step, however slow).
    static let cancelGraceSeconds = 60.0
    /// How long ended streams get to send their last bytes (a client that stopped reading is not
    /// waited for longer).
    static let flushSeconds = 5.0

    /// Shuts down gracefully: stops accepting connections and admitting requests, lets the
    /// generations in flight finish within `drainSeconds` (then cancels the rest, which end at
    /// their next step as a client that went away would), closes the listener and the stores no
    /// session holds.
    /// - Returns: whether every generation finished before the deadline.
    @discardableResult
    public func shutdown() -> Bool {
        // The first caller shuts down; later ones get its outcome (the listener is stopped once).
        stopped.withLock { finished in
            if let finished { return finished }
            let outcome = drainAndStop()
            finished = outcome
            return outcome
        }
    }

    private func drainAndStop() -> Bool {
        http.stopAccepting()
        service.startDraining()
        let finished = service.admission.waitUntilIdle(before: Date().addingTimeInterval(options.drainSeconds))
        if !finished {
            service.cancelEverything()
            _ = service.admission.waitUntilIdle(before: Date().addingTimeInterval(Self.cancelGraceSeconds))
        }
        // Ended generations' last bytes (the finish chunk, [DONE]) reach their clients before the
        // connections close.
        _ = service.streams.waitUntilNone(before: Date().addingTimeInterval(Self.flushSeconds))
        http.stop()
        service.catalog.drain()
        resources.closeUnusedStores()
        return finished
    }
}
