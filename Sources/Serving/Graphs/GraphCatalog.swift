import Engine
import Foundation
import Graph
import Synchronization

/// The graphs a server runs: every `*.yaml` of one directory, compiled and their models loaded at
/// start, each answering to its name (`graph:`, else the file's stem). A request runs one of them,
/// with its declared parameters set from the request and, when it asks for a response format, a
/// JSON-Schema constraint composed in front of the target's scorer; the plans of such variants and
/// idle sessions on them are kept for the next request alike.
final class GraphCatalog: Sendable {
    /// One servable graph.
    struct Entry: Sendable {
        /// The name requests use (`model`).
        var name: String
        /// The file.
        var file: String
        /// The plan on the parameters' defaults.
        var plan: Plan
        /// The target's score node, when the graph has one at the top level (a response format's
        /// constraint goes in front of it).
        var targetScoreNode: String?
        /// Whether the graph constrains its output already (then no response format composes).
        var constrained: Bool
        /// Whether the target has a chat template (`/v1/chat/completions` needs one).
        var chats: Bool
        /// Whether runs can report log-probabilities (not when the output is a search).
        var logprobs: Bool
    }

    /// The graphs by name, in file order.
    let entries: [Entry]
    private let compiler: GraphCompiler
    private let transform: @Sendable (Plan) throws -> Plan
    private let resources: ResourceRegistry

    /// Plans of request variants (arguments, response format), by key; bounded.
    private let plans = Mutex<[String: Plan]>([:])
    /// Idle sessions by plan key, so the next request on the same variant binds nothing.
    private let idle = Mutex<[String: [IdleSession]]>([:])
    /// Most variant plans kept, and most idle sessions per variant.
    private let maxPlans: Int
    private let maxIdlePerPlan: Int

    /// Loads a directory's graphs.
    /// - Parameters:
    ///   - directory: the graphs' directory (subdirectories hold subgraphs and are not served).
    ///   - registry: the ops graphs may use.
    ///   - resources: where models, tokenizers and stores are loaded and shared.
    ///   - maxIdlePerPlan: idle sessions kept per variant (the server's parallelism).
    ///   - maxPlans: variant plans kept (each graph's own plan beside them is never dropped).
    ///   - transform: changes each compiled plan before it runs (`--model` replacing a path).
    ///   - log: receives each graph's diagnostics and why a graph is not served.
    /// - Throws: `APIError`-free: a directory that cannot be read or holds no servable graph is an
    ///   `ServerError`.
    init(directory: String, registry: OpRegistry, resources: ResourceRegistry, maxIdlePerPlan: Int, maxPlans: Int = 256,
         transform: @escaping @Sendable (Plan) throws -> Plan, log: (String) -> Void) throws {
        compiler = GraphCompiler(registry: registry)
        self.transform = transform
        self.resources = resources
        self.maxIdlePerPlan = maxIdlePerPlan
        self.maxPlans = maxPlans
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        } catch {
            throw ServerError("cannot read the graphs directory '\(directory)': \(error.localizedDescription)")
        }
        var entries: [Entry] = []
        for name in names {
            let file = (directory as NSString).appendingPathComponent(name)
            let compilation = compiler.compile(file: file)
            for diagnostic in compilation.diagnostics where diagnostic.severity == .error { log(diagnostic.description) }
            guard let compiled = compilation.plan else {
                log("\(file): not served (the graph has errors)")
                continue
            }
            do {
                let plan = try transform(compiled)
                let session = try Session(plan: plan, resources: resources)
                let servedName = plan.name
                if entries.contains(where: { $0.name == servedName }) {
                    log("\(file): not served: another graph is already named '\(servedName)'")
                    continue
                }
                let target = Session.targetScoreNode(of: plan)
                let entry = Entry(name: servedName, file: file, plan: plan,
                                  targetScoreNode: target.flatMap { $0.name.contains("/") ? nil : $0.name },
                                  constrained: plan.nodes.contains { $0.op.hasPrefix("constrain.") },
                                  chats: session.chatTemplateName != nil, logprobs: !session.outputIsSearch)
                entries.append(entry)
                idle.withLock { $0[Self.key(servedName, [], nil)] = [IdleSession(session: session)] }
            } catch {
                log("\(file): not served: \(error)")
            }
        }
        guard !entries.isEmpty else { throw ServerError("no servable graph in '\(directory)' (each *.yaml there is compiled; see the messages above)") }
        self.entries = entries
        for entry in entries { plans.withLock { $0[Self.key(entry.name, [], nil)] = entry.plan } }
    }

    /// The graph a request names.
    /// - Throws: 404 `model_not_found` listing the served names.
    func entry(named name: String) throws(APIError) -> Entry {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw APIError(status: 404, type: "invalid_request_error",
                           message: "no graph named '\(name)'; this server runs \(entries.map(\.name).joined(separator: ", "))",
                           param: "model", code: "model_not_found")
        }
        return entry
    }

    /// A variant's key: the graph, the arguments and the schema as canonical JSON.
    static func key(_ graph: String, _ arguments: [(name: String, value: YAMLNode)], _ schema: YAMLNode?) -> String {
        var key = graph
        for argument in arguments.sorted(by: { $0.name < $1.name }) { key += "\u{1}" + argument.name + "=" + ((try? argument.value.jsonText()) ?? "?") }
        if let schema { key += "\u{2}" + ((try? schema.jsonText()) ?? "?") }
        return key
    }

    /// The plan a request runs: the graph with the request's parameter values and response format.
    /// - Returns: the plan and its key (for `session(for:key:)`).
    /// - Throws: 400 with the compiler's messages when a value is out of range or the schema cannot
    ///   be composed into this graph.
    func plan(for entry: Entry, arguments: [(name: String, value: YAMLNode)], schema: YAMLNode?) throws(APIError) -> (Plan, String) {
        let key = Self.key(entry.name, arguments, schema)
        if let plan = plans.withLock({ $0[key] }) { return (plan, key) }
        var edit: (@Sendable (inout GraphDocument) -> Void)?
        if let schema {
            guard !entry.constrained else {
                throw .invalid("graph '\(entry.name)' constrains its output already; send 'response_format' to a graph without a constraint", param: "response_format")
            }
            guard let scoreNode = entry.targetScoreNode else {
                throw .invalid("graph '\(entry.name)' has no top-level score node to put a response format's constraint in front of", param: "response_format")
            }
            edit = { document in Self.compose(schema: schema, before: scoreNode, in: &document) }
        }
        let compilation = compiler.compile(file: entry.file, arguments: arguments, edit: edit)
        guard let compiled = compilation.plan else {
            let messages = compilation.diagnostics.filter { $0.severity == .error }.map { diagnostic in
                diagnostic.location.file == CompletionRequest.origin.file ? diagnostic.message : diagnostic.description
            }
            let param = schema != nil && arguments.isEmpty ? "response_format" : arguments.count == 1 ? arguments[0].name : nil
            throw .invalid(messages.joined(separator: "; "), param: param)
        }
        let plan: Plan
        do {
            plan = try transform(compiled)
        } catch {
            throw APIError(status: 500, type: "server_error", message: "\(error)")
        }
        let evicted: String? = plans.withLock { plans in
            var victim: String?
            if plans.count >= maxPlans, let variant = plans.keys.first(where: { $0.contains("\u{1}") || $0.contains("\u{2}") }) {
                plans[variant] = nil
                victim = variant
            }
            plans[key] = plan
            return victim
        }
        // An evicted variant's idle sessions go with it, so distinct variants cannot pile up sessions.
        if let evicted { idle.withLock { $0[evicted] = nil } }
        return (plan, key)
    }

    /// An idle session on the plan, or a new one.
    /// - Throws: 400 when the plan cannot bind (a schema the constraint compiler refuses).
    func session(for plan: Plan, key: String) throws(APIError) -> Session {
        if let idleSession = idle.withLock({ $0[key]?.popLast() }) { return idleSession.session }
        do {
            return try Session(plan: plan, resources: resources)
        } catch {
            throw .invalid("\(error)", param: key.contains("\u{2}") ? "response_format" : nil)
        }
    }

    /// Returns a session after its run, for the next request on the same variant.
    func recycle(_ session: Session, key: String) {
        // A variant evicted while this session ran keeps no idle sessions.
        guard plans.withLock({ $0[key] != nil }) else { return }
        idle.withLock { idle in
            if idle[key, default: []].count < maxIdlePerPlan { idle[key, default: []].append(IdleSession(session: session)) }
        }
    }

    /// Idle sessions held for a variant.
    func idleSessions(key: String) -> Int { idle.withLock { $0[key]?.count ?? 0 } }

    /// Drops every idle session (at shutdown, so stores and caches are released).
    func drain() {
        idle.withLock { $0 = [:] }
    }

    /// Puts a `constrain.json_schema` node holding `schema` in front of the node `scoreNode`: it takes
    /// over the score node's `tree` input (the drafts it prunes), and the score node reads it.
    static func compose(schema: YAMLNode, before scoreNode: String, in document: inout GraphDocument) {
        guard let index = document.nodes.firstIndex(where: { $0.name.value == scoreNode }),
              case .op(let op, var fields) = document.nodes[index].body else { return }
        let origin = CompletionRequest.origin
        var name = "response_format"
        var suffix = 2
        while document.nodes.contains(where: { $0.name.value == name }) {
            name = "response_format_\(suffix)"
            suffix += 1
        }
        func scalar(_ text: String, plain: Bool = true) -> YAMLNode { YAMLNode(.scalar(text, plain: plain), at: origin) }
        var constraintFields = [YAMLNode.Entry(key: scalar("schema"), value: schema)]
        if let tree = fields.firstIndex(where: { $0.key.scalar == "tree" }) {
            constraintFields.append(YAMLNode.Entry(key: scalar("tree"), value: fields[tree].value))
            fields[tree].value = scalar(name)
        } else {
            fields.append(YAMLNode.Entry(key: scalar("tree"), value: scalar(name)))
        }
        document.nodes[index].body = .op(op, fields: fields)
        document.nodes.insert(GraphDocument.Node(name: Located(name, at: origin), body: .op(Located("constrain.json_schema", at: origin), fields: constraintFields)),
                              at: index)
    }
}

/// A session no request holds. A session runs one generation at a time on one thread; the pool
/// hands it from the request that finished with it to the next under its lock, so it is never
/// reached from two threads at once.
struct IdleSession: @unchecked Sendable {
    let session: Session
}

/// A server that cannot start, with the reason.
public struct ServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
