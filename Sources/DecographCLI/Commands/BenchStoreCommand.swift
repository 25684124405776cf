import Support
import Kernels
import Foundation
import NGramStore
#if canImport(Glibc)
import Glibc
#endif

extension CommandSpec {
    /// `decograph bench store`: n-gram store build throughput, lookup latency and size.
    static let benchStore = CommandSpec(
        "store", abstract: "N-gram store: build throughput, lookup latency p50/p99, bytes per corpus token.",
        discussion: """
        Uses a synthetic corpus (no tokenizer is needed): Zipf-distributed tokens (s = 1.1, the
        slope of word frequencies in text) interleaved with repeated phrases, so contexts recur as
        they do in real text. Run on a release build.
        """,
        options: [.value("tokens", "N", help: "Corpus size in tokens (default 1000000)."),
                  .value("vocabulary", "V", help: "Vocabulary size (default 32000)."),
                  .value("lookups", "N", help: "Timed lookups (default 200000)."),
                  .value("dir", "DIR", help: "Where to write the temporary store (default the system temporary directory)."),
                  .flag("json", help: "Print JSON.")],
        body: { args, context in try BenchStore.run(args, context) })
}

/// The body of `bench store`.
enum BenchStore {
    /// Share of the synthetic corpus drawn from repeated phrases rather than single Zipf tokens.
    static let phraseShare = 0.5
    /// Number of distinct phrases (4–12 tokens each) in the synthetic corpus.
    static let phraseCount = 5000
    /// Zipf exponent of the token distribution (word frequencies in natural text are near 1).
    static let zipfExponent = 1.1

    struct Report: Codable {
        var tokens: Int
        var vocabulary: Int
        var countingTokensPerSecond: Double
        var countingTokensPerCPUSecond: Double
        var buildTokensPerSecond: Double
        var buildTokensPerCPUSecond: Double
        var buildOverCountingRatio: Double
        var fileBytes: Int
        var bytesPerToken: Double
        var compactedBytesPerToken: Double
        var recordBytesPerToken: Double
        var contexts: Int
        var lookupP50Nanoseconds: Double
        var lookupP99Nanoseconds: Double
        var lookupWithTransactionP50Nanoseconds: Double
        var lookupWithTransactionP99Nanoseconds: Double
        var draftP50Nanoseconds: Double
        var draftP99Nanoseconds: Double
        var lookupHitRate: Double
        var memoryBandwidthGBPerSecond: Double
    }

    static func run(_ args: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        let tokenCount = try args.int("tokens", in: 1000...Int(Int32.max)) ?? 1_000_000
        let vocabulary = try args.int("vocabulary", in: 100...Int(Int32.max)) ?? 32000
        let lookups = try args.int("lookups", in: 100...100_000_000) ?? 200_000
        let dir = args.value("dir") ?? FileManager.default.temporaryDirectory.path
        let path = (dir as NSString).appendingPathComponent("decograph-bench-\(getpid()).lmdb")
        defer {
            unlink(path)
            unlink(path + "-lock")
        }
        context.progress("generating \(tokenCount) tokens")
        let texts = corpus(tokens: tokenCount, vocabulary: vocabulary)

        // Counting alone (the in-memory table), the ceiling for building.
        var counts = NGramCounts()
        var start = now()
        var cpuStart = cpuNow()
        var counted = 0
        for text in texts {
            counts.learn(text)
            counted += text.count
            if counts.contextCount >= StoreLearner.defaultBatchContexts { counts = NGramCounts() }
        }
        let countingRate = Double(counted) / seconds(since: start)
        let countingCPURate = Double(counted) / max(Double(cpuNow() - cpuStart) / 1e9, 1e-9)
        counts = NGramCounts()

        context.progress("building the store")
        let store = try NGramStore.create(at: path, tokenizerFingerprint: "bench-synthetic")
        var learner = StoreLearner(store: store)
        start = now()
        cpuStart = cpuNow()
        for text in texts { try learner.learn(tokens: text) }
        try learner.flush()
        let buildRate = Double(tokenCount) / seconds(since: start)
        let buildCPURate = Double(tokenCount) / max(Double(cpuNow() - cpuStart) / 1e9, 1e-9)
        let stats = try store.statistics(top: 0)
        let compactPath = path + ".compact"
        // writeCopy leaves nothing at compactPath when it fails; the defer removes the copy when
        // anything later fails.
        defer { unlink(compactPath) }
        try store.writeCopy(to: compactPath, compacting: true)
        let compactBytes = ((try? FileManager.default.attributesOfItem(atPath: compactPath)[.size]) as? Int) ?? 0

        // Lookups of contexts taken from the corpus (hits) and of shifted ones (mostly misses),
        // as a drafter meets them.
        context.progress("timing lookups")
        var rng = SplitMix64(seed: 7)
        let contexts: [TokenRun] = (0..<lookups).map { i in
            let text = texts[Int(rng.next() % UInt64(texts.count))]
            let n = 1 + Int(rng.next() % 4)
            let end = n + Int(rng.next() % UInt64(text.count - n))
            var run = TokenRun(text[(end - n)..<end])
            if i % 4 == 3 { run = TokenRun(run.map { ($0 &+ 7) % Int32(vocabulary) }) }
            return run
        }
        var inTxn = [Double](repeating: 0, count: lookups)
        var hits = 0
        try store.withReadTransaction { txn in
            for (i, c) in contexts.enumerated() {
                let t0 = now()
                let found = try txn.continuations(of: c)
                inTxn[i] = Double(now() - t0)
                if found != nil { hits += 1 }
            }
        }
        var withTxn = [Double](repeating: 0, count: lookups)
        for (i, c) in contexts.enumerated() {
            let t0 = now()
            _ = try store.withReadTransaction { try $0.continuations(of: c) }
            withTxn[i] = Double(now() - t0)
        }
        // A full draft step from the store tier alone (prompt lookup measured separately by its
        // own context length), on 200-token contexts.
        var drafter = NGramDrafter()
        drafter.usesPromptLookup = false
        let draftSamples = min(lookups, 50_000)
        var drafts = [Double](repeating: 0, count: draftSamples)
        try store.withReadTransaction { txn in
            for i in 0..<draftSamples {
                let text = texts[i % texts.count]
                let end = min(text.count, 4 + Int(rng.next() % UInt64(max(1, text.count - 4))))
                let slice = text[max(0, end - 200)..<end]
                let t0 = now()
                _ = try drafter.draft(context: slice, store: txn)
                drafts[i] = Double(now() - t0)
            }
        }
        context.endProgress()
        let report = Report(
            tokens: tokenCount, vocabulary: vocabulary,
            countingTokensPerSecond: countingRate, countingTokensPerCPUSecond: countingCPURate,
            buildTokensPerSecond: buildRate, buildTokensPerCPUSecond: buildCPURate,
            buildOverCountingRatio: buildRate / countingRate,
            fileBytes: stats.fileBytes, bytesPerToken: stats.bytesPerToken,
            compactedBytesPerToken: Double(compactBytes) / Double(tokenCount),
            recordBytesPerToken: Double(stats.recordBytes) / Double(tokenCount),
            contexts: stats.contextsByLength.reduce(0, +),
            lookupP50Nanoseconds: percentile(inTxn, 0.5), lookupP99Nanoseconds: percentile(inTxn, 0.99),
            lookupWithTransactionP50Nanoseconds: percentile(withTxn, 0.5),
            lookupWithTransactionP99Nanoseconds: percentile(withTxn, 0.99),
            draftP50Nanoseconds: percentile(drafts, 0.5), draftP99Nanoseconds: percentile(drafts, 0.99),
            lookupHitRate: Double(hits) / Double(lookups),
            memoryBandwidthGBPerSecond: bandwidthProbe())
        if args.flag("json") {
            context.print(try StoreCommand.json(report))
            return 0
        }
        let f = StoreCommand.format
        context.print("corpus:      \(tokenCount) synthetic tokens, vocabulary \(vocabulary), \(report.contexts) contexts stored")
        context.print("bandwidth:   \(f(report.memoryBandwidthGBPerSecond, 1)) GB/s (read probe)")
        context.print("counting:    \(f(countingRate / 1e6, 3)) M tokens/s wall, \(f(countingCPURate / 1e6, 3)) M per CPU-second (in memory only)")
        context.print("build:       \(f(buildRate / 1e6, 3)) M tokens/s wall, \(f(buildCPURate / 1e6, 3)) M per CPU-second, into LMDB = \(f(report.buildOverCountingRatio, 2))× counting alone (wall)")
        context.print("size:        \(stats.fileBytes) bytes = \(f(report.bytesPerToken, 2)) bytes per corpus token as built; \(f(report.compactedBytesPerToken, 2)) compacted (--compact); \(f(report.recordBytesPerToken, 2)) of keys and values")
        context.print("lookup:      p50 \(f(report.lookupP50Nanoseconds / 1000, 2)) µs, p99 \(f(report.lookupP99Nanoseconds / 1000, 2)) µs in an open read transaction (goal p50 ≤ 5 µs: \(report.lookupP50Nanoseconds <= 5000 ? "met" : "missed"); \(f(100 * report.lookupHitRate, 0)) % hits)")
        context.print("  + txn:     p50 \(f(report.lookupWithTransactionP50Nanoseconds / 1000, 2)) µs, p99 \(f(report.lookupWithTransactionP99Nanoseconds / 1000, 2)) µs with a read transaction per lookup (\(f(report.lookupWithTransactionP50Nanoseconds / report.lookupP50Nanoseconds, 2))× )")
        context.print("draft step:  p50 \(f(report.draftP50Nanoseconds / 1000, 2)) µs, p99 \(f(report.draftP99Nanoseconds / 1000, 2)) µs (store tier, up to 4 lookups and a tree)")
        return 0
    }

    /// Texts of 2 000 tokens: Zipf tokens and repeated phrases, deterministic.
    static func corpus(tokens: Int, vocabulary: Int) -> [[Int32]] {
        var rng = SplitMix64(seed: 42)
        var cdf = [Double](repeating: 0, count: vocabulary)
        var sum = 0.0
        for r in 0..<vocabulary {
            sum += 1 / pow(Double(r + 1), zipfExponent)
            cdf[r] = sum
        }
        func zipf() -> Int32 {
            let u = rng.unit() * sum
            var lo = 0, hi = vocabulary - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cdf[mid] < u { lo = mid + 1 } else { hi = mid }
            }
            return Int32(lo)
        }
        let phrases: [[Int32]] = (0..<phraseCount).map { _ in (0..<(4 + Int(rng.next() % 9))).map { _ in zipf() } }
        let textLength = 2000
        var texts: [[Int32]] = []
        var remaining = tokens
        while remaining > 0 {
            var text: [Int32] = []
            let length = min(textLength, remaining)
            while text.count < length {
                if rng.unit() < phraseShare {
                    text += phrases[Int(rng.next() % UInt64(phraseCount))].prefix(length - text.count)
                } else {
                    text.append(zipf())
                }
            }
            texts.append(text)
            remaining -= length
        }
        return texts
    }

    /// Single-thread read bandwidth in GB/s (the lookups run on one thread): the shared probe of
    /// `Kernels.MemoryBandwidth` (bytes per second), best of three passes over 256 MB.
    static func bandwidthProbe() -> Double {
        let probe = MemoryBandwidth.Probe(bytes: 256 << 20)
        let pool = ComputePool(threadCount: 1)
        return ((0..<3).map { _ in probe.pass(pool: pool) }.max() ?? 0) / 1e9
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// This process's CPU time in nanoseconds: rates that a busy shared machine does not distort.
    static func cpuNow() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func seconds(since start: UInt64) -> Double { max(Double(now() - start) / 1e9, 1e-9) }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

}
