import CLMDB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A persistent n-gram store: an LMDB environment (one file) mapping n-gram contexts to summaries
/// of the continuations that followed them, with a metadata record naming its tokenizer.
///
/// Concurrency follows LMDB: any number of threads and processes read while one writer writes.
/// The environment is opened with `MDB_NOTLS`, so a read transaction is not tied to the thread
/// that began it. The one thing LMDB leaves to us is growing the map, which may only happen while
/// this process has no transaction open: `remapLock` is held shared by every transaction and
/// exclusively while the map is resized, which makes the class safe to share across threads
/// (hence `@unchecked Sendable`). Do not start a write transaction inside a read transaction's
/// closure on the same store: growing the map would then wait for itself.
public final class NGramStore: @unchecked Sendable {
    /// How to open the environment.
    public struct Options: Sendable {
        /// Map size of a new store, in bytes. LMDB's file only grows as pages are written, so this
        /// costs address space only; 64 MiB holds a few million contexts before the first growth.
        public var initialMapSize: Int
        /// Reader slots (processes × threads reading at once). LMDB's default is 126.
        public var maxReaders: Int
        /// Open without write access (stats, queries, merges' inputs).
        public var readOnly: Bool
        /// The record layout of a new store (an existing one keeps its own): tests create
        /// version-1 stores to check that they still open, learn and convert.
        var formatVersion = StoreMetadata.currentFormatVersion
        /// Skip LMDB's sync at each commit: for a file that is synced and renamed into place
        /// when complete (`StoreBuilder`), where a crash leaves only a temporary file.
        var noSync = false

        /// Creates options.
        /// - Parameters:
        ///   - initialMapSize: map size of a new store, in bytes.
        ///   - maxReaders: reader slots.
        ///   - readOnly: open without write access.
        public init(initialMapSize: Int = 64 << 20, maxReaders: Int = 126, readOnly: Bool = false) {
            self.initialMapSize = initialMapSize
            self.maxReaders = maxReaders
            self.readOnly = readOnly
        }

        /// Reserves the disk blocks of a new lock file (`posix_fallocate`); returns 0 or an
        /// `errno`. Tests replace it to reach the full-disk path without a full disk.
        var allocateLockFile: @Sendable (_ fd: Int32, _ bytes: Int) -> Int32 = { fd, bytes in
            posix_fallocate(fd, 0, off_t(bytes))
        }
    }

    /// Whether opening takes decograph's lock on the file (`StoreFileLock`), or the caller, a
    /// replacement holding the exclusive lock, already has it.
    enum Locking {
        case take
        case heldByCaller
    }

    /// The map grows by this factor when full, so n bytes of growth take O(log n) retried batches.
    static let mapGrowthFactor = 2
    /// Smallest map accepted: 16 pages of 4 KiB, room for LMDB's two meta pages and the roots of
    /// the main and the two named databases with some records (the map-growth tests start here).
    static let minimumMapSize = 1 << 16

    /// The store's file.
    public let path: String
    /// Its metadata record.
    public let metadata: StoreMetadata
    /// What it counts (from its metadata).
    public var parameters: NGramParameters { metadata.parameters }
    /// The record layout of this file (`StoreMetadata.formatVersion`): what it is read and
    /// written in, so a version-1 store keeps learning in version 1.
    var formatVersion: Int { metadata.formatVersion }
    let readOnly: Bool
    /// Opened without LMDB's lock file (`MDB_NOLOCK`): a read-only store whose lock file this
    /// process cannot write, opened while no other process had it open (docs/ngram-store.md).
    public let isLockless: Bool
    /// decograph's shared lock on the file, held while the store is open; `nil` when the opener
    /// holds the exclusive one.
    let fileLock: StoreFileLock?
    let env: OpaquePointer
    let gramsDB: MDB_dbi
    let metaDB: MDB_dbi
    /// Held shared by each transaction, exclusively while the map is resized (see the type's doc).
    let remapLock: UnsafeMutablePointer<pthread_rwlock_t>

    static let metaDBName = "meta"
    static let gramsDBName = "ngrams"
    static let formatKey = "format"
    static let tokensKey = "tokens-learned"

    /// Opens an existing store.
    /// - Parameters:
    ///   - path: the store's file.
    ///   - tokenizerFingerprint: the tokenizer the caller will use; `nil` accepts any (tools that
    ///     only read ids, such as `store stats`).
    ///   - options: how to open it.
    /// - Returns: the open store.
    /// - Throws: `NGramStoreError` when the file is missing, not a store, of another format
    ///   version or tokenizer, or damaged.
    public static func open(at path: String, tokenizerFingerprint: String?,
                            options: Options = Options()) throws -> NGramStore {
        try NGramStore(path: path, create: nil, tokenizerFingerprint: tokenizerFingerprint, options: options, locking: .take)
    }

    /// Opens a store, creating it when the file does not exist or is empty.
    /// - Parameters:
    ///   - path: the store's file.
    ///   - tokenizerFingerprint: the tokenizer's vocabulary fingerprint, recorded in a new store
    ///     and checked against an existing one.
    ///   - parameters: what a new store counts; an existing store must count the same.
    ///   - options: how to open it (`readOnly` must be false).
    /// - Returns: the open store.
    /// - Throws: `NGramStoreError` as for `open`, and `.parametersMismatch`.
    public static func create(at path: String, tokenizerFingerprint: String,
                              parameters: NGramParameters = NGramParameters(),
                              options: Options = Options()) throws -> NGramStore {
        try NGramStore(path: path, create: parameters, tokenizerFingerprint: tokenizerFingerprint, options: options, locking: .take)
    }

    init(path: String, create: NGramParameters?, tokenizerFingerprint: String?, options: Options,
         locking: Locking) throws {
        self.path = path
        readOnly = options.readOnly
        if let create {
            try create.validate(path: path)
            guard !options.readOnly else {
                throw NGramStoreError(.invalidArgument, path: path, "a store cannot be created read-only")
            }
        }
        try Self.checkFile(path: path, mayCreate: create != nil)
        let fileLock = locking == .take ? try StoreFileLock.shared(path, create: create != nil) : nil
        let lockPath = path + Self.lockFileSuffix
        var createdLockFile = false
        var opened = false
        // A failed creation leaves no files behind for the next open to trip over.
        defer {
            if !opened {
                if createdLockFile { unlink(lockPath) }
                fileLock?.removeCreatedFile(path)
            }
        }
        let maxReaders = max(1, options.maxReaders)
        let lockFile = try Self.prepareLockFile(lockPath, readers: maxReaders, allocate: options.allocateLockFile)
        createdLockFile = lockFile == .created
        var lockless = false
        if lockFile == .notWritable {
            guard options.readOnly else {
                throw NGramStoreError(.system(EACCES), path: path, "cannot write the lock file \(lockPath): a writable store needs write access to its directory and lock file")
            }
            try Self.checkNoOtherUsers(path: path, lockPath: lockPath)
            lockless = true
        }

        var handle: OpaquePointer?
        var rc = mdb_env_create(&handle)
        guard rc == 0, let env = handle else { throw NGramStoreError.lmdb(rc, path: path, doing: "creating the environment") }
        var envOwned = true
        defer { if envOwned { mdb_env_close(env) } }
        mdb_env_set_maxdbs(env, 2)
        mdb_env_set_maxreaders(env, UInt32(maxReaders))
        mdb_env_set_mapsize(env, max(options.initialMapSize, Self.minimumMapSize))
        var flags = UInt32(MDB_NOSUBDIR) | UInt32(MDB_NOTLS)
        if options.readOnly { flags |= UInt32(MDB_RDONLY) }
        if lockless { flags |= UInt32(MDB_NOLOCK) }
        if options.noSync { flags |= UInt32(MDB_NOSYNC) }
        rc = mdb_env_open(env, path, flags, 0o644)
        guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: path, doing: "opening the store") }
        // Reader slots of processes that died (a SIGKILLed reader) would otherwise stay taken.
        var dead: Int32 = 0
        if !lockless { mdb_reader_check(env, &dead) }
        try Self.checkNotTruncated(env: env, path: path)

        let (grams, meta, metadata) = try Self.openDatabases(env: env, path: path, create: create,
                                                             tokenizerFingerprint: tokenizerFingerprint,
                                                             readOnly: options.readOnly, formatVersion: options.formatVersion)
        self.env = env
        gramsDB = grams
        metaDB = meta
        self.metadata = metadata
        self.fileLock = fileLock
        isLockless = lockless
        remapLock = .allocate(capacity: 1)
        pthread_rwlock_init(remapLock, nil)
        envOwned = false
        opened = true
    }

    deinit {
        // The environment closes before the file lock is released (`fileLock` goes after this
        // body), so a replacement never runs while this process still maps the file.
        mdb_env_close(env)
        pthread_rwlock_destroy(remapLock)
        remapLock.deallocate()
    }

    /// Refuses a missing file (unless creating), a directory, and an empty file when not creating,
    /// before LMDB sees them (LMDB would initialise an empty file as a new environment).
    private static func checkFile(path: String, mayCreate: Bool) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if mayCreate { return }
            throw NGramStoreError(.notFound, path: path, "no such store; build one with 'decograph store build'")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw NGramStoreError(.notAStore, path: path, "not an n-gram store: a store is a single file, and this is not a regular file")
        }
        if info.st_size == 0, !mayCreate {
            throw NGramStoreError(.notAStore, path: path, "not an n-gram store: the file is empty")
        }
    }

    /// A file shorter than the pages LMDB's meta page says it uses would fault (SIGBUS) when the
    /// missing pages are read through the map; refuse it up front.
    private static func checkNotTruncated(env: OpaquePointer, path: String) throws {
        var info = MDB_envinfo()
        var envStat = MDB_stat()
        guard mdb_env_info(env, &info) == 0, mdb_env_stat(env, &envStat) == 0 else { return }
        var fileInfo = stat()
        guard stat(path, &fileInfo) == 0 else { return }
        let needed = (Int(info.me_last_pgno) + 1) * Int(envStat.ms_psize)
        if Int(fileInfo.st_size) < needed {
            throw NGramStoreError(.corrupt, path: path, "the store is truncated: the file has \(fileInfo.st_size) bytes but its pages need \(needed); rebuild it or restore a copy")
        }
    }

    private static func openDatabases(env: OpaquePointer, path: String, create: NGramParameters?,
                                      tokenizerFingerprint: String?, readOnly: Bool, formatVersion: Int) throws
        -> (MDB_dbi, MDB_dbi, StoreMetadata) {
        var txnHandle: OpaquePointer?
        var rc = mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txnHandle)
        guard rc == 0, let txn = txnHandle else { throw NGramStoreError.lmdb(rc, path: path, doing: "opening the store") }
        var committed = false
        defer { if !committed { mdb_txn_abort(txn) } }

        var meta: MDB_dbi = 0
        rc = mdb_dbi_open(txn, metaDBName, 0, &meta)
        let metadata: StoreMetadata
        var grams: MDB_dbi = 0
        if rc == MDB_NOTFOUND {
            // A fresh environment has an empty main database; anything else is someone else's LMDB.
            var mainStat = MDB_stat()
            var main: MDB_dbi = 0
            guard let create, mdb_dbi_open(txn, nil, 0, &main) == 0, mdb_stat(txn, main, &mainStat) == 0, mainStat.ms_entries == 0, let fingerprint = tokenizerFingerprint else {
                throw NGramStoreError(.notAStore, path: path, "not an n-gram store: an LMDB environment without decograph's metadata")
            }
            metadata = StoreMetadata(tokenizerFingerprint: fingerprint, parameters: create, formatVersion: formatVersion)
            rc = mdb_dbi_open(txn, metaDBName, UInt32(MDB_CREATE), &meta)
            guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: path, doing: "creating the store") }
            rc = mdb_dbi_open(txn, gramsDBName, UInt32(MDB_CREATE), &grams)
            guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: path, doing: "creating the store") }
            rc = put(txn, meta, key: Array(formatKey.utf8), value: Array(metadata.encoded()))
            guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: path, doing: "creating the store") }
        } else {
            guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: path, doing: "opening the store") }
            guard let bytes = get(txn, meta, key: Array(formatKey.utf8)) else {
                throw NGramStoreError(.notAStore, path: path, "not an n-gram store: the metadata record is missing")
            }
            metadata = try StoreMetadata.decode(Data(bytes), path: path)
            if let tokenizerFingerprint { try metadata.requireTokenizer(tokenizerFingerprint, path: path) }
            if let create, create != metadata.parameters {
                throw NGramStoreError(.parametersMismatch, path: path, "the store counts contexts of 1…\(metadata.parameters.contextLength) and continuations of \(metadata.parameters.continuationLength) with \(metadata.parameters.countersPerDepth) counters per depth, not the \(create.contextLength)/\(create.continuationLength)/\(create.countersPerDepth) requested")
            }
            rc = mdb_dbi_open(txn, gramsDBName, 0, &grams)
            guard rc == 0 else {
                throw rc == MDB_NOTFOUND
                    ? NGramStoreError(.corrupt, path: path, "the store has metadata but no n-gram database")
                    : NGramStoreError.lmdb(rc, path: path, doing: "opening the store")
            }
        }
        rc = mdb_txn_commit(txn)
        committed = true
        guard rc == 0 else { throw NGramStoreError.lmdb(rc, path: path, doing: "opening the store") }
        return (grams, meta, metadata)
    }

    /// `mdb_put` of two byte arrays.
    static func put(_ txn: OpaquePointer, _ dbi: MDB_dbi, key: [UInt8], value: [UInt8]) -> Int32 {
        var key = key, value = value
        return key.withUnsafeMutableBytes { k in
            value.withUnsafeMutableBytes { v in
                var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
                var vv = MDB_val(mv_size: v.count, mv_data: v.baseAddress)
                return mdb_put(txn, dbi, &kv, &vv, 0)
            }
        }
    }

    /// `mdb_get` copying the value out.
    static func get(_ txn: OpaquePointer, _ dbi: MDB_dbi, key: [UInt8]) -> [UInt8]? {
        var key = key
        return key.withUnsafeMutableBytes { k -> [UInt8]? in
            var kv = MDB_val(mv_size: k.count, mv_data: k.baseAddress)
            var vv = MDB_val()
            guard mdb_get(txn, dbi, &kv, &vv) == 0 else { return nil }
            return Array(UnsafeRawBufferPointer(start: vv.mv_data, count: vv.mv_size))
        }
    }
}
