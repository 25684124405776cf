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

    /// A reusable probe: its buffer stays allocated so probe passes can be interleaved with the
    /// work being measured (both then see the same machine state on a shared, noisy machine).
    public final class Probe: @unchecked Sendable {
        let buffer: UnsafeMutableRawPointer
        /// Buffer size.
        public let bytes: Int
        private var sink: UInt64 = 0

        /// Allocates and touches the buffer.
        /// - Parameter bytes: buffer size.
        public init(bytes: Int = MemoryBandwidth.defaultBytes) {
            self.bytes = bytes
            buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            buffer.initializeMemory(as: UInt8.self, repeating: 0x5A, count: bytes)
        }

        deinit { buffer.deallocate() }

        /// One pass with every thread of `pool`.
        /// - Parameter pool: the threads.
        /// - Returns: bytes per second of this pass.
        public func pass(pool: ComputePool) -> Double {
            let part = bytes / pool.threadCount / 64 * 64
            let sums = UnsafeMutablePointer<UInt64>.allocate(capacity: pool.threadCount)
            defer { sums.deallocate() }
            let start = DispatchTime.now().uptimeNanoseconds
            pool.run { t in sums[t] = dg_read_bandwidth_pass(self.buffer + t * part, part) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            for t in 0..<pool.threadCount { sink ^= sums[t] }
            return Double(part * pool.threadCount) / seconds
        }

        /// Folded checksums (keeps the reads observable).
        public var checksum: UInt64 { sink }
    }

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

/// Measures how many multiply-adds per second the cores retire in the instruction a product uses:
/// the bound of the small-batch kernel once enough rows share each weight that it stops being
/// memory bound (verifying drafted tokens).
public enum MultiplyAddRate {
    /// One pass with every thread of `pool`, each running `rounds` rounds of independent chains.
    /// - Parameters:
    ///   - pool: the threads.
    ///   - rounds: rounds per thread (2 × 10⁶ ≈ 8 ms on a 3.5 GHz core with AVX-512).
    ///   - weights: the weights' precision.
    ///   - activations: the products' activation mode. Where it quantizes `weights`, the pass
    ///     measures the quantized kernels' int8 dot-product instruction; where it rounds them to
    ///     bf16, the bf16 dot-product instruction (where the CPU has it); else f32 FMAs.
    /// - Returns: multiply-adds per second, all threads together.
    public static func pass(pool: ComputePool, rounds: Int = 2_000_000, weights: DType = .f32,
                            activations: ActivationPrecision = .f32) -> Double {
        let kind = activations.quantizes(weights) ? DG_PROBE_INT8_DOT
            : activations.rounds(weights) ? DG_PROBE_BF16_DOT : DG_PROBE_F32
        let counts = UnsafeMutablePointer<UInt64>.allocate(capacity: pool.threadCount)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: pool.threadCount)
        defer { counts.deallocate(); sums.deallocate() }
        let start = DispatchTime.now().uptimeNanoseconds
        pool.run { t in sums[t] = dg_multiply_add_pass(rounds, Int32(kind.rawValue), counts + t) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var total: UInt64 = 0
        var sink: Float = 0
        for t in 0..<pool.threadCount { total += counts[t]; sink += sums[t] }
        if sink.isNaN { print("") }  // keeps the chains observable
        return Double(total) / seconds
    }
}
