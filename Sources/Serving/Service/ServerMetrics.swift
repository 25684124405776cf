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
        var out = "# HELP decograph_requests_total Requests answered, by endpoint and HTTP status.\n# TYPE decograph_requests_total counter\n"
        for (key, n) in c.requests.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|")
            out += "decograph_requests_total{endpoint=\"\(parts[0])\",status=\"\(parts[1])\"} \(n)\n"
        }
        out += "# HELP decograph_prompt_tokens_total Prompt tokens of finished generations.\n# TYPE decograph_prompt_tokens_total counter\n"
        out += "decograph_prompt_tokens_total \(c.promptTokens)\n"
        out += "# HELP decograph_completion_tokens_total Tokens generated.\n# TYPE decograph_completion_tokens_total counter\n"
        out += "decograph_completion_tokens_total \(c.completionTokens)\n"
        out += "# HELP decograph_target_calls_total Target model calls of finished generations (tokens per call is the mean accepted length).\n# TYPE decograph_target_calls_total counter\n"
        out += "decograph_target_calls_total \(c.targetCalls)\n"
        out += "# HELP decograph_cancelled_total Generations stopped because the client went away.\n# TYPE decograph_cancelled_total counter\n"
        out += "decograph_cancelled_total \(c.cancelled)\n"
        out += "# HELP decograph_running Generations running now.\n# TYPE decograph_running gauge\ndecograph_running \(load.running)\n"
        out += "# HELP decograph_waiting Requests waiting for a generation slot.\n# TYPE decograph_waiting gauge\ndecograph_waiting \(load.waiting)\n"
        out += "# HELP decograph_forward_passes_total Forward passes per model.\n# TYPE decograph_forward_passes_total counter\n"
        for f in forward { out += "decograph_forward_passes_total{model=\"\(Self.label(f.model))\"} \(f.passes)\n" }
        out += "# HELP decograph_forward_items_total Sequences served by those passes (items / passes is the mean batch).\n# TYPE decograph_forward_items_total counter\n"
        for f in forward { out += "decograph_forward_items_total{model=\"\(Self.label(f.model))\"} \(f.items)\n" }
        return out
    }

    /// A label value with Prometheus' escapes.
    private static func label(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
