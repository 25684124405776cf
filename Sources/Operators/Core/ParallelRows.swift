import Foundation
import Synchronization

/// Independent per-row work spread over the cores: a search's beams each need a log-softmax and a
/// top-k over the whole vocabulary, which for a 49 152-token vocabulary and eight beams is a
/// quarter of a step if done on one core. The calling thread takes part
/// (`DispatchQueue.concurrentPerform`), so nothing waits on queued work.
enum ParallelRows {
    /// `(0..<count).map(body)`, the rows computed concurrently when there are several and each
    /// is large enough to be worth a thread.
    /// - Parameters:
    ///   - count: how many rows.
    ///   - width: elements per row (below 4 096 the rows run in order on this thread).
    ///   - body: one row's work.
    /// - Returns: the results in row order.
    /// - Throws: the first row's error, in row order.
    static func map<T: Sendable>(_ count: Int, width: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
        guard count > 1, width >= 4096 else { return try (0 ..< count).map(body) }
        let results = Mutex([Result<T, any Error>?](repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: count) { row in
            let outcome = Result { try body(row) }
            results.withLock { $0[row] = outcome }
        }
        return try results.withLock { $0 }.map { try $0!.get() }
    }
}
