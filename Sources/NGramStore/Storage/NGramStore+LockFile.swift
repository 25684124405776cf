import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension NGramStore {
    /// LMDB's lock file beside a store opened with `MDB_NOSUBDIR`.
    static let lockFileSuffix = "-lock"
    /// Bytes of one reader slot in LMDB's lock file (`MDB_reader`, padded to a cache line).
    static let lmdbReaderSlotBytes = 64
    /// Bytes of the lock file's header with its first reader slot (`MDB_txninfo`: two cache
    /// lines of writer state, then the slot array).
    static let lmdbLockHeaderBytes = 192

    /// The size LMDB gives a lock file for `readers` slots (`mdb_env_setup_locks`: the header,
    /// then `readers − 1` more slots; 8 KiB for LMDB's default of 126).
    static func lockFileBytes(readers: Int) -> Int {
        lmdbLockHeaderBytes + (readers - 1) * lmdbReaderSlotBytes
    }

    /// What `prepareLockFile` found.
    enum LockFileState: Equatable {
        /// There, with its blocks allocated.
        case ready
        /// Created by this call, blocks allocated.
        case created
        /// This process cannot write it (or create it): a read-only directory, file or mount.
        case notWritable
    }

    /// Makes sure LMDB's lock file has its disk blocks before LMDB maps it.
    ///
    /// LMDB extends a new lock file with `ftruncate`, which allocates nothing, and then writes its
    /// header through a shared memory map: on a full file system that write faults and the
    /// process dies of SIGBUS instead of getting an error. Allocating the blocks first with
    /// `posix_fallocate` turns that into `ENOSPC` here. A lock file that exists with its blocks
    /// (the usual case) is left alone: closing a descriptor of it would drop this process's
    /// fcntl locks on it, which LMDB holds while the store is open elsewhere in this process.
    /// - Throws: `NGramStoreError` (`.noSpace` naming the lock file).
    static func prepareLockFile(_ lockPath: String, readers: Int,
                                allocate: (Int32, Int) -> Int32) throws -> LockFileState {
        let bytes = lockFileBytes(readers: readers)
        var info = stat()
        let exists = stat(lockPath, &info) == 0
        // Root passes permission bits, but not a read-only mount (EROFS) or an immutable file
        // or directory (EPERM); AT_EACCESS checks with the effective ids that open would use.
        let target = exists ? lockPath : (lockPath as NSString).deletingLastPathComponent
        if faccessat(AT_FDCWD, target.isEmpty ? "." : target, W_OK, AT_EACCESS) != 0 {
            if [EACCES, EPERM, EROFS].contains(errno) { return .notWritable }
        }
        if exists, Int(info.st_blocks) * 512 >= min(bytes, Int(info.st_size)), Int(info.st_size) >= bytes {
            return .ready
        }
        let fd = Glibc.open(lockPath, O_RDWR | O_CREAT | (exists ? 0 : O_EXCL) | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let error = errno
            if error == EEXIST { return .ready }  // another process created it meanwhile; LMDB sizes it
            if [EACCES, EPERM, EROFS].contains(error) { return .notWritable }
            throw NGramStoreError.system(error, path: lockPath, doing: "creating the lock file")
        }
        defer { close(fd) }
        let rc = allocate(fd, max(bytes, Int(info.st_size)))
        guard rc == 0 else {
            if !exists { unlink(lockPath) }
            throw NGramStoreError.system(rc, path: lockPath, doing: "creating the lock file (\(bytes) bytes)")
        }
        return exists ? .ready : .created
    }

    /// A store read without its lock file is invisible to writers, which could then reuse the
    /// pages its read transactions are reading. Allow that only when no other process has the
    /// store open now; a writer that arrives later is not detected (docs/ngram-store.md).
    /// - Throws: `NGramStoreError` (`.inUse`) naming the processes, or when they cannot be known.
    static func checkNoOtherUsers(path: String, lockPath: String) throws {
        let advice = "reading without the lock file is safe only while nothing writes the store; give this process write access to \(lockPath) (and its directory), or retry when they are done"
        guard let users = FileLockHolders.lmdbUsers(lockPath: lockPath) else {
            throw NGramStoreError(.inUse, path: path, "cannot write the lock file \(lockPath), nor read it to see whether other processes have the store open; \(advice)")
        }
        // Other lockless readers are not in the list (they hold no LMDB lock), and need not be:
        // every writer has the lock file open.
        guard users.isEmpty else {
            throw NGramStoreError(.inUse, path: path, "cannot write the lock file \(lockPath), and \(FileLockHolders.describe(users)) \(users.count == 1 ? "has" : "have") the store open; \(advice)")
        }
    }
}
