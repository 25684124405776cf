import CLMDB

extension NGramStore {
    /// Adds a batch of counts to the store in one write transaction (more only when LMDB reports
    /// the transaction too large, in which case the batch is split in halves).
    ///
    /// Records are written in key order, which keeps LMDB's page splits sequential.
    /// - Parameter batch: counts with this store's parameters.
    /// - Throws: `NGramStoreError`; on a throw nothing of the failed transaction is kept.
    public func commit(_ batch: NGramCounts) throws {
        guard batch.parameters == parameters else {
            throw NGramStoreError(.parametersMismatch, path: path, "the batch counts other lengths than the store")
        }
        let records = batch.sortedRecords()
        try commit(records[...], tokensLearned: batch.tokensLearned)
    }

    private func commit(_ records: ArraySlice<(context: TokenRun, summary: ContinuationSummary)>, tokensLearned: UInt64) throws {
        do {
            try withWriteTransaction { txn in
                for r in records { try txn.merge(r.summary, into: r.context) }
                if tokensLearned > 0 { try txn.addTokensLearned(tokensLearned) }
            }
        } catch let error as NGramStoreError where error.code == .lmdb(MDB_TXN_FULL) && records.count > 1 {
            let middle = records.startIndex + records.count / 2
            try commit(records[..<middle], tokensLearned: tokensLearned)
            try commit(records[middle...], tokensLearned: 0)
        }
    }

    /// Visits every record in key order (contexts by length, then by ids).
    /// - Parameters:
    ///   - txn: a transaction of this store.
    ///   - body: receives each context and its summary; returns `false` to stop.
    /// - Throws: `NGramStoreError` (`.corrupt`) at the first record that does not decode.
    func forEachRecord(in txn: OpaquePointer, _ body: (TokenRun, ContinuationSummary) throws -> Bool) throws {
        var cursorHandle: OpaquePointer?
        var rc = mdb_cursor_open(txn, gramsDB, &cursorHandle)
        guard rc == 0, let cursor = cursorHandle else { throw NGramStoreError.lmdb(rc, path: path, doing: "reading the records") }
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val(), v = MDB_val()
        rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        while rc == 0 {
            guard let context = RecordCoding.decodeKey(UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size), version: formatVersion),
                  let summary = RecordCoding.decodeValue(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size), version: formatVersion) else {
                throw NGramStoreError(.corrupt, path: path, "a record is damaged (key of \(k.mv_size) bytes); rebuild the store")
            }
            if try !body(context, summary) { return }
            rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
        }
        guard rc == MDB_NOTFOUND else { throw NGramStoreError.lmdb(rc, path: path, doing: "reading the records") }
    }
}

extension NGramStore.ReadTransaction {
    /// Visits every record in key order (contexts by length, then by ids).
    /// - Parameter body: receives each context and its summary; returns `false` to stop.
    /// - Throws: `NGramStoreError` (`.corrupt`) at the first record that does not decode, or what
    ///   `body` throws.
    public func forEachRecord(_ body: (TokenRun, ContinuationSummary) throws -> Bool) throws {
        try store.forEachRecord(in: txn, body)
    }
}
