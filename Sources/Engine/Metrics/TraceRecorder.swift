#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Collects Chrome trace events (the Trace Event Format's complete events, `ph: "X"`) for
/// `--trace FILE`; open the file in chrome://tracing or Perfetto.
public final class TraceRecorder: Sendable {
    struct Event: Sendable {
        var name: String
        var category: String
        var start: Double
        var duration: Double
        var thread: UInt64
        var arguments: [String: Int]
    }

    /// Events so far; appended from the Dispatch workers that run nodes.
    private let events = Mutex<[Event]>([])
    private let origin = Date()

    /// Creates an empty recorder.
    public init() {}

    /// Seconds since the recorder was created.
    func now() -> Double { Date().timeIntervalSince(origin) }

    /// Records a span that started at `start` (from `now()`) and ends now.
    func record(_ name: String, category: String, since start: Double, arguments: [String: Int] = [:]) {
        let end = now()
        let thread = UInt64(pthread_self())
        events.withLock {
            $0.append(Event(name: name, category: category, start: start, duration: end - start,
                            thread: thread, arguments: arguments))
        }
    }

    /// The trace as JSON (`{"traceEvents": [...]}`), timestamps in microseconds.
    /// - Returns: the document's bytes.
    /// - Throws: never in practice (plain values); `JSONSerialization`'s error otherwise.
    public func json() throws -> Data {
        // Small thread numbers read better than pthread ids in the viewers.
        var lanes: [UInt64: Int] = [:]
        let list: [[String: Any]] = events.withLock { $0 }.map { e in
            let lane = lanes[e.thread] ?? { lanes[e.thread] = lanes.count + 1; return lanes.count }()
            return ["name": e.name, "cat": e.category, "ph": "X", "pid": 1, "tid": lane,
                    "ts": (e.start * 1e6).rounded(), "dur": max(1, (e.duration * 1e6).rounded()), "args": e.arguments]
        }
        return try JSONSerialization.data(withJSONObject: ["traceEvents": list, "displayTimeUnit": "ms"], options: [.sortedKeys])
    }
}
