import Foundation
import Kernels
import NGramStore

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
        body: { args, context in
            var options = StoreBenchmark.Options()
            options.tokens = try args.int("tokens", in: 1000...Int(Int32.max)) ?? options.tokens
            options.vocabulary = try args.int("vocabulary", in: 100...Int(Int32.max)) ?? options.vocabulary
            options.lookups = try args.int("lookups", in: 100...100_000_000) ?? options.lookups
            options.directory = args.value("dir") ?? options.directory
            let report = try StoreBenchmark.run(options, bandwidthProbe: {
                MemoryBandwidth.probe(pool: ComputePool(threadCount: 1), bytes: storeBandwidthProbeBytes,
                                      passes: storeBandwidthProbePasses) / 1e9
            }, progress: { context.progress($0) })
            context.endProgress()
            context.print(args.flag("json") ? try StoreCommand.json(report) : report.text)
            return 0
        })

    /// The bandwidth probe's buffer for `bench store`: well past the last-level cache, small
    /// enough to allocate beside the store.
    static let storeBandwidthProbeBytes = 256 << 20
    /// Probe passes; the best is kept (noise only ever slows a pass down).
    static let storeBandwidthProbePasses = 3
}

extension StoreBenchmark.Report {
    /// The figures in lines, with the lookup goal (p50 ≤ 5 µs) met or missed.
    var text: String {
        let f = StoreCommand.format
        return """
            corpus:      \(tokens) synthetic tokens, vocabulary \(vocabulary), \(contexts) contexts stored
            bandwidth:   \(f(memoryBandwidthGBPerSecond, 1)) GB/s (read probe)
            counting:    \(f(countingTokensPerSecond / 1e6, 3)) M tokens/s wall, \(f(countingTokensPerCPUSecond / 1e6, 3)) M per CPU-second (the in-memory table of store.learn)
            build:       \(f(buildTokensPerSecond / 1e6, 3)) M tokens/s wall, \(f(buildTokensPerCPUSecond / 1e6, 3)) M per CPU-second (store build: sorted runs appended into LMDB) = \(f(buildOverCountingRatio, 2))× the in-memory table (wall)
            size:        \(fileBytes) bytes = \(f(bytesPerToken, 2)) bytes per corpus token as built; \(f(compactedBytesPerToken, 2)) compacted (--compact); \(f(recordBytesPerToken, 2)) of keys and values
            lookup:      p50 \(f(lookupP50Nanoseconds / 1000, 2)) µs, p99 \(f(lookupP99Nanoseconds / 1000, 2)) µs in an open read transaction (goal p50 ≤ 5 µs: \(lookupP50Nanoseconds <= 5000 ? "met" : "missed"); \(f(100 * lookupHitRate, 0)) % hits)
              + txn:     p50 \(f(lookupWithTransactionP50Nanoseconds / 1000, 2)) µs, p99 \(f(lookupWithTransactionP99Nanoseconds / 1000, 2)) µs with a read transaction per lookup (\(f(lookupWithTransactionP50Nanoseconds / lookupP50Nanoseconds, 2))× )
            draft step:  p50 \(f(draftP50Nanoseconds / 1000, 2)) µs, p99 \(f(draftP99Nanoseconds / 1000, 2)) µs (store tier, up to 4 lookups and a tree)
            """
    }
}
