import Foundation
import Kernels

/// `bench runtime --competitors N`: decode step time alone and with N CPU-bound processes
/// running, against fair share. With T threads and N competitors on C cores, a fair scheduler
/// gives the decode T/(T + N) of the cores, a slowdown of (T + N)/C for work that used C cores
/// alone (T ≤ C); passes whose threads wait for one another fall further behind.
public enum CompetingLoad {
    /// One thread count's figures.
    public struct Row: Sendable {
        /// Decode threads.
        public var threads: Int
        /// Seconds per decode step with nothing else running.
        public var aloneSeconds: Double
        /// Seconds per decode step with the competitors running.
        public var loadedSeconds: Double
        /// The fair-share slowdown, (min(threads, cores) + competitors) / cores.
        public var fairSlowdown: Double

        /// Loaded over alone.
        public var slowdown: Double { loadedSeconds / aloneSeconds }
    }

    /// Measures each thread count alone, then with `competitors` spinning shell processes.
    /// - Parameters:
    ///   - model: the model (its pool serves the thread count it has).
    ///   - threadCounts: decode thread counts.
    ///   - competitors: CPU-bound processes to run beside the decode.
    ///   - progress: a line about the current phase.
    /// - Returns: one row per thread count.
    /// - Throws: when a decode step fails or a competitor cannot be started.
    public static func measure(model: Model, threadCounts: [Int], competitors: Int,
                               progress: (String) -> Void) throws -> [Row] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var rows: [Row] = []
        for threads in threadCounts {
            let pool = threads == model.pool.threadCount ? model.pool : ComputePool(threadCount: threads)
            progress("decode alone, \(threads) thread(s)")
            let alone = try RuntimeBenchmark.decodeStepSeconds(model: model, pool: pool)
            let spinners = try (0..<competitors).map { _ in
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/bin/sh")
                p.arguments = ["-c", "while :; do :; done"]
                try p.run()
                return p
            }
            defer { for p in spinners { p.terminate(); p.waitUntilExit() } }
            progress("decode with \(competitors) competitors, \(threads) thread(s)")
            let loaded = try RuntimeBenchmark.decodeStepSeconds(model: model, pool: pool)
            rows.append(Row(threads: threads, aloneSeconds: alone, loadedSeconds: loaded,
                            fairSlowdown: Double(min(threads, cores) + competitors) / Double(cores)))
        }
        return rows
    }
}
