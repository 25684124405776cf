import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// decograph's lock on a store: a `flock(2)` on the store's data file, held shared by every open
/// `NGramStore` for its lifetime and exclusively by whoever replaces the file (compaction, merge).
///
/// A store must never be replaced under a process that has it open: that process keeps reading
/// and writing the old file, so what it learns afterwards is lost, and LMDB's lock file, shared by
/// path, then describes the old file to processes opening the new one. The exclusive lock is only
/// ever tried without waiting (a replacement is refused while the store is open); an opener waits
/// for a replacement in progress and then checks that the path still names the file it locked.
///
/// `flock`, not `fcntl`: fcntl locks belong to the process and vanish when it closes any
/// descriptor of the file, so a process could neither hold a shared lock and be refused the
/// exclusive one on another descriptor, nor keep a lock safely; flock locks belong to the open
/// file description. LMDB itself uses only fcntl locks, on the separate `-lock` file, so the two
/// never interact.
final class StoreFileLock {
    /// The locked descriptor of the data file (read-only: a lock needs no write access).
    let fd: Int32
    /// Whether opening the lock created the (empty) data file.
    let createdFile: Bool

    private init(fd: Int32, createdFile: Bool) {
        self.fd = fd
        self.createdFile = createdFile
    }

    deinit { close(fd) }

    /// Takes the shared lock of an open store, waiting while a replacement holds the exclusive one.
    /// - Parameters:
    ///   - path: the store's data file.
    ///   - create: create the file (empty) when it is missing.
    /// - Returns: the lock.
    /// - Throws: `NGramStoreError` (`.notFound`, `.noSpace`…) when the file cannot be opened.
    static func shared(_ path: String, create: Bool) throws -> StoreFileLock {
        // A waiting lock always returns one.
        try acquire(path, operation: LOCK_SH, create: create)!
    }

    /// Tries the exclusive lock of a replacement, without waiting.
    /// - Parameters:
    ///   - path: the store's data file.
    ///   - create: create the file (empty) when it is missing.
    /// - Returns: the lock, or `nil` when a process (this one included) has the store open.
    /// - Throws: `NGramStoreError` when the file cannot be opened.
    static func exclusive(_ path: String, create: Bool) throws -> StoreFileLock? {
        try acquire(path, operation: LOCK_EX | LOCK_NB, create: create)
    }

    private static func acquire(_ path: String, operation: Int32, create: Bool) throws -> StoreFileLock? {
        while true {
            var created = false
            var fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0, errno == ENOENT, create {
                fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                if fd < 0, errno == EEXIST { continue }  // created by another process meanwhile
                created = fd >= 0
            }
            guard fd >= 0 else { throw NGramStoreError.system(errno, path: path, doing: "opening the store") }
            var rc: Int32
            repeat { rc = flock(fd, operation) } while rc != 0 && errno == EINTR
            if rc != 0 {
                let error = errno
                close(fd)
                if error == EWOULDBLOCK { return nil }
                throw NGramStoreError.system(error, path: path, doing: "locking the store")
            }
            // A replacement may have renamed a new file over the path while this process waited
            // on the old one: lock the file the path names now.
            var locked = stat(), current = stat()
            if fstat(fd, &locked) == 0, stat(path, &current) == 0,
               locked.st_dev == current.st_dev, locked.st_ino == current.st_ino {
                return StoreFileLock(fd: fd, createdFile: created)
            }
            close(fd)
        }
    }

    /// Removes the data file this lock created, if it is still the empty file it created (a
    /// store whose creation failed must not leave an empty file that later opens refuse).
    func removeCreatedFile(_ path: String) {
        guard createdFile else { return }
        var locked = stat(), current = stat()
        if fstat(fd, &locked) == 0, locked.st_size == 0, stat(path, &current) == 0,
           locked.st_ino == current.st_ino, locked.st_dev == current.st_dev {
            unlink(path)
        }
    }
}

/// Which processes hold locks on a file: `/proc/locks` (Linux) lists every flock and fcntl lock
/// with its pid and the inode it is on; the `fcntl(F_GETLK)` probe names one holder elsewhere.
enum FileLockHolders {
    /// The kind of lock, as `/proc/locks` names it.
    enum Kind: String {
        case flock = "FLOCK"
        case posix = "POSIX"
    }

    /// The pids holding locks of `kind` on the file at `path`, this process excluded, in order.
    static func pids(_ kind: Kind, on path: String) -> [Int32] {
        var info = stat()
        guard stat(path, &info) == 0,
              let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8) else { return [] }
        let me = getpid()
        var pids: [Int32] = []
        // "1: FLOCK  ADVISORY  READ 1234 fd:01:5678 0 EOF"; waiting requests carry "->" after
        // the number and hold nothing yet.
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == Substring(kind.rawValue),
                  let pid = Int32(fields[4]), pid != me,
                  let inode = fields[5].split(separator: ":").last.flatMap({ UInt64($0) }),
                  inode == UInt64(info.st_ino), !pids.contains(pid) else { continue }
            pids.append(pid)
        }
        return pids
    }

    /// The processes that have the LMDB environment of `lockPath` open: LMDB holds a shared fcntl
    /// lock on the lock file's first byte for as long as an environment is open (readers between
    /// transactions included, which its reader table does not list under `MDB_NOTLS`).
    ///
    /// Must not be called while this process has the environment open: closing the probe's
    /// descriptor would drop this process's own fcntl locks on the file.
    /// - Returns: their pids (this process excluded); empty when none, or when the lock file is
    ///   missing; `nil` when the lock file exists but cannot be opened to look.
    static func lmdbUsers(lockPath: String) -> [Int32]? {
        let fd = open(lockPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno == ENOENT ? [] : nil }
        defer { close(fd) }
        var probe = flock()
        probe.l_type = Int16(F_WRLCK)
        probe.l_whence = Int16(SEEK_SET)
        probe.l_start = 0
        probe.l_len = 1
        guard fcntl(fd, F_GETLK, &probe) == 0 else { return nil }
        guard probe.l_type != Int16(F_UNLCK) else { return [] }
        let listed = pids(.posix, on: lockPath)
        return listed.isEmpty ? [probe.l_pid] : listed
    }

    /// "pid 123 (decograph run graphs/ngram.yaml), pid 456 (…)" for a message.
    static func describe(_ pids: [Int32]) -> String {
        pids.map { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else {
                return "pid \(pid)"
            }
            let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            var command = ([(words.first as NSString?)?.lastPathComponent ?? ""] + words.dropFirst()).joined(separator: " ")
            if command.count > maxCommandCharacters { command = String(command.prefix(maxCommandCharacters)) + "…" }
            return "pid \(pid) (\(command))"
        }.joined(separator: ", ")
    }

    /// Longest command line quoted per process in a message.
    static let maxCommandCharacters = 80
}
