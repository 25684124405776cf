import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// `decograph bench suffix-array`: build throughput and memory, lookup, longest-match and draft-step
/// latency of a suffix-array store, on a store's own corpus (`Options.storePath`) or on
/// `StoreBenchmark`'s synthetic corpus.
public enum SuffixArrayBenchmark {
    /// What to measure.
    public struct Options: Sendable {
        /// A suffix-array store whose corpus is rebuilt and queried; `nil` for the synthetic corpus.
        public var storePath: String?
        /// The synthetic corpus (without a store), the number of timed lookups, and where the
        /// rebuilt store is written (and removed), as `bench store` takes them.
        public var common = StoreBenchmark.Options()

        /// The defaults: the synthetic corpus of `bench store`, 200,000 lookups.
        public init() {}
    }

    /// The figures, with the JSON keys `bench suffix-array --json` prints.
    public struct Report: Codable, Sendable {
        /// Where the corpus came from (a store's path, or "synthetic").
        public var corpus: String
        /// Tokens in the suffix array, separators included.
        public var tokens: Int
        /// Documents.
        public var documents: Int
        /// Sorting the suffixes and writing the file, wall seconds.
        public var buildSeconds: Double
        /// Tokens sorted and written per wall second.
        public var buildTokensPerSecond: Double
        /// Tokens sorted and written per CPU-second.
        public var buildTokensPerCPUSecond: Double
        /// How much the process's peak resident memory grew during the build, per corpus token.
        public var buildPeakBytesPerToken: Double
        /// The file's bytes per corpus token.
        public var bytesPerToken: Double
        /// Median `continuations(of:minimumShare:)` for a context of 1…longest tokens at the share
        /// the default (strict) gates ask for that length, as a draft step asks, in nanoseconds.
        public var lookupP50Nanoseconds: Double
        /// Its 99th percentile.
        public var lookupP99Nanoseconds: Double
        /// Median lookup of every continuation over 1 / (countersPerDepth + 1) (no share gate, as
        /// `store query` asks), in nanoseconds.
        public var lookupAllP50Nanoseconds: Double
        /// Its 99th percentile.
        public var lookupAllP99Nanoseconds: Double
        /// Share of those lookups that found the context.
        public var lookupHitRate: Double
        /// Median time to find the longest suffix of a window seen as often as the strict gates'
        /// smallest sample count, in nanoseconds.
        public var longestMatchP50Nanoseconds: Double
        /// Its 99th percentile.
        public var longestMatchP99Nanoseconds: Double
        /// Median store-tier draft step (longest match, summaries, tree), in nanoseconds.
        public var draftP50Nanoseconds: Double
        /// Its 99th percentile.
        public var draftP99Nanoseconds: Double
        /// Mean nodes of the drafted trees.
        public var meanDraftNodes: Double
    }

    /// Runs the benchmark.
    /// - Parameters:
    ///   - options: the corpus and the number of lookups.
    ///   - progress: a line about the current phase.
    /// - Returns: the figures.
    /// - Throws: `NGramStoreError` when the store cannot be read or written.
    public static func run(_ options: Options, progress: (String) -> Void = { _ in }) throws -> Report {
        var documents: [[Int32]] = []
        var builder: SuffixArrayBuilder
        if let path = options.storePath {
            progress("reading \(path)")
            let source = try SuffixArrayStore.open(at: path, tokenizerFingerprint: nil)
            builder = try SuffixArrayBuilder(tokenizerFingerprint: source.header.tokenizerFingerprint, parameters: source.header.parameters)
            source.forEachDocument { documents.append($0) }
        } else {
            progress("generating \(options.common.tokens) tokens")
            builder = try SuffixArrayBuilder(tokenizerFingerprint: "bench-synthetic")
            documents = StoreBenchmark.corpus(tokens: options.common.tokens, vocabulary: options.common.vocabulary)
        }
        for d in documents { try builder.add(d) }
        documents.removeAll { $0.count < 2 }
        guard !documents.isEmpty else {
            throw NGramStoreError(.invalidArgument, path: options.storePath ?? "", "the corpus has no document of two tokens or more to query")
        }

        progress("sorting the suffixes of \(builder.tokenCount) tokens")
        let path = (options.common.directory as NSString).appendingPathComponent("decograph-bench-\(getpid()).sa")
        defer { unlink(path) }
        let peakBefore = peakResidentBytes()
        let start = StoreBenchmark.now(), cpuStart = StoreBenchmark.cpuNow()
        let header = try builder.write(to: path)
        let buildSeconds = StoreBenchmark.seconds(since: start)
        let buildCPUSeconds = max(Double(StoreBenchmark.cpuNow() - cpuStart) / 1e9, 1e-9)
        let peakGrowth = peakResidentBytes() - peakBefore
        builder = try SuffixArrayBuilder(tokenizerFingerprint: header.tokenizerFingerprint)
        let store = try SuffixArrayStore.open(at: path, tokenizerFingerprint: nil)

        progress("timing lookups")
        var rng = SplitMix64(seed: 7)
        func window(_ length: Int) -> ArraySlice<Int32> {
            let text = documents[Int(rng.next() % UInt64(documents.count))]
            let end = 1 + Int(rng.next() % UInt64(text.count - 1))
            return text[max(0, end - length)..<end]
        }
        // Contexts from the corpus (hits) and, one in four, shifted ids (mostly misses).
        let contexts: [[Int32]] = (0..<options.common.lookups).map { i in
            let context = Array(window(1 + Int(rng.next() % UInt64(store.longestContext))))
            return i % 4 == 3 ? context.map { $0 &+ 7 } : context
        }
        let gates = NGramDrafter().storeGates
        var lookups = [Double](repeating: 0, count: contexts.count)
        var lookupsAll = [Double](repeating: 0, count: contexts.count)
        var hits = 0
        for (i, c) in contexts.enumerated() {
            let t0 = StoreBenchmark.now()
            let found = try store.continuations(of: c[...], minimumShare: gates.share(forContextLength: c.count))
            lookups[i] = Double(StoreBenchmark.now() - t0)
            if found != nil { hits += 1 }
            let t1 = StoreBenchmark.now()
            _ = try store.continuations(of: c[...])
            lookupsAll[i] = Double(StoreBenchmark.now() - t1)
        }
        let windows = (0..<min(options.common.lookups, StoreBenchmark.maximumDraftSamples)).map { _ in window(StoreBenchmark.draftContextTokens) }
        var longest = [Double](repeating: 0, count: windows.count)
        for (i, w) in windows.enumerated() {
            let t0 = StoreBenchmark.now()
            _ = try store.longestSuffix(of: w, upTo: store.longestContext, occurringAtLeast: gates.minSamples.min() ?? 1)
            longest[i] = Double(StoreBenchmark.now() - t0)
        }
        var drafter = NGramDrafter()
        drafter.usesPromptLookup = false
        var drafts = [Double](repeating: 0, count: windows.count)
        var nodes = 0
        for (i, w) in windows.enumerated() {
            let t0 = StoreBenchmark.now()
            let tree = try drafter.draft(context: w, store: store)
            drafts[i] = Double(StoreBenchmark.now() - t0)
            nodes += tree.count
        }
        func percentile(_ values: [Double], _ q: Double) -> Double { Percentile.of(q, sorted: values.sorted()) }
        return Report(
            corpus: options.storePath ?? "synthetic", tokens: header.tokenCount, documents: header.documentCount,
            buildSeconds: buildSeconds, buildTokensPerSecond: Double(header.tokenCount) / buildSeconds,
            buildTokensPerCPUSecond: Double(header.tokenCount) / buildCPUSeconds,
            buildPeakBytesPerToken: Double(peakGrowth) / Double(max(1, header.tokenCount)),
            bytesPerToken: Double(header.fileSize) / Double(max(1, header.tokenCount)),
            lookupP50Nanoseconds: percentile(lookups, 0.5), lookupP99Nanoseconds: percentile(lookups, 0.99),
            lookupAllP50Nanoseconds: percentile(lookupsAll, 0.5), lookupAllP99Nanoseconds: percentile(lookupsAll, 0.99),
            lookupHitRate: Double(hits) / Double(contexts.count),
            longestMatchP50Nanoseconds: percentile(longest, 0.5), longestMatchP99Nanoseconds: percentile(longest, 0.99),
            draftP50Nanoseconds: percentile(drafts, 0.5), draftP99Nanoseconds: percentile(drafts, 0.99),
            meanDraftNodes: Double(nodes) / Double(windows.count))
    }

    /// This process's peak resident memory (`ru_maxrss`, KiB on Linux), in bytes.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}
