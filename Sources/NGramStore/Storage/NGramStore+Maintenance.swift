import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension NGramStore {
    /// Adds every record of `source` to this store, streaming: records are read in key order and
    /// committed in batches of `batchContexts`, so memory stays bounded whatever the store sizes.
    /// - Parameters:
    ///   - source: a store with the same tokenizer and parameters (another file).
    ///   - batchContexts: records per write transaction.
    ///   - progress: called after each committed batch with the records merged so far.
    /// - Throws: `NGramStoreError` (`.tokenizerMismatch`, `.parametersMismatch`, `.corrupt`…).
    public func merge(from source: NGramStore, batchContexts: Int = StoreLearner.defaultBatchContexts,
                      progress: ((Int) -> Void)? = nil) throws {
        try requireCompatible(source)
        var batch = NGramCounts(parameters: parameters)
        var merged = 0
        try source.withReadTransaction { txn in
            batch.addTokensLearned(txn.tokensLearned)
            try txn.forEachRecord { context, summary in
                batch.merge(summary, for: context)
                merged += 1
                if batch.contextCount >= batchContexts {
                    try commit(batch)
                    batch.removeAll()
                    progress?(merged)
                }
                return true
            }
        }
        try commit(batch)
        progress?(merged)
    }

    /// Sizes and counts of a store.
    public struct Statistics: Sendable, Codable {
        /// One context with its number of occurrences.
        public struct TopContext: Sendable, Codable {
            /// The context's tokens.
            public var tokens: [Int32]
            /// How often it occurred.
            public var total: UInt32
            /// Its most frequent next token and that token's count, if any.
            public var next: Int32?
            /// The count of `next`.
            public var nextCount: UInt32
        }
        /// The file's size in bytes.
        public var fileBytes: Int
        /// The map's size in bytes (address space, not disk).
        public var mapBytes: Int
        /// Tokens learned into the store.
        public var tokensLearned: UInt64
        /// Records (distinct contexts) per context length, index 0 for length 1.
        public var contextsByLength: [Int]
        /// Continuation entries in all records.
        public var entries: Int
        /// Bytes of record keys and values (without LMDB's page overhead).
        public var recordBytes: Int
        /// File bytes per learned token.
        public var bytesPerToken: Double
        /// LMDB B-tree depth of the n-gram database.
        public var treeDepth: Int
        /// The most frequent contexts of each length, most frequent first; index 0 for length 1.
        public var topContexts: [[TopContext]]
        /// The store's metadata.
        public var metadata: StoreMetadata
    }

    /// The number of records (contexts) and tokens learned, from LMDB's counters: no scan.
    /// - Returns: records and tokens learned.
    /// - Throws: `NGramStoreError` when no read transaction can begin.
    public func recordCount() throws -> (records: Int, tokensLearned: UInt64) {
        try withReadTransaction { txn in
            var dbStat = MDB_stat()
            mdb_stat(txn.txn, gramsDB, &dbStat)
            return (Int(dbStat.ms_entries), txn.tokensLearned)
        }
    }

    /// Scans the store and counts what it holds.
    /// - Parameter top: how many of the most frequent contexts to list per length.
    /// - Returns: the statistics.
    /// - Throws: `NGramStoreError` (`.corrupt`) when a record does not decode.
    public func statistics(top: Int = 5) throws -> Statistics {
        let n = parameters.contextLength
        var contexts = Array(repeating: 0, count: n)
        var tops = Array(repeating: [Statistics.TopContext](), count: n)
        var entries = 0, recordBytes = 0
        var tokens: UInt64 = 0, depth = 0
        try withReadTransaction { txn in
            tokens = txn.tokensLearned
            var dbStat = MDB_stat()
            mdb_stat(txn.txn, gramsDB, &dbStat)
            depth = Int(dbStat.ms_depth)
            try txn.forEachRecord { context, summary in
                let i = context.count - 1
                contexts[i] += 1
                entries += summary.entries.count
                recordBytes += RecordCoding.key(context, version: formatVersion).count
                    + RecordCoding.encodeValue(summary, version: formatVersion).count
                if top > 0, tops[i].count < top || summary.total > tops[i].last!.total {
                    let best = summary.entries.first { $0.tokens.count == 1 }
                    let entry = Statistics.TopContext(tokens: Array(context), total: summary.total,
                                                      next: best.map { $0.tokens[0] }, nextCount: best?.count ?? 0)
                    let at = tops[i].firstIndex { $0.total < summary.total } ?? tops[i].count
                    tops[i].insert(entry, at: at)
                    if tops[i].count > top { tops[i].removeLast() }
                }
                return true
            }
        }
        let fileBytes = ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
        return Statistics(fileBytes: fileBytes, mapBytes: mapSize, tokensLearned: tokens, contextsByLength: contexts,
                          entries: entries, recordBytes: recordBytes,
                          bytesPerToken: tokens == 0 ? 0 : Double(fileBytes) / Double(tokens),
                          treeDepth: depth, topContexts: tops, metadata: metadata)
    }
}

extension NGramStore {
    /// Writes a copy of the store: with `compacting`, LMDB's copy with `MDB_CP_COMPACT`, which
    /// leaves out free pages (a store updated in many batches holds the copy-on-write leftovers of
    /// earlier ones) and renumbers pages sequentially. Readers and writers may go on meanwhile;
    /// the copy is one consistent snapshot.
    ///
    /// The copy is written to a temporary file beside `destination` and renamed to it when
    /// complete, so a failure (a full disk) leaves no partial file at `destination`.
    /// - Parameters:
    ///   - destination: a path that does not exist yet.
    ///   - compacting: leave out free pages.
    /// - Throws: `NGramStoreError` when the copy fails (`.noSpace`…).
    public func writeCopy(to destination: String, compacting: Bool = true) throws {
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw NGramStoreError(.invalidArgument, path: destination, "the copy's path already exists")
        }
        try Self.writeAtomically(destination) { temporary in
            let rc = mdb_env_copy2(env, temporary, compacting ? UInt32(MDB_CP_COMPACT) : 0)
            guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: destination, doing: "writing a copy of \(path)") }
        }
    }

    /// The temporary name of a file being written for `path`: in the same directory, so that
    /// rename(2) can move it there (a rename across file systems fails).
    static func temporaryPath(for path: String) -> String {
        "\(path).tmp-\(getpid())"
    }

    /// Runs `write` on a temporary path beside `path`, then syncs it and renames it to `path`.
    /// The temporary file (and an LMDB lock file beside it) is removed whether `write` succeeds
    /// or throws.
    static func writeAtomically(_ path: String, _ write: (String) throws -> Void) throws {
        let temporary = temporaryPath(for: path)
        defer {
            unlink(temporary)
            unlink(temporary + lockFileSuffix)
        }
        unlink(temporary)  // left by a killed process of the same pid
        try write(temporary)
        // Data first, then the name: after a crash the path names the old file or the whole new one.
        try syncFile(temporary)
        guard rename(temporary, path) == 0 else {
            throw NGramStoreError.system(errno, path: path, doing: "renaming \(temporary) to it")
        }
        try syncFile((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)
    }

    private static func syncFile(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NGramStoreError.system(errno, path: path, doing: "opening it to sync") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw NGramStoreError.system(errno, path: path, doing: "syncing it to disk") }
    }

    /// Replaces the store at `path` with the file `produce` writes, under decograph's exclusive
    /// lock: refused while any process has the store open, and processes opening it meanwhile
    /// wait, then open the new file. `produce` receives the current store (opened read-only, or
    /// `nil` when `path` does not exist yet) and the path to write; nothing at `path` changes
    /// when it throws. `produce` must not open `path` itself: it would wait for this lock.
    ///
    /// The exclusive lock keeps out decograph processes; other LMDB programs (`mdb_stat`, an
    /// older decograph) are detected by LMDB's own lock on the lock file when the replacement
    /// starts (docs/ngram-store.md, "Replacing a store").
    /// - Throws: `NGramStoreError` (`.inUse` naming the processes), or what `produce` throws.
    static func replace(at path: String, mayCreate: Bool,
                        _ produce: (_ current: NGramStore?, _ temporary: String) throws -> Void) throws {
        let lockPath = path + lockFileSuffix
        guard let lock = try StoreFileLock.exclusive(path, create: mayCreate) else {
            let holders = FileLockHolders.pids(.flock, on: path)
            let who = holders.isEmpty ? "this process" : FileLockHolders.describe(holders)
            throw NGramStoreError(.inUse, path: path, "the store is open in \(who); it cannot be replaced under them (what they learned would be lost); stop them, or wait until they finish, and run this again")
        }
        var replaced = false
        defer { if !replaced { lock.removeCreatedFile(path) } }
        guard let users = FileLockHolders.lmdbUsers(lockPath: lockPath) else {
            throw NGramStoreError(.inUse, path: path, "cannot read the lock file \(lockPath) to see whether other processes have the store open")
        }
        guard users.isEmpty else {
            throw NGramStoreError(.inUse, path: path, "the store is open in \(FileLockHolders.describe(users)) (an LMDB program); it cannot be replaced under them; stop them and run this again")
        }
        do {
            var info = stat()
            let current = stat(path, &info) == 0 && info.st_size > 0
                ? try NGramStore(path: path, create: nil, tokenizerFingerprint: nil, options: Options(readOnly: true),
                                 locking: .heldByCaller)
                : nil
            try writeAtomically(path) { temporary in
                try produce(current, temporary)
            }
            withExtendedLifetime(current) {}
        }
        replaced = true
        // `current` closed at the end of the block above, before the lock is released here: no
        // process opens the new file while this one still maps the old.
        withExtendedLifetime(lock) {}
    }

    /// Rewrites the store at `path` without free pages (`--compact`), atomically, refusing while
    /// any process has it open (a replaced file would lose what they learn afterwards).
    /// - Parameter path: the store's file; this process must not have it open.
    /// - Throws: `NGramStoreError` (`.inUse` naming the processes, `.noSpace`…).
    public static func compact(at path: String) throws {
        try replace(at: path, mayCreate: false) { current, temporary in
            guard let current else { throw NGramStoreError(.notFound, path: path, "no such store to compact") }
            let rc = mdb_env_copy2(current.env, temporary, UInt32(MDB_CP_COMPACT))
            guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: path, doing: "writing its compacted copy") }
        }
    }

    /// Adds the records of `sources` to the store at `path` (created when missing) all at once:
    /// they are merged into a copy, which replaces `path` only when every source is in, so a
    /// failure leaves `path` as it was. Refused while any process has `path` open.
    /// - Parameters:
    ///   - sources: stores with the same tokenizer and parameters (opened read-only).
    ///   - path: the output; this process must not have it open.
    ///   - compacting: write the result without free pages.
    ///   - progress: called with each source's path and the records merged from it so far.
    /// - Throws: `NGramStoreError` (`.tokenizerMismatch`, `.parametersMismatch`, `.inUse`…).
    public static func merge(_ sources: [NGramStore], into path: String, compacting: Bool = false,
                             progress: ((String, Int) -> Void)? = nil) throws {
        guard let first = sources.first else { throw NGramStoreError(.invalidArgument, path: path, "no stores to merge") }
        try replace(at: path, mayCreate: true) { current, temporary in
            let model = current ?? first
            for source in sources { try model.requireCompatible(source) }
            let scratch = temporary + ".merging"
            defer {
                unlink(scratch)
                unlink(scratch + lockFileSuffix)
            }
            do {
                if let current { try current.writeCopy(to: scratch, compacting: false) }
                let target = try NGramStore.create(at: scratch, tokenizerFingerprint: model.metadata.tokenizerFingerprint,
                                                   parameters: model.parameters)
                for source in sources {
                    try target.merge(from: source) { progress?(source.path, $0) }
                }
                if compacting { try target.writeCopy(to: temporary, compacting: true) }
            }
            if !compacting, rename(scratch, temporary) != 0 {
                throw NGramStoreError.system(errno, path: path, doing: "renaming \(scratch)")
            }
        }
    }

    /// Refuses a source of another tokenizer or other parameters before anything is written.
    func requireCompatible(_ source: NGramStore) throws {
        guard source.metadata.tokenizerFingerprint == metadata.tokenizerFingerprint else {
            throw NGramStoreError(.tokenizerMismatch, path: source.path, "the store was built with tokenizer '\(source.metadata.tokenizerFingerprint)', not '\(metadata.tokenizerFingerprint)' like \(path)")
        }
        guard source.parameters == parameters else {
            throw NGramStoreError(.parametersMismatch, path: source.path, "the store counts other context or continuation lengths than \(path)")
        }
    }
}

extension NGramStore {
    /// Records visited per write transaction when removing rare contexts: deleting touches most
    /// leaf pages, and LMDB caps the dirty pages of one transaction (`MDB_TXN_FULL`).
    public static let recordsPerPruneTransaction = 1 << 16

    /// Deletes the records of contexts that occurred fewer than `minimumTotal` times.
    ///
    /// For a store that will only be read: a context seen once can never pass the store tier's
    /// default gates (at least 2 samples), and such contexts are most of a corpus's records. A
    /// store that keeps learning should keep them, since a second occurrence makes them useful.
    /// Runs in several transactions; each leaves the store consistent.
    /// - Parameters:
    ///   - minimumTotal: records with a smaller total are deleted.
    ///   - recordsPerTransaction: records visited per write transaction.
    /// - Returns: the number of records deleted.
    /// - Throws: `NGramStoreError`.
    @discardableResult
    public func removeContexts(seenFewerThan minimumTotal: UInt32,
                               recordsPerTransaction: Int = NGramStore.recordsPerPruneTransaction) throws -> Int {
        var deleted = 0
        var resume: [UInt8]? = nil
        var finished = false
        while !finished {
            let (removed, next) = try withWriteTransaction { txn -> (Int, [UInt8]?) in
                var cursorHandle: OpaquePointer?
                var rc = mdb_cursor_open(txn.txn, gramsDB, &cursorHandle)
                guard rc == 0, let cursor = cursorHandle else { throw NGramStoreError.lmdb(rc, path: path, doing: "pruning") }
                defer { mdb_cursor_close(cursor) }
                var k = MDB_val(), v = MDB_val()
                var resumeKey = resume ?? []
                rc = resumeKey.withUnsafeMutableBytes { bytes in
                    k = MDB_val(mv_size: bytes.count, mv_data: bytes.baseAddress)
                    return mdb_cursor_get(cursor, &k, &v, resume == nil ? MDB_FIRST : MDB_SET_RANGE)
                }
                var removed = 0, visited = 0
                while rc == 0 {
                    if visited == max(1, recordsPerTransaction) {
                        return (removed, Array(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size)))
                    }
                    visited += 1
                    guard let total = RecordCoding.total(ofValue: UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size),
                                                         version: formatVersion) else {
                        throw NGramStoreError(.corrupt, path: path, "a record is damaged; rebuild the store")
                    }
                    if total < UInt64(minimumTotal) {
                        rc = mdb_cursor_del(cursor, 0)
                        guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: path, doing: "pruning") }
                        removed += 1
                    }
                    // After a delete LMDB's cursor already stands on the following record, and
                    // MDB_NEXT returns that one rather than skipping it.
                    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
                }
                guard rc == MDB_NOTFOUND else { throw NGramStoreError.lmdb(rc, path: path, doing: "pruning") }
                return (removed, nil)
            }
            deleted += removed
            resume = next
            finished = next == nil
        }
        return deleted
    }
}
