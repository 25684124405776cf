import Engine
import Foundation
import Kernels
import Operators
import Serving

/// A server over copies of the repository's graphs (model paths made absolute, stores in a fresh
/// directory) on the demo models, and a client for it.
struct ServerFixture {
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// One registry for every server of the tests: the demo models load once.
    static let resources = ResourceRegistry(pool: ComputePool(threadCount: 1))

    /// The graphs the tests serve.
    static let graphs = ["greedy.yaml", "speculative.yaml", "sampling.yaml", "lookup.yaml", "ngram.yaml"]

    let server: Server
    let directory: String
    let base: String
    let apiKey: String?

    /// Starts a server on a free loopback port.
    /// Greedy without an end: it stops only at its budget (or when cancelled), for the tests that
    /// need a generation to hold its slot.
    static let endless = """
        graph: endless
        models:
          target: { path: \(repository)/models/demo-target }
        nodes:
          scores: { op: score, model: target }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        output: accept
        limits: { max_new_tokens: 4096, ignore_eos: true }
        """

    init(graphs: [String] = Self.graphs, extra: [String: String] = [:], configure: (inout ServerOptions) -> Void = { _ in }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/stores", withIntermediateDirectories: true)
        for name in graphs {
            var text = try String(contentsOfFile: Self.repository + "/graphs/" + name, encoding: .utf8)
            text = text.replacingOccurrences(of: "../models/", with: Self.repository + "/models/")
                .replacingOccurrences(of: "../examples/", with: Self.repository + "/examples/")
                .replacingOccurrences(of: "../stores/", with: directory + "/stores/")
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        for (name, text) in extra { try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8) }
        var options = ServerOptions(graphsDirectory: directory)
        options.port = 0
        configure(&options)
        apiKey = options.apiKey
        server = try Server(options: options, registry: OperatorRegistry.all, resources: Self.resources, log: { _ in })
        base = "http://127.0.0.1:\(server.port)"
    }

    /// A POST with a JSON body; the answer's status and parsed JSON.
    func post(_ path: String, _ body: String, headers: [String]? = nil) -> (status: Int, json: [String: Any], response: HTTPClient.Response) {
        let response = HTTPClient.send(base + path, method: "POST", body: Array(body.utf8), headers: headers ?? authorization, timeoutSeconds: 300)
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, json, response)
    }

    /// A GET.
    func get(_ path: String, headers: [String]? = nil) -> HTTPClient.Response {
        HTTPClient.send(base + path, headers: headers ?? authorization, timeoutSeconds: 60)
    }

    private var authorization: [String] { apiKey.map { ["Authorization: Bearer \($0)"] } ?? [] }

    /// A streamed completion: the events' JSON objects in order (without `[DONE]`), and whether
    /// `[DONE]` ended it.
    func stream(_ path: String, _ body: String, hangUpAfter events: Int? = nil) -> (status: Int, events: [[String: Any]], done: Bool) {
        var buffer = ""
        var parsed: [[String: Any]] = []
        var done = false
        let response = HTTPClient.send(base + path, method: "POST", body: Array(body.utf8), headers: authorization, timeoutSeconds: 300) { bytes in
            buffer += String(decoding: bytes, as: UTF8.self)
            while let end = buffer.range(of: "\n\n") {
                let event = String(buffer[..<end.lowerBound])
                buffer = String(buffer[end.upperBound...])
                guard event.hasPrefix("data: ") else { continue }
                let payload = String(event.dropFirst(6))
                if payload == "[DONE]" {
                    done = true
                } else if let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] {
                    parsed.append(object)
                }
            }
            if let events, parsed.count >= events { return false }
            return true
        }
        return (response.status, parsed, done)
    }

    /// The concatenated text of a stream's events (`delta.content` or `text`).
    static func text(of events: [[String: Any]]) -> String {
        events.compactMap { event -> String? in
            guard let choice = (event["choices"] as? [[String: Any]])?.first else { return nil }
            if let delta = choice["delta"] as? [String: Any] { return delta["content"] as? String }
            return choice["text"] as? String
        }.joined()
    }

    /// The text of a whole completion.
    static func text(of json: [String: Any]) -> String? {
        guard let choice = (json["choices"] as? [[String: Any]])?.first else { return nil }
        if let message = choice["message"] as? [String: Any] { return message["content"] as? String }
        return choice["text"] as? String
    }

    /// The error object's fields.
    static func error(_ json: [String: Any]) -> (message: String, param: String?, code: String?) {
        let error = json["error"] as? [String: Any] ?? [:]
        return (error["message"] as? String ?? "", error["param"] as? String, error["code"] as? String)
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [text]), as: UTF8.self).dropFirst().dropLast().description
    }
}
