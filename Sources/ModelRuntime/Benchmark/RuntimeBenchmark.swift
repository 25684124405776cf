import Dispatch
import Kernels

/// `decograph bench runtime`: decode, prefill and verification speed of one model, each next to
/// the memory-bandwidth bound probed in the same run.
public struct RuntimeBenchmark: Sendable {
    /// Settings.
    public struct Options: Sendable {
        /// Thread counts to measure decode with.
        public var threadCounts: [Int]
        /// Context tokens before decode / verify measurements.
        public var context = 64
        /// Timed decode steps per thread count.
        public var decodeSteps = 16
        /// Prompt length for the prefill measurement.
        public var prefillTokens = 128
        /// Chain lengths for verification cost.
        public var verifyLengths = [1, 2, 4, 8, 16]
        /// Repetitions per verification length (the median is kept).
        public var verifyRepeats = 5

        /// Default settings for `threads` cores.
        /// - Parameter threads: the largest thread count.
        public init(threads: Int) { threadCounts = Array(Set([1, threads])).sorted() }
    }

    /// One thread count's decode figures.
    public struct Decode: Sendable {
        /// Threads.
        public var threads: Int
        /// Probed read bandwidth with that many threads (bytes/s).
        public var bandwidth: Double
        /// Measured decode tokens per second.
        public var tokensPerSecond: Double
        /// Bandwidth bound: bandwidth / bytes streamed per token.
        public var boundTokensPerSecond: Double
        /// tokensPerSecond / boundTokensPerSecond.
        public var fractionOfBound: Double { tokensPerSecond / boundTokensPerSecond }
    }

    /// Results.
    public struct Report: Sendable {
        /// Model description.
        public var model: String
        /// Weight precision.
        public var dtype: String
        /// What the products read as activations: `bf16` (rounded, bf16 weights in that mode) or `f32`.
        public var activations: String
        /// Weight bytes streamed per forward pass.
        public var weightBytes: Int
        /// Kernel instruction set.
        public var isa: String
        /// Cached tokens before the decode and verification measurements.
        public var context: Int
        /// Decode per thread count.
        public var decode: [Decode]
        /// Prefill tokens per second (all threads).
        public var prefillTokensPerSecond: Double
        /// Seconds of one single-token decode (all threads), the denominator of `verifyCost`.
        public var decodeSeconds: Double
        /// k → time(forward of k chained tokens) / time(forward of 1 token).
        public var verifyCost: [(k: Int, ratio: Double)]
        /// Probed multiply-add rate of all threads (multiply-adds per second of the instruction the
        /// products use: f32 FMA, bf16 dot products in the bf16 activation mode, int8 dot products
        /// for block-quantized weights), interleaved with the verification measurements.
        public var multiplyAddsPerSecond: Double
        /// Weight multiply-adds one token costs (one per weight element, the LM head included).
        public var multiplyAddsPerToken: Double
        /// k → the multiply-add bound of verifying k tokens (k · multiplyAddsPerToken /
        /// multiplyAddsPerSecond) over the measured decode step: no kernel can verify k tokens
        /// for less than this ratio on this machine.
        public var verifyFloor: [(k: Int, ratio: Double)] {
            verifyCost.map { v in (k: v.k, ratio: Double(v.k) * multiplyAddsPerToken / multiplyAddsPerSecond / decodeSeconds) }
        }
    }

    /// Runs the benchmark.
    /// - Parameters:
    ///   - model: the model.
    ///   - options: settings.
    ///   - progress: called with a line before each phase.
    /// - Returns: the report.
    /// - Throws: `RuntimeError` from the model.
    public static func run(model: Model, options: Options, progress: (String) -> Void = { _ in }) throws -> Report {
        let V = Int32(model.config.vocabularySize)
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        func token() -> Int32 {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int32(truncatingIfNeeded: (rng >> 33) % UInt64(V))
        }
        func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
        let bytes = model.weightBytesPerPass

        var decode: [Decode] = []
        var pools: [Int: ComputePool] = [:]
        // The probe buffer is as large as the weights (≥ 256 MB) and probe passes alternate with
        // decode steps, so both see the same machine state on a shared machine.
        let probe = MemoryBandwidth.Probe(bytes: max(256 << 20, min(bytes, 1 << 30)))
        for threads in options.threadCounts {
            let pool = threads == model.pool.threadCount ? model.pool : ComputePool(threadCount: threads)
            pools[threads] = pool
            progress("decode with \(threads) thread(s), interleaved with bandwidth-probe passes")
            let seq = model.makeSequence()
            _ = try model.forward([ForwardItem(sequence: seq, tokens: (0..<options.context).map { _ in token() }, outputs: .none)], pool: pool)
            for _ in 0..<2 { _ = try model.forward([ForwardItem(sequence: seq, tokens: [token()])], pool: pool) }
            var rates: [Double] = [], steps: [Double] = []
            for _ in 0..<options.decodeSteps {
                rates.append(probe.pass(pool: pool))
                let start = now()
                _ = try model.forward([ForwardItem(sequence: seq, tokens: [token()])], pool: pool)
                steps.append(Double(now() - start) / 1e9)
            }
            let bandwidth = median(rates)
            decode.append(Decode(threads: threads, bandwidth: bandwidth, tokensPerSecond: 1 / median(steps),
                                 boundTokensPerSecond: bandwidth / Double(bytes)))
        }
        let pool = pools[options.threadCounts.max()!]!

        progress("prefill")
        let prompt = (0..<options.prefillTokens).map { _ in token() }
        var prefillBest = Double.infinity
        for _ in 0..<2 {
            let seq = model.makeSequence()
            let start = now()
            _ = try model.forward([ForwardItem(sequence: seq, tokens: prompt, outputs: .last)], pool: pool)
            prefillBest = min(prefillBest, Double(now() - start) / 1e9)
        }

        progress("verification cost")
        let seq = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: seq, tokens: (0..<options.context).map { _ in token() }, outputs: .none)], pool: pool)
        let base = seq.length
        func time(_ k: Int) throws -> Double {
            let tokens = (0..<k).map { _ in token() }
            let start = now()
            _ = try model.forward([ForwardItem(sequence: seq, tokens: tokens)], pool: pool)
            let t = Double(now() - start) / 1e9
            seq.truncate(to: base)
            return t
        }
        _ = try time(1)
        // Interleave k = 1 with each k so both see the same machine state; keep medians.
        var ones: [Double] = [], rates: [Double] = []
        var perK: [Int: [Double]] = [:]
        for _ in 0..<options.verifyRepeats {
            for k in options.verifyLengths {
                rates.append(MultiplyAddRate.pass(pool: pool, weights: model.weightDType, activations: model.activations))
                ones.append(try time(1))
                perK[k, default: []].append(try time(k))
            }
        }
        let one = median(ones)
        let verify = options.verifyLengths.map { k in (k: k, ratio: median(perK[k]!) / one) }
        return Report(model: model.name, dtype: model.weightDType.description,
                      activations: model.activations.description, weightBytes: bytes,
                      isa: InstructionSet.detected.description, context: options.context, decode: decode,
                      prefillTokensPerSecond: Double(options.prefillTokens) / prefillBest,
                      decodeSeconds: one, verifyCost: verify, multiplyAddsPerSecond: median(rates),
                      multiplyAddsPerToken: Double(model.multiplyAddsPerToken))
    }

    /// Median seconds of one decode step after `context` tokens, over `steps` steps on `pool`.
    /// - Parameters:
    ///   - model: the model.
    ///   - pool: threads.
    ///   - context: cached tokens before the timed steps.
    ///   - steps: timed steps.
    /// - Returns: the median step time.
    /// - Throws: `RuntimeError` from the model.
    public static func decodeStepSeconds(model: Model, pool: ComputePool, context: Int = 64, steps: Int = 32) throws -> Double {
        let V = model.config.vocabularySize
        let seq = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: seq, tokens: (0..<context).map { Int32($0 * 31 % V) }, outputs: .none)], pool: pool)
        var times: [Double] = []
        for i in 0..<(steps + 2) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try model.forward([ForwardItem(sequence: seq, tokens: [Int32((i * 17 + 5) % V)])], pool: pool)
            if i >= 2 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        return median(times)
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
    }

    /// The shapes `--random` accepts.
    public static let randomShapes: [String: ModelConfig] = [
        "134M": ModelConfig(hiddenSize: 768, intermediateSize: 2048, layerCount: 12, headCount: 12, kvHeadCount: 12, vocabularySize: 32000),
        "1.1B": ModelConfig(hiddenSize: 2048, intermediateSize: 5632, layerCount: 22, headCount: 32, kvHeadCount: 4, vocabularySize: 32000),
    ]
}
