#if canImport(Glibc)
import Glibc
#endif
import CKernels
import Dispatch

/// Measures how fast this machine streams memory into the cores: the bound that decode speed is
/// judged against (decode reads every weight once per token).
public enum MemoryBandwidth {
    /// Buffer size of the probe: far larger than the last-level cache (32 MiB here) so reads come
    /// from DRAM, small enough to allocate beside a 1B-parameter model.
    public static let defaultBytes = 1 << 30

    /// Reads a buffer of `bytes` with every thread of `pool` (each its own contiguous part),
    /// `passes` times, and returns the best rate.
    /// - Parameters:
    ///   - pool: the threads to read with.
    ///   - bytes: buffer size.
    ///   - passes: repetitions (the best is kept: noise only ever slows a pass down).
    /// - Returns: bytes per second.
    public static func probe(pool: ComputePool, bytes: Int = defaultBytes, passes: Int = 5) -> Double {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { buffer.deallocate() }
        // Touch every page (with non-zero data) so the probe measures reads, not page faults.
        buffer.initializeMemory(as: UInt8.self, repeating: 0x5A, count: bytes)
        var best = 0.0
        var sink: UInt64 = 0
        for _ in 0..<passes {
            let start = DispatchTime.now().uptimeNanoseconds
            let sums = UnsafeMutablePointer<UInt64>.allocate(capacity: pool.threadCount)
            pool.run { t in
                let part = bytes / pool.threadCount / 64 * 64
                sums[t] = dg_read_bandwidth_pass(buffer + t * part, part)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            for t in 0..<pool.threadCount { sink ^= sums[t] }
            sums.deallocate()
            best = max(best, Double(bytes / pool.threadCount / 64 * 64 * pool.threadCount) / seconds)
        }
        // Keep the reads observable so they cannot be optimised away.
        if sink == 0x1234_5678_9abc_def0 { print("") }
        return best
    }
}
