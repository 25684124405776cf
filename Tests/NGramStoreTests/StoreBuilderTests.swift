import Foundation
import Testing
@testable import NGramStore

/// `StoreBuilder`, the path of `store build`: sorted runs, a k-way merge, an appended file renamed
/// into place. The in-memory table (`NGramCounts`) is the oracle.
@Suite struct StoreBuilderTests {
    static let fingerprint = "builder-vocab"

    /// Texts of a small vocabulary, so contexts recur, and of several lengths (one of 1 token).
    static func corpus(seed: UInt64, texts: Int = 12, vocabulary: Int = 40) -> [[Int32]] {
        var stream = TokenStream(seed: seed)
        return (0..<texts).map { i in stream.tokens(i == 3 ? 1 : 50 + 37 * i, vocabulary: vocabulary) }
    }

    static func records(_ path: String) throws -> [(TokenRun, ContinuationSummary)] {
        let store = try NGramStore.open(at: path, tokenizerFingerprint: nil, options: .init(readOnly: true))
        var out: [(TokenRun, ContinuationSummary)] = []
        try store.withReadTransaction { txn in
            try txn.forEachRecord { out.append(($0, $1)); return true }
        }
        return out
    }

    /// Options that keep every context (the oracle keeps all).
    static var keepAll: StoreBuilder.Options {
        var options = StoreBuilder.Options()
        options.singletonBudget = .max
        return options
    }

    static func build(_ path: String, _ texts: [[Int32]], parameters: NGramParameters = NGramParameters(),
                      options: StoreBuilder.Options = keepAll) throws -> StoreBuilder.Summary {
        let builder = try StoreBuilder(path: path, tokenizerFingerprint: fingerprint, parameters: parameters, options: options)
        for text in texts { try builder.add(text) }
        return try builder.finish()
    }

    /// With counters enough for every continuation, the sorted-run build and the in-memory table
    /// hold the same records, record for record, with exact counts.
    @Test func sortedRunsGiveTheRecordsOfTheInMemoryTable() throws {
        let dir = TemporaryDirectory()
        let parameters = NGramParameters(countersPerDepth: 255)
        let texts = Self.corpus(seed: 5)
        var oracle = NGramCounts(parameters: parameters)
        for text in texts { oracle.learn(text) }
        let summary = try Self.build(dir.path("s.lmdb"), texts, parameters: parameters)
        #expect(summary.runs == 1)
        let built = try Self.records(dir.path("s.lmdb"))
        let expected = oracle.sortedRecords()
        #expect(built.count == expected.count)
        for (b, e) in zip(built, expected) {
            #expect(b.0 == e.context)
            #expect(b.1 == e.summary, "\(b.0)")
        }
        let store = try NGramStore.open(at: dir.path("s.lmdb"), tokenizerFingerprint: Self.fingerprint)
        #expect(store.metadata.formatVersion == 2)
        #expect(try store.withReadTransaction { $0.tokensLearned } == UInt64(texts.map(\.count).reduce(0, +)))
    }

    /// A tiny memory budget cuts the corpus (and texts) into many runs; merging them gives the
    /// same store as one run.
    @Test func aTinyMemoryBudgetMakesManyRunsAndTheSameStore() throws {
        let dir = TemporaryDirectory()
        let parameters = NGramParameters(countersPerDepth: 255)
        let texts = Self.corpus(seed: 8)
        _ = try Self.build(dir.path("one.lmdb"), texts, parameters: parameters)
        var tiny = Self.keepAll
        tiny.runTokens = 97  // shorter than most texts: windows cross the cuts
        let summary = try Self.build(dir.path("many.lmdb"), texts, parameters: parameters, options: tiny)
        #expect(summary.runs > 10)
        let one = try Self.records(dir.path("one.lmdb")), many = try Self.records(dir.path("many.lmdb"))
        #expect(one.count == many.count)
        #expect(zip(one, many).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 })
    }

    /// With few counters, merged runs keep the Misra–Gries guarantees against exact counts: no
    /// count above the truth, none short of it by more than total / (k + 1).
    @Test func mergedRunsKeepTheSummaryGuarantees() throws {
        let dir = TemporaryDirectory()
        let k = 2
        let texts = Self.corpus(seed: 13, texts: 20, vocabulary: 12)
        // Exact counts: context → (total, prefix → count).
        var exact: [TokenRun: (total: UInt32, counts: [TokenRun: UInt32])] = [:]
        for text in texts where text.count >= 2 {
            for i in 1..<text.count {
                for n in 1...min(4, i) {
                    let context = TokenRun(text[(i - n)..<i])
                    exact[context, default: (0, [:])].total += 1
                    for d in 1...min(4, text.count - i) { exact[context]!.counts[TokenRun(text[i..<(i + d)]), default: 0] += 1 }
                }
            }
        }
        var options = Self.keepAll
        options.runTokens = 150
        _ = try Self.build(dir.path("s.lmdb"), texts, parameters: NGramParameters(countersPerDepth: k), options: options)
        var checked = 0
        for (context, summary) in try Self.records(dir.path("s.lmdb")) {
            let truth = try #require(exact[context])
            #expect(summary.total == truth.total)
            for (tokens, count) in truth.counts {
                let stored = summary.count(of: tokens)
                #expect(stored <= count)
                #expect(Double(count - stored) <= Double(truth.total) / Double(k + 1), "\(context) → \(tokens)")
                checked += 1
            }
        }
        #expect(checked > 1000)

        // One run: exact counts cut once, record for record what the summary's own cut makes.
        _ = try Self.build(dir.path("one.lmdb"), texts, parameters: NGramParameters(countersPerDepth: k))
        var compared = 0
        for (context, summary) in try Self.records(dir.path("one.lmdb")) {
            let truth = try #require(exact[context])
            var expected = ContinuationSummary()
            expected.total = truth.total
            expected.entries = truth.counts.map { .init(tokens: $0.key, count: $0.value) }
            expected.prune(countersPerDepth: k)
            #expect(summary == expected, "\(context)")
            compared += 1
        }
        #expect(compared == exact.count)
    }

    struct Interrupted: Error {}

    /// A build that fails while writing (a kill, simulated by a throw) leaves no store at a new
    /// output, an existing output as it was, and no temporary files.
    @Test func anInterruptedBuildLeavesNoStoreThatLooksComplete() throws {
        let dir = TemporaryDirectory()
        var failing = Self.keepAll
        failing.onRecordWritten = { if $0 == 50 { throw Interrupted() } }
        #expect(throws: Interrupted.self) { try Self.build(dir.path("new.lmdb"), Self.corpus(seed: 1), options: failing) }
        let missing = #expect(throws: NGramStoreError.self) {
            try NGramStore.open(at: dir.path("new.lmdb"), tokenizerFingerprint: nil)
        }
        #expect(missing?.code == .notFound)

        _ = try Self.build(dir.path("old.lmdb"), Self.corpus(seed: 2))
        let before = try Self.records(dir.path("old.lmdb"))
        #expect(throws: Interrupted.self) { try Self.build(dir.path("old.lmdb"), Self.corpus(seed: 3), options: failing) }
        let after = try Self.records(dir.path("old.lmdb"))
        #expect(before.count == after.count && zip(before, after).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 })
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
        #expect(left == ["old.lmdb", "old.lmdb-lock"])
    }

    /// What a killed build leaves (its run directory, its unfinished store) is removed by the
    /// next build once that process is gone.
    @Test func theNextBuildRemovesWhatAKilledBuildLeft() throws {
        let dir = TemporaryDirectory()
        // A pid above the kernel's default pid_max for 32-bit (32 768) and unlikely to be live.
        var dead: Int32 = 4_000_000
        while kill(dead, 0) == 0 || errno != ESRCH { dead += 1 }
        let runs = StoreBuilder.runDirectory(for: dir.path("s.lmdb"), in: nil, pid: dead)
        try FileManager.default.createDirectory(atPath: runs, withIntermediateDirectories: false)
        #expect(FileManager.default.createFile(atPath: runs + "/run-00000", contents: Data([1, 2, 3])))
        #expect(FileManager.default.createFile(atPath: dir.path("s.lmdb.tmp-\(dead)"), contents: Data([9])))
        _ = try Self.build(dir.path("s.lmdb"), Self.corpus(seed: 4))
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
        #expect(left.filter { !$0.hasSuffix("-lock") } == ["s.lmdb"])
    }

    /// Adding to a store adds the counts; when the store is open (here in this process) it is
    /// added to in transactions instead of replaced.
    @Test func addingToAStoreSumsAndAnOpenStoreIsAddedToInTransactions() throws {
        let dir = TemporaryDirectory()
        let parameters = NGramParameters(countersPerDepth: 255)
        let a = Self.corpus(seed: 21), b = Self.corpus(seed: 22)
        var oracle = NGramCounts(parameters: parameters)
        for text in a + b { oracle.learn(text) }
        _ = try Self.build(dir.path("s.lmdb"), a, parameters: parameters)
        let added = try Self.build(dir.path("s.lmdb"), b, parameters: parameters)
        #expect(!added.addedInTransactions)
        let built = try Self.records(dir.path("s.lmdb"))
        #expect(built.count == oracle.contextCount)
        #expect(built.allSatisfy { oracle.continuations(of: $0.0)?.total == $0.1.total })

        let open = try NGramStore.open(at: dir.path("s.lmdb"), tokenizerFingerprint: Self.fingerprint)
        let again = try Self.build(dir.path("s.lmdb"), a, parameters: parameters)
        #expect(again.addedInTransactions)
        try open.withReadTransaction { txn in
            #expect(txn.tokensLearned == UInt64((a + b + a).map(\.count).reduce(0, +)))
            let context = TokenRun(a[0].prefix(2))
            let first = try #require(try txn.continuations(of: context))
            #expect(first.total == (oracle.continuations(of: context)?.total ?? 0) + Self.count(a, context, parameters))
        }
    }

    static func count(_ texts: [[Int32]], _ context: TokenRun, _ parameters: NGramParameters) -> UInt32 {
        var counts = NGramCounts(parameters: parameters)
        for text in texts { counts.learn(text) }
        return counts.continuations(of: context)?.total ?? 0
    }

    /// Contexts seen once beyond the budget are left out, the shortest kept first; the minimum
    /// total drops rarer ones.
    @Test func singletonBudgetKeepsTheShortestContextsSeenOnce() throws {
        let dir = TemporaryDirectory()
        let texts = Self.corpus(seed: 30, vocabulary: 200)
        _ = try Self.build(dir.path("all.lmdb"), texts)
        var budget = StoreBuilder.Options()
        budget.singletonBudget = 100
        let summary = try Self.build(dir.path("budget.lmdb"), texts, options: budget)
        let all = try Self.records(dir.path("all.lmdb")), kept = try Self.records(dir.path("budget.lmdb"))
        let singletons = all.filter { $0.1.total == 1 }
        #expect(singletons.count > 100)
        #expect(kept.filter { $0.1.total == 1 }.map(\.0) == Array(singletons.prefix(100).map(\.0)))
        #expect(kept.filter { $0.1.total > 1 }.count == all.count - singletons.count)
        #expect(summary.pruned == singletons.count - 100)
        // The default: one singleton per two tokens.
        _ = try Self.build(dir.path("default.lmdb"), texts, options: StoreBuilder.Options())
        let tokens = texts.map(\.count).reduce(0, +)
        #expect(try Self.records(dir.path("default.lmdb")).filter { $0.1.total == 1 }.count == min(singletons.count, tokens / 2))
        var minimum = Self.keepAll
        minimum.minimumTotal = 3
        _ = try Self.build(dir.path("min.lmdb"), texts, options: minimum)
        #expect(try Self.records(dir.path("min.lmdb")).map(\.0) == all.filter { $0.1.total >= 3 }.map(\.0))
    }

    /// A store of format version 1 (before variable-length keys and trie values) still opens,
    /// reads and learns in version 1; `store merge` into a new file, or a build adding to it,
    /// writes version 2 with the same records.
    @Test func aVersion1StoreOpensLearnsAndConverts() throws {
        let dir = TemporaryDirectory()
        let old = dir.path("v1.lmdb")
        let texts = Self.corpus(seed: 40)
        var oracle = NGramCounts()
        for text in texts { oracle.learn(text) }
        do {
            var options = NGramStore.Options()
            options.formatVersion = 1
            let store = try NGramStore.create(at: old, tokenizerFingerprint: Self.fingerprint, options: options)
            var learner = StoreLearner(store: store)
            for text in texts { try learner.learn(tokens: text) }
            try learner.flush()
        }
        let v1: [(TokenRun, ContinuationSummary)]
        let converted = dir.path("v2.lmdb")
        do {
            let reopened = try NGramStore.open(at: old, tokenizerFingerprint: Self.fingerprint)
            #expect(reopened.metadata.formatVersion == 1)
            let expected = oracle.sortedRecords()
            v1 = try Self.records(old)
            #expect(v1.count == expected.count && zip(v1, expected).allSatisfy { $0.0 == $1.context && $0.1 == $1.summary })
            try NGramStore.merge([reopened], into: converted)
        }
        #expect(try NGramStore.open(at: converted, tokenizerFingerprint: nil).metadata.formatVersion == 2)
        let v2 = try Self.records(converted)
        #expect(v2.count == v1.count && zip(v1, v2).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 })

        // Closed, the old store is replaced by a version-2 one holding both corpora.
        let more = Self.corpus(seed: 41)
        let builder = try StoreBuilder(path: dir.path("v1.lmdb"), tokenizerFingerprint: Self.fingerprint, options: Self.keepAll)
        for text in more { try builder.add(text) }
        _ = try builder.finish()
        let both = try NGramStore.open(at: old, tokenizerFingerprint: nil)
        #expect(both.metadata.formatVersion == 2)
        try both.withReadTransaction { txn in
            #expect(txn.tokensLearned == UInt64((texts + more).map(\.count).reduce(0, +)))
        }
    }

    /// A run large enough to be scanned on two threads emits the same records, in the same
    /// order, as one thread.
    @Test func theTwoThreadScanEmitsWhatOneThreadDoes() throws {
        let dir = TemporaryDirectory()
        var counter = WindowCounter(parameters: NGramParameters())
        var stream = TokenStream(seed: 50)
        let text = stream.tokens(WindowCounter.parallelScanItems + 5000, vocabulary: 300)
        counter.add(text[...], owned: text.count)
        func records(_ spill: String?) throws -> [[UInt8]] {
            var out: [[UInt8]] = []
            try counter.emitRecords(spillDirectory: spill) { key, value in out.append(Array(key) + [0xFF] + Array(value)) }
            return out
        }
        let one = try records(nil), two = try records(dir.url.path)
        #expect(one.count > WindowCounter.parallelScanItems)
        #expect(one == two)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).isEmpty)
    }

    /// A sort large enough to order its ranges on two threads orders the windows as one
    /// comparison sort of their tokens would (a small vocabulary makes long ranges of equal first
    /// tokens, the ones the threads share out).
    @Test func theTwoThreadSortOrdersTheWindows() {
        var stream = TokenStream(seed: 51)
        let tokens = stream.tokens(WindowCounter.parallelSortItems + 3000, vocabulary: 40).map { UInt32($0) }
        let window = 8
        var items = (0..<(tokens.count - 1)).map { j in
            WindowCounter.Item(prefix: UInt64(tokens[j]) << 32 | UInt64(tokens[j + 1]), position: UInt32(j),
                               length: UInt32(min(window, tokens.count - j)))
        }
        func contents(_ item: WindowCounter.Item) -> [UInt32] { Array(tokens[Int(item.position)..<(Int(item.position) + Int(item.length))]) }
        let expected = items.map(contents).sorted { $0.lexicographicallyPrecedes($1) }
        tokens.withUnsafeBufferPointer { t in items.withUnsafeMutableBufferPointer { WindowCounter.sort($0, tokens: t) } }
        #expect(items.count > WindowCounter.parallelSortItems)
        #expect(items.map(contents) == expected)
    }

    /// The same as a real kill: a build SIGKILLed while writing its new file leaves no store
    /// that opens at a new output, an existing output with exactly its records, and leftovers
    /// that the next build removes.
    @Test func aBuildKilledWhileWritingLeavesTheOutputAsItWas() throws {
        let dir = TemporaryDirectory()
        let fresh = dir.path("fresh.lmdb")
        let helper = try HelperProcess(["build", fresh, "20"])
        #expect(helper.line() == "writing")
        kill(helper.pid, SIGKILL)
        #expect(helper.finish().status == 128 + SIGKILL)
        let error = #expect(throws: NGramStoreError.self) { try NGramStore.open(at: fresh, tokenizerFingerprint: nil) }
        #expect(error?.code == .notAStore || error?.code == .notFound)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).contains { $0.contains(".tmp-\(helper.pid)") })
        // The next build starts over on the empty file and removes the killed one's leftovers.
        let builder = try StoreBuilder(path: fresh, tokenizerFingerprint: "helper-fingerprint", options: Self.keepAll)
        try builder.add([1, 2, 3])
        _ = try builder.finish()
        #expect(try NGramStore.open(at: fresh, tokenizerFingerprint: nil).recordCount().tokensLearned == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted() == ["fresh.lmdb", "fresh.lmdb-lock"])

        let existing = dir.path("existing.lmdb")
        let first = try StoreBuilder(path: existing, tokenizerFingerprint: "helper-fingerprint", options: Self.keepAll)
        for text in Self.corpus(seed: 60) { try first.add(text) }
        let before = try first.finish()
        let records = try Self.records(existing)
        let adding = try HelperProcess(["build", existing, "20"])
        #expect(adding.line() == "writing")
        kill(adding.pid, SIGKILL)
        #expect(adding.finish().status == 128 + SIGKILL)
        let after = try Self.records(existing)
        #expect(after.count == records.count && zip(after, records).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 })
        #expect(try NGramStore.open(at: existing, tokenizerFingerprint: nil).recordCount().tokensLearned == before.tokens)
    }
}
