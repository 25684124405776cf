import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// `decograph bench store`: n-gram store build throughput, lookup latency and size on a synthetic
/// corpus (no tokenizer is needed): Zipf-distributed tokens interleaved with repeated phrases, so
/// contexts recur as they do in real text.
public enum StoreBenchmark {
    /// Share of the synthetic corpus drawn from repeated phrases rather than single Zipf tokens.
    static let phraseShare = 0.5
    /// Number of distinct phrases (4–12 tokens each) in the synthetic corpus.
    static let phraseCount = 5000
    /// Zipf exponent of the token distribution (word frequencies in natural text are near 1).
    static let zipfExponent = 1.1
    /// Tokens per synthetic text (a document of a few pages).
    static let textLength = 2000
    /// Most draft steps timed (each one walks up to 4 lookups and builds a tree).
    static let maximumDraftSamples = 50_000
    /// Tokens of context a timed draft step reads (a typical prompt-plus-output window).
    static let draftContextTokens = 200

    /// What to measure.
    public struct Options: Sendable {
        /// Corpus size in tokens.
        public var tokens = 1_000_000
        /// Vocabulary size.
        public var vocabulary = 32000
        /// Timed lookups.
        public var lookups = 200_000
        /// Where the temporary store is written (and removed).
        public var directory = FileManager.default.temporaryDirectory.path

        /// The defaults: a million tokens of a 32,000-token vocabulary, 200,000 lookups.
        public init() {}
    }

    /// The figures, with the JSON keys `bench store --json` prints.
    public struct Report: Codable, Sendable {
        /// Corpus tokens.
        public var tokens: Int
        /// Vocabulary size.
        public var vocabulary: Int
        /// In-memory counting alone (`NGramCounts`, the hash table of `store.learn` and the dynamic
        /// tier), tokens per wall second.
        public var countingTokensPerSecond: Double
        /// In-memory counting, tokens per CPU second.
        public var countingTokensPerCPUSecond: Double
        /// Building the LMDB store (`StoreBuilder`, the path of `store build`), tokens per wall second.
        public var buildTokensPerSecond: Double
        /// Building the store, tokens per CPU second.
        public var buildTokensPerCPUSecond: Double
        /// Build rate over counting rate (wall).
        public var buildOverCountingRatio: Double
        /// Store file size as built.
        public var fileBytes: Int
        /// File bytes per corpus token as built.
        public var bytesPerToken: Double
        /// File bytes per corpus token after compaction.
        public var compactedBytesPerToken: Double
        /// Key and value bytes per corpus token.
        public var recordBytesPerToken: Double
        /// Contexts stored.
        public var contexts: Int
        /// Lookup median in an open read transaction.
        public var lookupP50Nanoseconds: Double
        /// Lookup p99 in an open read transaction.
        public var lookupP99Nanoseconds: Double
        /// Lookup median with a read transaction per lookup.
        public var lookupWithTransactionP50Nanoseconds: Double
        /// Lookup p99 with a read transaction per lookup.
        public var lookupWithTransactionP99Nanoseconds: Double
        /// Median draft step from the store tier.
        public var draftP50Nanoseconds: Double
        /// p99 draft step from the store tier.
        public var draftP99Nanoseconds: Double
        /// Share of lookups that found the context.
        public var lookupHitRate: Double
        /// Single-thread read bandwidth, GB/s.
        public var memoryBandwidthGBPerSecond: Double
    }

    /// Runs the benchmark; the store and its compacted copy are removed afterwards, also on failure.
    /// - Parameters:
    ///   - options: corpus size, vocabulary, lookups and directory.
    ///   - bandwidthProbe: single-thread read bandwidth in GB/s (the lookups run on one thread),
    ///     called last, after the timed work (this module does not own the probe).
    ///   - progress: a line about the current phase.
    /// - Returns: the figures.
    /// - Throws: `NGramStoreError` when the store cannot be written or read.
    public static func run(_ options: Options, bandwidthProbe: () -> Double,
                           progress: (String) -> Void = { _ in }) throws -> Report {
        let tokenCount = options.tokens, vocabulary = options.vocabulary, lookups = options.lookups
        let path = (options.directory as NSString).appendingPathComponent("decograph-bench-\(getpid()).lmdb")
        defer {
            unlink(path)
            unlink(path + "-lock")
        }
        progress("generating \(tokenCount) tokens")
        let texts = corpus(tokens: tokenCount, vocabulary: vocabulary)

        // Counting alone in the in-memory table (`store.learn`'s path), for comparison.
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

        // The path of `store build`: sorted runs, appended into a fresh file.
        progress("building the store")
        start = now()
        cpuStart = cpuNow()
        let builder = try StoreBuilder(path: path, tokenizerFingerprint: "bench-synthetic")
        for text in texts { try builder.add(text) }
        _ = try builder.finish()
        let store = try NGramStore.open(at: path, tokenizerFingerprint: "bench-synthetic", options: .init(readOnly: true))
        let buildRate = Double(tokenCount) / seconds(since: start)
        let buildCPURate = Double(tokenCount) / max(Double(cpuNow() - cpuStart) / 1e9, 1e-9)
        let stats = try store.statistics(top: 0)
        let compactPath = path + ".compact"
        // writeCopy leaves nothing at compactPath when it fails; the defer removes the copy when
        // anything later fails.
        defer { unlink(compactPath) }
        try store.writeCopy(to: compactPath, compacting: true)
        let compactBytes = ((try? FileManager.default.attributesOfItem(atPath: compactPath)[.size]) as? Int) ?? 0

        progress("timing lookups")
        let timed = try timeQueries(store: store, texts: texts, lookups: lookups,
                                    shiftID: { ($0 &+ 7) % Int32(vocabulary) })
        return Report(
            tokens: tokenCount, vocabulary: vocabulary,
            countingTokensPerSecond: countingRate, countingTokensPerCPUSecond: countingCPURate,
            buildTokensPerSecond: buildRate, buildTokensPerCPUSecond: buildCPURate,
            buildOverCountingRatio: buildRate / countingRate,
            fileBytes: stats.fileBytes, bytesPerToken: stats.bytesPerToken,
            compactedBytesPerToken: Double(compactBytes) / Double(tokenCount),
            recordBytesPerToken: Double(stats.recordBytes) / Double(tokenCount),
            contexts: stats.contextsByLength.reduce(0, +),
            lookupP50Nanoseconds: timed.lookupP50Nanoseconds, lookupP99Nanoseconds: timed.lookupP99Nanoseconds,
            lookupWithTransactionP50Nanoseconds: timed.lookupWithTransactionP50Nanoseconds,
            lookupWithTransactionP99Nanoseconds: timed.lookupWithTransactionP99Nanoseconds,
            draftP50Nanoseconds: timed.draftP50Nanoseconds, draftP99Nanoseconds: timed.draftP99Nanoseconds,
            lookupHitRate: timed.lookupHitRate,
            memoryBandwidthGBPerSecond: bandwidthProbe())
    }

    /// Query latency of a built store (`bench store STORE FILES…`): lookups and store-tier draft
    /// steps of contexts taken from texts, as `run` times them on its synthetic corpus.
    public struct QueryReport: Codable, Sendable {
        /// The store's path.
        public var store: String
        /// Tokens the store was built from.
        public var storeTokens: Int
        /// Contexts stored.
        public var contexts: Int
        /// Store file size.
        public var fileBytes: Int
        /// File bytes per corpus token.
        public var bytesPerToken: Double
        /// Texts the contexts were taken from, and their tokens.
        public var texts: Int
        /// Tokens of those texts.
        public var textTokens: Int
        /// Lookups timed.
        public var lookups: Int
        /// Lookup median in an open read transaction.
        public var lookupP50Nanoseconds: Double
        /// Lookup p99 in an open read transaction.
        public var lookupP99Nanoseconds: Double
        /// Lookup median with a read transaction per lookup.
        public var lookupWithTransactionP50Nanoseconds: Double
        /// Lookup p99 with a read transaction per lookup.
        public var lookupWithTransactionP99Nanoseconds: Double
        /// Tokens of the text windows the draft steps read.
        public var draftWindowTokens: Int
        /// Median store-tier draft step on `draftWindowTokens`-token windows of the texts.
        public var draftP50Nanoseconds: Double
        /// p99 draft step.
        public var draftP99Nanoseconds: Double
        /// Share of lookups that found the context.
        public var lookupHitRate: Double
    }

    /// Times lookups and draft steps on a built store with contexts from `texts` (held-out text,
    /// encoded with the store's tokenizer). One lookup in four has its ids shifted past any
    /// vocabulary's end, a sure miss, as `run`'s shifted lookups are mostly misses.
    /// - Parameters:
    ///   - path: the store.
    ///   - texts: token texts; at least one of two tokens or more.
    ///   - lookups: timed lookups.
    /// - Returns: the figures.
    /// - Throws: `NGramStoreError` when the store cannot be read, or `invalidArgument` without a usable text.
    public static func measure(storeAt path: String, texts: [[Int32]], lookups: Int) throws -> QueryReport {
        let usable = texts.filter { $0.count >= 2 }
        guard !usable.isEmpty else {
            throw NGramStoreError(.invalidArgument, path: path, "no text of two tokens or more to take contexts from")
        }
        let store = try NGramStore.open(at: path, tokenizerFingerprint: nil, options: .init(readOnly: true))
        let stats = try store.statistics(top: 0)
        let timed = try timeQueries(store: store, texts: usable, lookups: lookups, shiftID: { $0 | missingIDBit })
        return QueryReport(
            store: path, storeTokens: Int(stats.tokensLearned), contexts: stats.contextsByLength.reduce(0, +),
            fileBytes: stats.fileBytes, bytesPerToken: stats.bytesPerToken,
            texts: usable.count, textTokens: usable.reduce(0) { $0 + $1.count }, lookups: lookups,
            lookupP50Nanoseconds: timed.lookupP50Nanoseconds, lookupP99Nanoseconds: timed.lookupP99Nanoseconds,
            lookupWithTransactionP50Nanoseconds: timed.lookupWithTransactionP50Nanoseconds,
            lookupWithTransactionP99Nanoseconds: timed.lookupWithTransactionP99Nanoseconds,
            draftWindowTokens: draftContextTokens,
            draftP50Nanoseconds: timed.draftP50Nanoseconds, draftP99Nanoseconds: timed.draftP99Nanoseconds,
            lookupHitRate: timed.lookupHitRate)
    }

    /// Set in a shifted id of `measure`: no tokenizer has 2^30 ids, so the context is a miss.
    static let missingIDBit: Int32 = 1 << 30

    /// Lookup and draft-step percentiles of `timeQueries`.
    struct QueryTimings {
        var lookupP50Nanoseconds, lookupP99Nanoseconds: Double
        var lookupWithTransactionP50Nanoseconds, lookupWithTransactionP99Nanoseconds: Double
        var draftP50Nanoseconds, draftP99Nanoseconds: Double
        var lookupHitRate: Double
    }

    /// Lookups of contexts of 1–4 tokens taken from `texts` (hits, as a drafter meets them) and,
    /// one in four, with every id passed through `shiftID` (mostly misses); each in an open read
    /// transaction and with its own; then store-tier draft steps on windows of `draftContextTokens`.
    /// - Parameters:
    ///   - store: the store, open.
    ///   - texts: token texts of two tokens or more.
    ///   - lookups: timed lookups (draft steps: at most `maximumDraftSamples`).
    ///   - shiftID: how a miss's ids are made.
    /// - Returns: the percentiles.
    static func timeQueries(store: NGramStore, texts: [[Int32]], lookups: Int,
                            shiftID: (Int32) -> Int32) throws -> QueryTimings {
        var rng = SplitMix64(seed: 7)
        let contexts: [TokenRun] = (0..<lookups).map { i in
            let text = texts[Int(rng.next() % UInt64(texts.count))]
            let n = 1 + Int(rng.next() % UInt64(min(4, text.count - 1)))
            let end = n + Int(rng.next() % UInt64(text.count - n))
            var run = TokenRun(text[(end - n)..<end])
            if i % 4 == 3 { run = TokenRun(run.map(shiftID)) }
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
        // own context length).
        var drafter = NGramDrafter()
        drafter.usesPromptLookup = false
        let draftSamples = min(lookups, maximumDraftSamples)
        var drafts = [Double](repeating: 0, count: draftSamples)
        try store.withReadTransaction { txn in
            for i in 0..<draftSamples {
                let text = texts[i % texts.count]
                let end = min(text.count, 4 + Int(rng.next() % UInt64(max(1, text.count - 4))))
                let slice = text[max(0, end - draftContextTokens)..<end]
                let t0 = now()
                _ = try drafter.draft(context: slice, store: txn)
                drafts[i] = Double(now() - t0)
            }
        }
        func percentile(_ values: [Double], _ q: Double) -> Double { Percentile.of(q, sorted: values.sorted()) }
        return QueryTimings(
            lookupP50Nanoseconds: percentile(inTxn, 0.5), lookupP99Nanoseconds: percentile(inTxn, 0.99),
            lookupWithTransactionP50Nanoseconds: percentile(withTxn, 0.5),
            lookupWithTransactionP99Nanoseconds: percentile(withTxn, 0.99),
            draftP50Nanoseconds: percentile(drafts, 0.5), draftP99Nanoseconds: percentile(drafts, 0.99),
            lookupHitRate: Double(hits) / Double(lookups))
    }

    /// Texts of `textLength` tokens: Zipf tokens and repeated phrases, deterministic.
    /// - Parameters:
    ///   - tokens: total tokens.
    ///   - vocabulary: vocabulary size.
    /// - Returns: the texts.
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
}
