import Synchronization

/// The server's counters, printed by `/metrics` in Prometheus' text format.
final class ServerMetrics: Sendable {
    private struct Counts {
        /// Requests answered, by endpoint and status.
        var requests: [String: Int] = [:]
        var promptTokens = 0
        var completionTokens = 0
        /// Generations whose client went away before the end.
        var cancelled = 0
        /// Target calls of finished generations (tokens / calls is the served MAT).
        var targetCalls = 0
    }

    private let counts = Mutex(Counts())

    func answered(endpoint: String, status: Int) {
        counts.withLock { $0.requests["\(endpoint)|\(status)", default: 0] += 1 }
    }

    func generated(promptTokens: Int, completionTokens: Int, targetCalls: Int, cancelled: Bool) {
        counts.withLock {
            $0.promptTokens += promptTokens
            $0.completionTokens += completionTokens
            $0.targetCalls += targetCalls
            if cancelled { $0.cancelled += 1 }
        }
    }

    /// The text exposition.
    /// - Parameters:
    ///   - load: generations running and waiting now.
    ///   - forward: each model's passes and items.
    func exposition(load: (running: Int, waiting: Int), forward: [(model: String, passes: Int, items: Int)]) -> String {
        let c = counts.withLock { $0 }
        var out = ""
        /// One metric family: its help and type lines, then one sample per label set.
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Int)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += name + (sample.labels.isEmpty ? "" : "{\(sample.labels)}") + " \(sample.value)\n" }
        }
        family("decograph_requests_total", "counter", "Requests answered, by endpoint and HTTP status.",
               c.requests.sorted(by: { $0.key < $1.key }).map { key, n in
                   let parts = key.split(separator: "|")
                   return ("endpoint=\"\(parts[0])\",status=\"\(parts[1])\"", n)
               })
        family("decograph_prompt_tokens_total", "counter", "Prompt tokens of finished generations.", [("", c.promptTokens)])
        family("decograph_completion_tokens_total", "counter", "Tokens generated.", [("", c.completionTokens)])
        family("decograph_target_calls_total", "counter", "Target model calls of finished generations (tokens per call is the mean accepted length).",
               [("", c.targetCalls)])
        family("decograph_cancelled_total", "counter", "Generations stopped because the client went away.", [("", c.cancelled)])
        family("decograph_running", "gauge", "Generations running now.", [("", load.running)])
        family("decograph_waiting", "gauge", "Requests waiting for a generation slot.", [("", load.waiting)])
        family("decograph_forward_passes_total", "counter", "Forward passes per model.",
               forward.map { ("model=\"\(Self.label($0.model))\"", $0.passes) })
        family("decograph_forward_items_total", "counter", "Sequences served by those passes (items / passes is the mean batch).",
               forward.map { ("model=\"\(Self.label($0.model))\"", $0.items) })
        return out
    }

    /// A label value with Prometheus' escapes.
    private static func label(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
