import CLMDB
import Foundation

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
        guard source.metadata.tokenizerFingerprint == metadata.tokenizerFingerprint else {
            throw NGramStoreError(.tokenizerMismatch, path: source.path, "the store was built with tokenizer '\(source.metadata.tokenizerFingerprint)', not '\(metadata.tokenizerFingerprint)' like \(path)")
        }
        guard source.parameters == parameters else {
            throw NGramStoreError(.parametersMismatch, path: source.path, "the store counts other context or continuation lengths than \(path)")
        }
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
                recordBytes += 1 + 4 * context.count + RecordCoding.encodeValue(summary).count
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
    /// Writes a compacted copy of the store: LMDB's copy with `MDB_CP_COMPACT` leaves out free
    /// pages (a store updated in many batches holds the copy-on-write leftovers of earlier ones)
    /// and renumbers pages sequentially. Readers and writers may go on meanwhile; the copy is
    /// one consistent snapshot.
    /// - Parameter destination: a path that does not exist yet.
    /// - Throws: `NGramStoreError` when the copy fails.
    public func writeCompactedCopy(to destination: String) throws {
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw NGramStoreError(.invalidArgument, path: destination, "the compacted copy's path already exists")
        }
        let rc = mdb_env_copy2(env, destination, UInt32(MDB_CP_COMPACT))
        guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: destination, doing: "writing a compacted copy of \(path)") }
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
                    var reader = RecordCoding.Reader(bytes: UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
                    guard let total = reader.varint() else {
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
