import CLMDB
#if canImport(Glibc)
import Glibc
#endif

extension NGramStore {
    /// A read-only view of the store at one moment (an LMDB read transaction). Valid only inside
    /// the closure that received it.
    public struct ReadTransaction {
        let store: NGramStore
        let txn: OpaquePointer

        /// What followed a context.
        /// - Parameter context: 1…contextLength tokens.
        /// - Returns: its summary, or `nil` when the store never saw it.
        /// - Throws: `NGramStoreError` (`.corrupt`) when the record does not decode.
        public func continuations(of context: TokenRun) throws -> ContinuationSummary? {
            try store.lookup(context, in: txn)
        }

        /// Tokens learned into the store.
        public var tokensLearned: UInt64 { store.tokensLearned(in: txn) }
    }

    /// A write transaction: changes become visible to readers, and durable, when its closure
    /// returns; they are discarded when it throws.
    public struct WriteTransaction {
        let store: NGramStore
        let txn: OpaquePointer

        /// What followed a context, including changes made earlier in this transaction.
        /// - Parameter context: 1…contextLength tokens.
        /// - Returns: its summary, or `nil` when absent.
        /// - Throws: `NGramStoreError` (`.corrupt`) when the stored record does not decode.
        public func continuations(of context: TokenRun) throws -> ContinuationSummary? {
            try store.lookup(context, in: txn)
        }

        /// Adds a summary to a context's record (creating it).
        /// - Parameters:
        ///   - summary: counts to add.
        ///   - context: the context.
        /// - Throws: `NGramStoreError`; a full map is handled by `withWriteTransaction`.
        public func merge(_ summary: ContinuationSummary, into context: TokenRun) throws {
            var merged = try store.lookup(context, in: txn) ?? ContinuationSummary()
            merged.merge(summary, countersPerDepth: store.parameters.countersPerDepth)
            let value = RecordCoding.encodeValue(merged, version: store.formatVersion)
            let rc = withUnsafeTemporaryAllocation(byteCount: RecordCoding.maxKeySize, alignment: 4) { key in
                let n = RecordCoding.encodeKey(context, into: key, version: store.formatVersion)
                return value.withUnsafeBytes { v in
                    var kv = MDB_val(mv_size: n, mv_data: key.baseAddress)
                    var vv = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress))
                    return mdb_put(txn, store.gramsDB, &kv, &vv, 0)
                }
            }
            guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: store.path, doing: "writing a record") }
        }

        /// Adds to the count of tokens learned.
        /// - Parameter n: tokens learned in this transaction.
        /// - Throws: `NGramStoreError`.
        public func addTokensLearned(_ n: UInt64) throws {
            let total = store.tokensLearned(in: txn) &+ n
            let bytes = withUnsafeBytes(of: total.littleEndian) { Array($0) }
            let rc = NGramStore.put(txn, store.metaDB, key: Array(NGramStore.tokensKey.utf8), value: bytes)
            guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: store.path, doing: "writing the token count") }
        }
    }

    /// Runs `body` in a read transaction.
    /// - Parameter body: reads the store; must not start a write transaction on this store.
    /// - Returns: what `body` returns.
    /// - Throws: `NGramStoreError` when no transaction can begin (`.readersFull`…), or what `body` throws.
    public func withReadTransaction<R>(_ body: (ReadTransaction) throws -> R) throws -> R {
        while true {
            pthread_rwlock_rdlock(remapLock)
            var handle: OpaquePointer?
            let rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &handle)
            if rc == MDB_MAP_RESIZED {
                pthread_rwlock_unlock(remapLock)
                try adoptGrownMap()
                continue
            }
            defer { pthread_rwlock_unlock(remapLock) }
            guard rc == 0, let txn = handle else { throw NGramStoreError.lmdb(rc, path: path, doing: "beginning a read transaction") }
            defer { mdb_txn_abort(txn) }
            return try body(ReadTransaction(store: self, txn: txn))
        }
    }

    /// Runs `body` in a write transaction and commits it; aborts when `body` throws.
    ///
    /// When the map is full, the transaction is aborted, the map grows by `mapGrowthFactor`, and
    /// `body` runs again from the start in a new transaction: `body` must keep all its effects
    /// inside the transaction. Only one write transaction runs at a time across all processes
    /// (LMDB's writer lock); others wait.
    /// - Parameter body: changes the store.
    /// - Returns: what `body` returns.
    /// - Throws: `NGramStoreError`, or what `body` throws.
    public func withWriteTransaction<R>(_ body: (WriteTransaction) throws -> R) throws -> R {
        guard !readOnly else {
            throw NGramStoreError(.invalidArgument, path: path, "the store was opened read-only")
        }
        while true {
            let sizeBefore = mapSize
            pthread_rwlock_rdlock(remapLock)
            var handle: OpaquePointer?
            var rc = mdb_txn_begin(env, nil, 0, &handle)
            if rc == MDB_MAP_RESIZED {
                pthread_rwlock_unlock(remapLock)
                try adoptGrownMap()
                continue
            }
            guard rc == 0, let txn = handle else {
                pthread_rwlock_unlock(remapLock)
                throw NGramStoreError.lmdb(rc, path: path, doing: "beginning a write transaction")
            }
            let result: R
            do {
                result = try body(WriteTransaction(store: self, txn: txn))
            } catch let error as NGramStoreError where error.code == .lmdb(MDB_MAP_FULL) {
                mdb_txn_abort(txn)
                pthread_rwlock_unlock(remapLock)
                try growMap(from: sizeBefore)
                continue
            } catch {
                mdb_txn_abort(txn)
                pthread_rwlock_unlock(remapLock)
                throw error
            }
            rc = mdb_txn_commit(txn)  // frees the transaction whatever it returns
            pthread_rwlock_unlock(remapLock)
            if rc == MDB_MAP_FULL {
                try growMap(from: sizeBefore)
                continue
            }
            guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: path, doing: "committing a write transaction") }
            return result
        }
    }

    /// The current map size in bytes.
    public var mapSize: Int {
        var info = MDB_envinfo()
        mdb_env_info(env, &info)
        return Int(info.me_mapsize)
    }

    /// Grows the map by `mapGrowthFactor`, unless another thread already grew it past `size`.
    func growMap(from size: Int) throws {
        pthread_rwlock_wrlock(remapLock)
        defer { pthread_rwlock_unlock(remapLock) }
        guard mapSize <= size else { return }
        let (grown, overflow) = size.multipliedReportingOverflow(by: Self.mapGrowthFactor)
        let rc = overflow ? ENOMEM : mdb_env_set_mapsize(env, grown)
        guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: path, doing: "growing the map to \(grown) bytes") }
    }

    /// Another process grew the map: take its size (LMDB's `MDB_MAP_RESIZED` protocol).
    func adoptGrownMap() throws {
        pthread_rwlock_wrlock(remapLock)
        defer { pthread_rwlock_unlock(remapLock) }
        let rc = mdb_env_set_mapsize(env, 0)
        guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: path, doing: "adopting a grown map") }
    }

    func lookup(_ context: TokenRun, in txn: OpaquePointer) throws -> ContinuationSummary? {
        guard (1...parameters.contextLength).contains(context.count) else { return nil }
        return try withUnsafeTemporaryAllocation(byteCount: RecordCoding.maxKeySize, alignment: 4) { key in
            let n = RecordCoding.encodeKey(context, into: key, version: formatVersion)
            var kv = MDB_val(mv_size: n, mv_data: key.baseAddress)
            var vv = MDB_val()
            let rc = mdb_get(txn, gramsDB, &kv, &vv)
            if rc == MDB_NOTFOUND { return nil }
            guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: path, doing: "reading \(context)") }
            guard let summary = RecordCoding.decodeValue(UnsafeRawBufferPointer(start: vv.mv_data, count: vv.mv_size), version: formatVersion) else {
                throw NGramStoreError(.corrupt, path: path, "the record of context \(context) is damaged; rebuild the store")
            }
            return summary
        }
    }

    func tokensLearned(in txn: OpaquePointer) -> UInt64 {
        guard let bytes = Self.get(txn, metaDB, key: Array(Self.tokensKey.utf8)), bytes.count == 8 else { return 0 }
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }
}
