import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Builds a store from a corpus fast and in bounded memory (`store build`):
///
/// 1. **Runs.** Texts are collected until `Options.memoryBytes` would be exceeded; the run is
///    then counted by sorting its windows (`WindowCounter`) and written to a temporary file in
///    key order.
/// 2. **Merge.** The runs (and the records of the store being added to, when it exists) are
///    merged k ways in key order; equal contexts are merged as Misra–Gries summaries (Agarwal
///    et al.), so the store's guarantees hold whatever the number of runs.
/// 3. **Write.** The merged records go into a fresh LMDB file in key order with `MDB_APPEND`
///    (pages filled whole, no free pages), which is synced and renamed over the output only when
///    complete: a killed build leaves the output as it was (or absent) and temporary files that
///    the next build removes.
///
/// When the output is open in another process (a learning run), it cannot be replaced; the
/// records are then written to a temporary store first and merged into the output in write
/// transactions (`NGramStore.merge(from:)`), as `store merge` does: each commit is whole, a kill
/// leaves the batches committed before it.
public final class StoreBuilder {
    /// How to build.
    public struct Options: Sendable {
        /// Memory for the counting runs, in bytes: a run holds `memoryBytes /
        /// WindowCounter.bytesPerToken(window:)` tokens (52 bytes each with the default lengths). The
        /// default 512 MiB holds runs of about 10 M tokens; the process needs some tens of MB
        /// more (tokenizer, LMDB batches).
        public var memoryBytes: Int
        /// Where runs are spilled; `nil` puts them beside the output (the same file system, which
        /// has room for the store anyway).
        public var temporaryDirectory: String?
        /// Contexts seen fewer times are left out of the written store.
        public var minimumTotal: UInt32
        /// Contexts seen exactly once that are kept, in key order (shorter contexts first); `nil`
        /// is `defaultSingletonsPerToken` per token the store holds, `Int.max` keeps all. See
        /// docs/ngram-store.md, "Pruning".
        public var singletonBudget: Int?
        /// Records per write transaction when the output is open elsewhere and is added to in
        /// transactions.
        public var batchContexts = StoreLearner.defaultBatchContexts
        /// Tokens per run, overriding the memory budget (tests force many runs with it).
        var runTokens: Int?
        /// Called after each record written to the new file, with the records written so far
        /// (progress); a throw abandons the build, leaving the output as it was.
        public var onRecordWritten: (@Sendable (Int) throws -> Void)?

        /// Creates options.
        /// - Parameters:
        ///   - memoryBytes: memory for the counting runs.
        ///   - temporaryDirectory: where runs are spilled (`nil`: beside the output).
        ///   - minimumTotal: contexts seen fewer times are left out.
        ///   - singletonBudget: contexts seen once that are kept (`nil`: all).
        public init(memoryBytes: Int = StoreBuilder.defaultMemoryBytes, temporaryDirectory: String? = nil,
                    minimumTotal: UInt32 = 1, singletonBudget: Int? = nil) {
            self.memoryBytes = memoryBytes
            self.temporaryDirectory = temporaryDirectory
            self.minimumTotal = minimumTotal
            self.singletonBudget = singletonBudget
        }
    }

    /// Contexts seen once kept per token of the store, by default. Singletons are most of a
    /// corpus's records (69 %, 992 k of the CPython standard library's 1.44 M) and half its bytes,
    /// and no store-tier gate preset but `lax` (1 sample at lengths 3 and 4) can use them. One per
    /// two tokens keeps, shortest first, every singleton of length 1…3 there (444 k for 1.24 M
    /// tokens) — the ones a learning store is likeliest to see again — and drops the longest.
    public static let defaultSingletonsPerToken = 0.5

    /// Default memory budget for counting: 512 MiB, room for runs of about 10 M tokens.
    public static let defaultMemoryBytes = 512 << 20
    /// Smallest run: below this, the per-run file and merge costs dominate.
    static let minimumRunTokens = 1024
    /// Bytes of records per write transaction: LMDB keeps a transaction's dirty pages in memory,
    /// so this bounds the writer's memory; large enough that commits are few.
    static let appendBatchBytes = 32 << 20

    /// What a finished build did.
    public struct Summary: Sendable {
        /// Tokens counted by this build.
        public var tokens: UInt64
        /// Sorted runs the corpus was counted in.
        public var runs: Int
        /// Records written (the store's contexts, after pruning).
        public var records: Int
        /// Contexts left out for `minimumTotal` or the singleton budget.
        public var pruned: Int
        /// Whether the output was open elsewhere, so the records were added in transactions.
        public var addedInTransactions: Bool
    }

    /// The output store's path.
    public let path: String
    let fingerprint: String
    public let parameters: NGramParameters
    let options: Options
    let runDirectory: String
    private var counter: WindowCounter
    private let runTokens: Int
    private var runPaths: [String] = []
    private var tokens: UInt64 = 0
    private var finished = false

    /// Prepares a build; checks an existing output's tokenizer and parameters before any counting.
    /// - Parameters:
    ///   - path: the store to create or add to.
    ///   - tokenizerFingerprint: the vocabulary fingerprint.
    ///   - parameters: what is counted (an existing store must count the same).
    ///   - options: memory, pruning, temporary directory.
    /// - Throws: `NGramStoreError` (`.tokenizerMismatch`, `.parametersMismatch`, `.notAStore`…).
    public init(path: String, tokenizerFingerprint: String, parameters: NGramParameters = NGramParameters(),
                options: Options = Options()) throws {
        try parameters.validate(path: path)
        self.path = path
        fingerprint = tokenizerFingerprint
        self.parameters = parameters
        self.options = options
        Self.removeStaleTemporaries(for: path, in: options.temporaryDirectory)
        var info = stat()
        if stat(path, &info) == 0, info.st_size > 0 {
            // Opened for writing: an output this process may not write is refused now, naming
            // the file, not after the counting.
            let existing = try NGramStore.open(at: path, tokenizerFingerprint: tokenizerFingerprint)
            try existing.requireParameters(parameters)
        }
        runDirectory = Self.runDirectory(for: path, in: options.temporaryDirectory, pid: getpid())
        guard mkdir(runDirectory, 0o700) == 0 || errno == EEXIST else {
            throw NGramStoreError.system(errno, path: runDirectory, doing: "creating the build's temporary directory")
        }
        counter = WindowCounter(parameters: parameters)
        let window = parameters.contextLength + parameters.continuationLength
        runTokens = min(WindowCounter.maximumRunTokens(window: window),
                        options.runTokens.map { max(1, $0) }
                            ?? max(Self.minimumRunTokens, options.memoryBytes / WindowCounter.bytesPerToken(window: window)))
    }

    deinit { removeRuns() }

    /// Counts one whole text (contexts never span two texts).
    /// - Parameter text: the text's token ids.
    /// - Throws: `NGramStoreError` when a full run cannot be written.
    public func add(_ text: [Int32]) throws {
        tokens += UInt64(text.count)
        // A window reads `window - 1` tokens past its position: a piece of a long text carries
        // them along, so cutting a text between runs loses no n-gram.
        let overlap = counter.window - 1
        var start = 0
        while start < text.count {
            if counter.ownedTokens >= runTokens { try spill() }
            let owned = min(text.count - start, runTokens - counter.ownedTokens)
            counter.add(text[start..<min(text.count, start + owned + overlap)], owned: owned)
            start += owned
        }
    }

    /// Tokens added so far.
    public var tokensAdded: UInt64 { tokens }
    /// Runs written so far.
    public var runCount: Int { runPaths.count }

    /// Counts the pending run into a new run file.
    private func spill() throws {
        guard !counter.isEmpty else { return }
        let runPath = (runDirectory as NSString).appendingPathComponent(String(format: "run-%05d", runPaths.count))
        let writer = try RunFile.Writer(path: runPath)
        runPaths.append(runPath)
        try counter.emitRecords(spillDirectory: runDirectory) { key, value in try writer.append(key: key, value: value) }
        try writer.flush()
        counter.removeAll()
    }

    /// Merges the runs into the output and removes the temporary files.
    /// - Returns: what was built.
    /// - Throws: `NGramStoreError` (`.inUse` never: an output open elsewhere is added to in
    ///   transactions); the output is unchanged when it throws, except in that last mode, where
    ///   the batches committed before the error stay.
    public func finish() throws -> Summary {
        precondition(!finished, "a StoreBuilder finishes once")
        finished = true
        defer { removeRuns() }
        // A corpus that fit one run and a new output: its records go straight to the store.
        var info = stat()
        let direct = runPaths.isEmpty && !(stat(path, &info) == 0 && info.st_size > 0)
        if !direct { try spill() }
        let runs = max(runPaths.count, counter.isEmpty ? 0 : 1)
        var records = 0, pruned = 0
        do {
            try NGramStore.replace(at: path, mayCreate: true) { current, temporary in
                if let current {
                    try current.requireParameters(parameters)
                    try current.metadata.requireTokenizer(fingerprint, path: path)
                }
                (records, pruned) = try write(to: temporary, adding: current)
            }
            return Summary(tokens: tokens, runs: runs, records: records, pruned: pruned, addedInTransactions: false)
        } catch let error as NGramStoreError where error.code == .inUse {
            // Another process has the output open: it cannot be replaced under it. Write the
            // records beside it, then add them in transactions.
            let scratch = (runDirectory as NSString).appendingPathComponent("added.lmdb")
            (records, pruned) = try write(to: scratch, adding: nil)
            let output = try NGramStore.create(at: path, tokenizerFingerprint: fingerprint, parameters: parameters)
            let source = try NGramStore.open(at: scratch, tokenizerFingerprint: fingerprint, options: .init(readOnly: true))
            try output.merge(from: source, batchContexts: options.batchContexts)
            if options.minimumTotal > 1 { pruned += try output.removeContexts(seenFewerThan: options.minimumTotal) }
            return Summary(tokens: tokens, runs: runs, records: records, pruned: pruned, addedInTransactions: true)
        }
    }

    /// Writes a fresh store at `target`: the runs merged with `current`'s records, in key order.
    /// - Returns: records written and records pruned.
    private func write(to target: String, adding current: NGramStore?) throws -> (Int, Int) {
        var sources: [RecordSource] = try runPaths.map { try RunFile.Reader(path: $0) }
        let inMemory = sources.isEmpty && current == nil
        var stored: NGramStore.ConvertingCursor?
        var runBytes = 0
        for run in runPaths {
            var info = stat()
            if stat(run, &info) == 0 { runBytes += Int(info.st_size) }
        }
        var written = 0, pruned = 0
        let body = { [self] in
            // The appended file is about the records' bytes plus LMDB's per-record overhead
            // (below 2× for the smallest records); the map grows if that guess is short.
            let inMemoryBytes = inMemory ? counter.ownedTokens * WindowCounter.estimatedRecordBytesPerToken : 0
            var storeOptions = NGramStore.Options(initialMapSize: max(64 << 20, 2 * (runBytes + inMemoryBytes) + 2 * (current?.fileSize ?? 0)))
            storeOptions.noSync = true
            let output = try NGramStore.create(at: target, tokenizerFingerprint: fingerprint, parameters: parameters,
                                               options: storeOptions)
            let appender = NGramStore.Appender(store: output)
            let tokensInAll = tokens + (stored?.tokensLearned ?? 0)
            var singletons = options.singletonBudget ?? Int(Double(tokensInAll) * Self.defaultSingletonsPerToken)
            let write: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void = { key, value in
                let total = RecordCoding.total(ofValue: value, version: 2) ?? 0
                if total < UInt64(self.options.minimumTotal) || (total == 1 && singletons == 0) {
                    pruned += 1
                    return
                }
                if total == 1 { singletons -= 1 }
                try appender.append(key: key, value: value)
                written += 1
                try self.options.onRecordWritten?(written)
            }
            if inMemory {
                try counter.emitRecords(spillDirectory: runDirectory, write)
            } else {
                try Self.merge(sources, countersPerDepth: parameters.countersPerDepth, write)
            }
            try appender.finish(tokensLearned: tokensInAll)
        }
        if let current {
            try current.withReadTransaction { txn in
                stored = try NGramStore.ConvertingCursor(txn)
                sources.append(stored!)
                try body()
            }
        } else {
            try body()
        }
        return (written, pruned)
    }

    /// Merges sources in key order; records of equal keys are merged as summaries.
    static func merge(_ sources: [RecordSource], countersPerDepth: Int,
                      _ emit: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        var heads: [RecordSource] = []
        for source in sources where try source.next() { heads.append(source) }
        // A binary heap of the sources by their current key.
        func less(_ a: RecordSource, _ b: RecordSource) -> Bool { a.key.lexicographicallyPrecedes(b.key) }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < heads.count, less(heads[l], heads[smallest]) { smallest = l }
                if r < heads.count, less(heads[r], heads[smallest]) { smallest = r }
                if smallest == i { return }
                heads.swapAt(i, smallest)
                i = smallest
            }
        }
        for i in stride(from: heads.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        /// Moves the top source on, dropping it at its end.
        func advanceTop() throws {
            if try heads[0].next() {
                siftDown(0)
            } else {
                heads.swapAt(0, heads.count - 1)
                heads.removeLast()
                if !heads.isEmpty { siftDown(0) }
            }
        }
        while !heads.isEmpty {
            let key = heads[0].key
            var value = heads[0].value
            try advanceTop()
            // Equal keys from several runs: counts are summed, then cut once per depth (Agarwal et
            // al.'s merge step applied to the sum of all the summaries keeps the same bound).
            var sum: (total: UInt64, counts: [TokenRun: UInt64])?
            while let top = heads.first, top.key == key {
                if sum == nil {
                    sum = (0, [:])
                    try add(decode(value, key: key), to: &sum!)
                }
                try add(decode(top.value, key: key), to: &sum!)
                try advanceTop()
            }
            if let sum {
                var merged = ContinuationSummary()
                merged.total = UInt32(min(sum.total, UInt64(UInt32.max)))
                merged.entries = sum.counts.map { .init(tokens: $0.key, count: UInt32(min($0.value, UInt64(UInt32.max)))) }
                merged.prune(countersPerDepth: countersPerDepth)
                value = RecordCoding.encodeValue(merged, version: 2)
            }
            try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try emit(k, v) } }
        }
    }

    private static func add(_ summary: ContinuationSummary, to sum: inout (total: UInt64, counts: [TokenRun: UInt64])) {
        sum.total += UInt64(summary.total)
        for entry in summary.entries { sum.counts[entry.tokens, default: 0] += UInt64(entry.count) }
    }

    private static func decode(_ value: [UInt8], key: [UInt8]) throws -> ContinuationSummary {
        guard let summary = value.withUnsafeBytes({ RecordCoding.decodeValue($0, version: 2) }) else {
            let context = key.withUnsafeBytes { RecordCoding.decodeKey($0, version: 2) }.map(String.init(describing:)) ?? "?"
            throw NGramStoreError(.corrupt, path: "", "the record of context \(context) does not decode while merging runs")
        }
        return summary
    }

    // MARK: Temporary files

    /// The directory of one build's runs: beside the output (or in `directory`), named after it
    /// and the process, so a killed build's leftovers are recognised by the next one.
    static func runDirectory(for path: String, in directory: String?, pid: Int32) -> String {
        let name = (path as NSString).lastPathComponent
        let parent = directory ?? ((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
        return (parent as NSString).appendingPathComponent(".\(name).build-\(pid)")
    }

    private func removeRuns() {
        try? FileManager.default.removeItem(atPath: runDirectory)
    }

    /// Removes what a killed build of `path` left behind: its run directory and its unfinished
    /// store (`S.lmdb.tmp-PID`), when that process is gone.
    static func removeStaleTemporaries(for path: String, in directory: String?) {
        let name = (path as NSString).lastPathComponent
        let fm = FileManager.default
        for (parent, prefix) in [(runDirectory(for: path, in: directory, pid: 0), ".\(name).build-"),
                                 (path, "\(name).tmp-")] {
            let dir = (parent as NSString).deletingLastPathComponent.isEmpty ? "." : (parent as NSString).deletingLastPathComponent
            for entry in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where entry.hasPrefix(prefix) {
                let rest = entry.dropFirst(prefix.count).prefix { $0.isNumber }
                guard let pid = Int32(rest), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
                try? fm.removeItem(atPath: (dir as NSString).appendingPathComponent(entry))
            }
        }
    }
}

extension NGramStore {
    /// Refuses a build or merge that counts other lengths than this store.
    func requireParameters(_ requested: NGramParameters) throws {
        guard requested == parameters else {
            throw NGramStoreError(.parametersMismatch, path: path, "the store counts contexts of 1…\(parameters.contextLength) and continuations of \(parameters.continuationLength) with \(parameters.countersPerDepth) counters per depth, not the \(requested.contextLength)/\(requested.continuationLength)/\(requested.countersPerDepth) requested")
        }
    }

    /// The size of the store's file in bytes (0 when it cannot be read).
    var fileSize: Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    /// A store's records in key order as version-2 bytes (a version-1 store's converted), for
    /// merging into a build.
    final class ConvertingCursor: RecordSource {
        let store: NGramStore
        let cursor: OpaquePointer
        let tokensLearned: UInt64
        private(set) var key: [UInt8] = []
        private(set) var value: [UInt8] = []
        private var started = false

        init(_ txn: ReadTransaction) throws {
            store = txn.store
            var handle: OpaquePointer?
            let rc = mdb_cursor_open(txn.txn, store.gramsDB, &handle)
            guard rc == 0, let handle else { throw NGramStoreError.lmdb(rc, path: store.path, doing: "reading the records") }
            cursor = handle
            tokensLearned = txn.tokensLearned
        }

        deinit { mdb_cursor_close(cursor) }

        func next() throws -> Bool {
            var k = MDB_val(), v = MDB_val()
            let rc = mdb_cursor_get(cursor, &k, &v, started ? MDB_NEXT : MDB_FIRST)
            started = true
            if rc == MDB_NOTFOUND { return false }
            guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: store.path, doing: "reading the records") }
            let keyBytes = UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size)
            let valueBytes = UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
            if store.formatVersion == StoreMetadata.currentFormatVersion {
                key = Array(keyBytes)
                value = Array(valueBytes)
                return true
            }
            guard let context = RecordCoding.decodeKey(keyBytes, version: store.formatVersion),
                  let summary = RecordCoding.decodeValue(valueBytes, version: store.formatVersion) else {
                throw NGramStoreError(.corrupt, path: store.path, "a record is damaged (key of \(k.mv_size) bytes); rebuild the store")
            }
            key = RecordCoding.key(context, version: StoreMetadata.currentFormatVersion)
            value = RecordCoding.encodeValue(summary, version: StoreMetadata.currentFormatVersion)
            return true
        }
    }

    /// Writes records given in strictly increasing key order into an empty store with
    /// `MDB_APPEND`, in write transactions of `StoreBuilder.appendBatchBytes`.
    final class Appender {
        let store: NGramStore
        private var bytes: [UInt8] = []
        private var bounds: [(key: Int, keyCount: Int, value: Int, valueCount: Int)] = []

        init(store: NGramStore) {
            self.store = store
            bytes.reserveCapacity(StoreBuilder.appendBatchBytes)
        }

        func append(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws {
            bounds.append((bytes.count, key.count, bytes.count + key.count, value.count))
            bytes.append(contentsOf: key)
            bytes.append(contentsOf: value)
            if bytes.count >= StoreBuilder.appendBatchBytes { try commit(tokensLearned: nil) }
        }

        func finish(tokensLearned: UInt64) throws { try commit(tokensLearned: tokensLearned) }

        /// Commits the batch; a full map aborts, grows and replays it (it is still here).
        private func commit(tokensLearned: UInt64?) throws {
            try store.withWriteTransaction { txn in
                try bytes.withUnsafeMutableBytes { raw in
                    for b in bounds {
                        var kv = MDB_val(mv_size: b.keyCount, mv_data: raw.baseAddress! + b.key)
                        var vv = MDB_val(mv_size: b.valueCount, mv_data: raw.baseAddress! + b.value)
                        let rc = mdb_put(txn.txn, store.gramsDB, &kv, &vv, UInt32(MDB_APPEND))
                        guard rc == 0 else {
                            throw rc == MDB_KEYEXIST
                                ? NGramStoreError(.corrupt, path: store.path, "records reached the writer out of key order")
                                : NGramStoreError.lmdb(rc, path: store.path, doing: "writing a record")
                        }
                    }
                }
                if let tokensLearned { try txn.addTokensLearned(tokensLearned) }
            }
            bytes.removeAll(keepingCapacity: true)
            bounds.removeAll(keepingCapacity: true)
        }
    }
}
