import Foundation
import Kernels
import NGramStore

extension CommandSpec {
    /// `decograph bench store`: n-gram store build throughput, lookup latency and size.
    static let benchStore = CommandSpec(
        "store", abstract: "N-gram store: build throughput, lookup latency p50/p99, bytes per corpus token.",
        discussion: """
        Without STORE, builds a store from a synthetic corpus (no tokenizer is needed):
        Zipf-distributed tokens (s = 1.1, the slope of word frequencies in text) interleaved with
        repeated phrases, so contexts recur as they do in real text. With STORE and FILES (held-out
        text with --tokenizer, or token-id files), times lookups and store-tier draft steps on that
        built store, with contexts taken from FILES. Goals: lookup p99 ≤ 5 µs, draft step
        p99 ≤ 20 µs. Run on a release build.
        """,
        options: [.value("tokens", "N", help: "Corpus size in tokens, without STORE (default 1000000)."),
                  .value("vocabulary", "V", help: "Vocabulary size, without STORE (default 32000)."),
                  .value("lookups", "N", help: "Timed lookups (default 200000)."),
                  .value("dir", "DIR", help: "Where to write the temporary store, without STORE (default the system temporary directory)."),
                  .value("tokenizer", "PATH", help: "With STORE: model directory with tokenizer.json, or a GGUF file; FILES are text files."),
                  .flag("json", help: "Print JSON.")] + inputFileOptions,
        positionals: [PositionalSpec("STORE", optional: true, help: "A built LMDB store whose query latency is measured."),
                      PositionalSpec("FILES", optional: true, variadic: true, help: "With STORE: text (or token-id) files or directories the contexts are taken from.")],
        body: { args, context in
            if let store = args.positionals.first {
                return try benchBuiltStore(store, args, context)
            }
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

    /// `bench store STORE FILES…`: query latency of a built store, contexts from FILES.
    static func benchBuiltStore(_ store: String, _ args: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        guard args.positionals.count >= 2 else {
            throw UsageError("'bench store STORE' needs FILES to take contexts from (held-out text with --tokenizer, or token-id files).",
                             usage: args.usageLine)
        }
        let lookups = try args.int("lookups", in: 100...100_000_000) ?? StoreBenchmark.Options().lookups
        let inputs = try StoreInputs.from(args)
        context.progress("reading \(args.positionals.count - 1) inputs")
        let texts = try StoreCommand.texts(of: Array(args.positionals.dropFirst()), inputs, args, context)
        context.progress("timing lookups on \(store)")
        let report = try StoreBenchmark.measure(storeAt: store, texts: texts, lookups: lookups)
        context.endProgress()
        context.print(args.flag("json") ? try StoreCommand.json(report) : report.text)
        return 0
    }

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

extension StoreBenchmark.QueryReport {
    /// The figures in lines, with the goals (lookup p99 ≤ 5 µs, draft step p99 ≤ 20 µs) met or missed.
    var text: String {
        let f = StoreCommand.format
        func goal(_ nanoseconds: Double, _ limit: Double) -> String { nanoseconds <= limit ? "met" : "missed" }
        return """
            store:       \(store): \(storeTokens) tokens learned, \(contexts) contexts, \(fileBytes) bytes = \(f(bytesPerToken, 2)) bytes per corpus token
            contexts:    \(lookups) lookups of 1–4 tokens from \(texts) texts (\(textTokens) tokens), one in four with ids past the vocabulary
            lookup:      p50 \(f(lookupP50Nanoseconds / 1000, 2)) µs, p99 \(f(lookupP99Nanoseconds / 1000, 2)) µs in an open read transaction (goal p99 ≤ 5 µs: \(goal(lookupP99Nanoseconds, 5000)); \(f(100 * lookupHitRate, 0)) % hits)
              + txn:     p50 \(f(lookupWithTransactionP50Nanoseconds / 1000, 2)) µs, p99 \(f(lookupWithTransactionP99Nanoseconds / 1000, 2)) µs with a read transaction per lookup
            draft step:  p50 \(f(draftP50Nanoseconds / 1000, 2)) µs, p99 \(f(draftP99Nanoseconds / 1000, 2)) µs (store tier, \(draftWindowTokens)-token windows; goal p99 ≤ 20 µs: \(goal(draftP99Nanoseconds, 20000)))
            """
    }
}
