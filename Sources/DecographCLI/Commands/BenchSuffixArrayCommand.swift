import NGramStore

extension CommandSpec {
    /// `decograph bench suffix-array`: suffix-array store build, lookup and draft-step latency.
    static let benchSuffixArray = CommandSpec(
        "suffix-array", abstract: "Suffix-array store: build throughput and memory, lookup / longest-match / draft-step p50 and p99.",
        discussion: """
        With STORE, its corpus is sorted again (timed) and queried: lookups of contexts of 1 to
        the store's longest context taken from the corpus (one in four with shifted ids, mostly
        misses), at the share the strict gates ask for (as a draft step asks) and without it,
        and store-tier draft steps on 200-token windows of it. Without STORE, the
        synthetic corpus of 'bench store'. Goals: lookup p99 ≤ 5 µs, draft step p99 ≤ 20 µs.
        Run on a release build.
        """,
        options: [.value("tokens", "N", help: "Synthetic corpus size in tokens, without STORE (default 1000000)."),
                  .value("vocabulary", "V", help: "Synthetic vocabulary, without STORE (default 32000)."),
                  .value("lookups", "N", help: "Timed lookups (default 200000)."),
                  .value("dir", "DIR", help: "Where to write the rebuilt store (default the system temporary directory)."),
                  .flag("json", help: "Print JSON.")],
        positionals: [PositionalSpec("STORE", optional: true, help: "A suffix-array store whose corpus is measured.")],
        body: { args, context in
            var options = SuffixArrayBenchmark.Options()
            options.storePath = args.positionals.first
            options.common.tokens = try args.int("tokens", in: 1000...Int(Int32.max)) ?? options.common.tokens
            options.common.vocabulary = try args.int("vocabulary", in: 100...Int(Int32.max)) ?? options.common.vocabulary
            options.common.lookups = try args.int("lookups", in: 100...100_000_000) ?? options.common.lookups
            options.common.directory = args.value("dir") ?? options.common.directory
            let report = try SuffixArrayBenchmark.run(options) { context.progress($0) }
            context.endProgress()
            context.print(args.flag("json") ? try StoreCommand.json(report) : report.text)
            return 0
        })
}

extension SuffixArrayBenchmark.Report {
    /// The figures in lines, with the goals met or missed.
    var text: String {
        let f = StoreCommand.format
        func goal(_ nanoseconds: Double, _ limit: Double) -> String { nanoseconds <= limit ? "met" : "missed" }
        return """
            corpus:        \(corpus): \(tokens) tokens in \(documents) documents
            build:         \(f(buildSeconds, 2)) s to sort and write = \(f(buildTokensPerSecond / 1e6, 3)) M tokens/s wall, \(f(buildTokensPerCPUSecond / 1e6, 3)) M per CPU-second; peak memory +\(f(buildPeakBytesPerToken, 1)) bytes/token
            size:          \(f(bytesPerToken, 2)) bytes per corpus token
            lookup:        p50 \(f(lookupP50Nanoseconds / 1000, 2)) µs, p99 \(f(lookupP99Nanoseconds / 1000, 2)) µs at the strict gates' share (goal p99 ≤ 5 µs: \(goal(lookupP99Nanoseconds, 5000)); \(f(100 * lookupHitRate, 0)) % hits)
              all:         p50 \(f(lookupAllP50Nanoseconds / 1000, 2)) µs, p99 \(f(lookupAllP99Nanoseconds / 1000, 2)) µs for every continuation over 1/(counters + 1) (store query)
            longest match: p50 \(f(longestMatchP50Nanoseconds / 1000, 2)) µs, p99 \(f(longestMatchP99Nanoseconds / 1000, 2)) µs
            draft step:    p50 \(f(draftP50Nanoseconds / 1000, 2)) µs, p99 \(f(draftP99Nanoseconds / 1000, 2)) µs (goal p99 ≤ 20 µs: \(goal(draftP99Nanoseconds, 20000)); \(f(meanDraftNodes, 2)) nodes on average)
            """
    }
}
