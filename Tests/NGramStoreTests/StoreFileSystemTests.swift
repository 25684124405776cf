import Foundation
import Testing
@testable import NGramStore

/// Stores on file systems that say no: full, read-only, immutable. Serialized: they mount file
/// systems and run child processes.
@Suite(.serialized) struct StoreFileSystemTests {
    /// The bug: LMDB extends a new lock file without allocating it and writes its header through
    /// a memory map, so a full disk killed the process with SIGBUS. The child process shows it
    /// (a signal would end it with status 128 + 7); now it reports the lock file and exits 1.
    @Test(.enabled(if: SmallFileSystem.isAvailable, "mounting a tmpfs needs root (CAP_SYS_ADMIN); see injectedFullDiskIsReportedAndLeavesNoFiles"))
    func aFullDiskIsAnErrorNotABusError() throws {
        let small = try #require(SmallFileSystem(bytes: 1 << 16))
        small.fill()
        let path = small.path + "/s.lmdb"
        let child = try HelperProcess(["create", path])
        let (status, errors) = child.finish()
        #expect(status == 1, "the helper ended with \(status): \(errors)")
        #expect(errors.contains("\(path)-lock: error: no space left on device"), "\(errors)")
        #expect(small.entries() == ["filler"], "a failed creation leaves no files")
    }

    /// The same path without a full disk: the allocation of the lock file is injected to fail.
    @Test func injectedFullDiskIsReportedAndLeavesNoFiles() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("s.lmdb")
        var options = NGramStore.Options()
        options.allocateLockFile = { _, _ in ENOSPC }
        let error = #expect(throws: NGramStoreError.self) {
            try NGramStore.create(at: path, tokenizerFingerprint: "fp", options: options)
        }
        #expect(error?.code == .noSpace)
        #expect(error?.path == path + "-lock")
        #expect(error?.message.contains("no space left on device") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == [])
    }

    /// A store whose lock file LMDB would extend is allocated to the size LMDB gives it.
    @Test func theLockFileIsAllocatedToLMDBsSize() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("s.lmdb")
        _ = try NGramStore.create(at: path, tokenizerFingerprint: "fp")
        var info = stat()
        #expect(stat(path + "-lock", &info) == 0)
        #expect(Int(info.st_size) == NGramStore.lockFileBytes(readers: 126))
        #expect(Int(info.st_blocks) * 512 >= Int(info.st_size), "the lock file has its blocks")
    }

    static let canMakeImmutable: Bool = {
        let dir = TemporaryDirectory()
        guard system("/usr/bin/chattr", ["+i", dir.url.path]) else { return false }
        system("/usr/bin/chattr", ["-i", dir.url.path])
        return true
    }()

    /// A store in a directory nobody may write (an immutable directory and files: root cannot
    /// write them either, unlike a chmod) opens for reading without a lock file and reads all its
    /// records; a writable open is refused with a message.
    @Test(.enabled(if: canMakeImmutable, "chattr +i needs root and a file system with inode flags (ext4, xfs)"))
    func aStoreInAnImmutableDirectoryOpensForReading() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("s.lmdb")
        let before = try StoreReplacementTests.makeStore(path, batches: 5)
        unlink(path + "-lock")  // as if copied there without one
        #expect(system("/usr/bin/chattr", ["+i", path, dir.url.path]))
        defer { system("/usr/bin/chattr", ["-i", path, dir.url.path]) }
        let store = try NGramStore.open(at: path, tokenizerFingerprint: nil, options: .init(readOnly: true))
        #expect(store.isLockless)
        let after = try committedContents(path)
        #expect(after.tokens == before.tokens && after.records == before.records)
        let error = #expect(throws: NGramStoreError.self) { try NGramStore.open(at: path, tokenizerFingerprint: nil) }
        #expect(error?.message.contains("cannot write the lock file") == true)
    }

    /// On a read-only bind mount of a directory that a writer uses through its writable path,
    /// reading without the lock file would not see that writer's page reuse: refused, naming it.
    /// Without the writer the store opens. (LMDB alone opens it lockless in both cases.)
    @Test(.enabled(if: SmallFileSystem.isAvailable, "a read-only bind mount needs root (CAP_SYS_ADMIN)"))
    func aReadOnlyMountRefusesLocklessReadingWhileAWriterHasTheStoreOpen() throws {
        let dir = TemporaryDirectory()
        let source = dir.url.appendingPathComponent("rw").path, view = dir.url.appendingPathComponent("ro").path
        mkdir(source, 0o755)
        mkdir(view, 0o755)
        let before = try StoreReplacementTests.makeStore(source + "/s.lmdb", batches: 5)
        #expect(mount(source, view, nil, UInt(MS_BIND), nil) == 0)
        defer { umount2(view, Int32(MNT_DETACH)) }
        #expect(mount(nil, view, nil, UInt(MS_BIND | MS_REMOUNT | MS_RDONLY), nil) == 0)

        let writer = try HelperProcess(["learn", source + "/s.lmdb", "300"])
        #expect(writer.line() == "open")
        let error = #expect(throws: NGramStoreError.self) {
            try NGramStore.open(at: view + "/s.lmdb", tokenizerFingerprint: nil, options: .init(readOnly: true))
        }
        #expect(error?.code == .inUse)
        #expect(error?.message.contains("pid \(writer.pid)") == true, "\(String(describing: error))")
        writer.proceed()
        #expect(writer.line() == "committed")
        #expect(writer.finish().status == 0)

        let store = try NGramStore.open(at: view + "/s.lmdb", tokenizerFingerprint: nil, options: .init(readOnly: true))
        #expect(store.isLockless)
        #expect(try store.withReadTransaction { $0.tokensLearned } == before.tokens + 300)
    }

    /// A reader that may not write the store's directory (the plain permission case, `EACCES`:
    /// a helper run as user nobody, the directory root's and 0755) reads without the lock file;
    /// while a writer has the store open it is refused instead, naming the writer.
    @Test(.enabled(if: HelperProcess.canRunAsNobody, "needs root to run a helper as another user"))
    func aReaderWithoutWriteAccessReadsWithoutTheLockFile() throws {
        let dir = TemporaryDirectory()
        chmod(dir.url.path, 0o755)
        let path = dir.path("s.lmdb")
        let before = try StoreReplacementTests.makeStore(path, batches: 5)

        let writer = try HelperProcess(["learn", path, "300"])
        #expect(writer.line() == "open")
        let refused = try HelperProcess(["read", path], asNobody: true)
        let (status, errors) = refused.finish()
        #expect(status == 1)
        #expect(errors.contains("cannot write the lock file \(path)-lock, and pid \(writer.pid)"), "\(errors)")
        writer.proceed()
        #expect(writer.line() == "committed")
        #expect(writer.finish().status == 0)

        unlink(path + "-lock")
        let reader = try HelperProcess(["read", path], asNobody: true)
        #expect(reader.line() == "open")
        reader.proceed()
        #expect(reader.line() == "tokens \(before.tokens + 300)")
        #expect(reader.finish().status == 0)
        #expect(!FileManager.default.fileExists(atPath: path + "-lock"), "the reader created no lock file")
    }

    /// A disk that fills up under a store in use: the commit that does not fit is an error
    /// (`noSpace`), and every batch committed before it is still there, as is the store's use.
    @Test(.enabled(if: SmallFileSystem.isAvailable, "mounting a tmpfs needs root (CAP_SYS_ADMIN)"))
    func aDiskFullAtCommitKeepsWhatWasCommitted() throws {
        let small = try #require(SmallFileSystem(bytes: 256 << 10))
        let path = small.path + "/s.lmdb"
        let store = try NGramStore.create(at: path, tokenizerFingerprint: "fp")
        var learner = StoreLearner(store: store, batchContexts: Int.max)
        var stream = TokenStream(seed: 9)
        try learner.learn(tokens: stream.tokens(500, vocabulary: 300))
        try learner.flush()
        let before = try store.withReadTransaction { txn -> (UInt64, Int) in
            var records = 0
            try txn.forEachRecord { _, _ in records += 1; return true }
            return (txn.tokensLearned, records)
        }
        small.fill()
        try learner.learn(tokens: stream.tokens(20_000, vocabulary: 5000))
        let error = #expect(throws: NGramStoreError.self) { try learner.flush() }
        #expect(error?.code == .noSpace, "\(String(describing: error))")
        let after = try store.withReadTransaction { txn -> (UInt64, Int) in
            var records = 0
            try txn.forEachRecord { _, _ in records += 1; return true }
            return (txn.tokensLearned, records)
        }
        #expect(after == before)
    }
}
