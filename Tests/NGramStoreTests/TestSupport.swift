import Foundation
@testable import NGramStore

/// A fresh directory for one test's store files, removed when the value is released.
final class TemporaryDirectory {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ngram-store-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A deterministic pseudo-random token stream (an LCG; the tests need repeatability, not quality).
struct TokenStream {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }
    mutating func next(vocabulary: Int) -> Int32 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int32(truncatingIfNeeded: (state >> 33) % UInt64(vocabulary))
    }
    mutating func tokens(_ count: Int, vocabulary: Int) -> [Int32] { (0..<count).map { _ in next(vocabulary: vocabulary) } }
}

func run(_ tokens: Int32...) -> TokenRun { TokenRun(tokens) }

/// A `NGramStoreTestHelper` child process driven line by line through its standard input and
/// output (see the helper's usage), with a bounded wait for every line so a test never hangs.
final class HelperProcess {
    let process = Process()
    private let output = Pipe(), input = Pipe(), errors = Pipe()
    private var buffer: [UInt8] = []

    /// Where the helper executable is: beside the test bundle in `.build/<config>/`.
    static func executable() -> String? {
        var candidates: [String] = []
        if let exe = Bundle.main.executableURL {
            var dir = exe.deletingLastPathComponent()
            // On Linux the bundle is an executable under `.build/debug/…xctest`; elsewhere a folder.
            for _ in 0..<4 {
                candidates.append(dir.appendingPathComponent("NGramStoreTestHelper").path)
                dir = dir.deletingLastPathComponent()
            }
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/NGramStoreTestHelper").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "NGramStoreTestHelper is not built; run 'swift build --build-tests'" }
    }

    /// Runs the helper; with `asNobody`, as user and group 65534 through setpriv(1) (which
    /// execs it, so the pid is the helper's).
    init(_ arguments: [String], asNobody: Bool = false) throws {
        guard let helper = Self.executable() else { throw Missing() }
        if asNobody {
            process.executableURL = URL(fileURLWithPath: Self.setpriv)
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", helper] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: helper)
            process.arguments = arguments
        }
        process.standardOutput = output
        process.standardInput = input
        process.standardError = errors
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    static let setpriv = "/usr/bin/setpriv"
    /// Whether helpers can run as an unprivileged user: this process is root, setpriv exists, and
    /// user nobody may execute the helper (its directories may be private); the helper without
    /// arguments prints its usage and exits 64.
    static let canRunAsNobody: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: setpriv),
              let probe = try? HelperProcess([], asNobody: true) else { return false }
        return probe.finish().status == 64
    }()

    /// The next line the helper prints, or `nil` when none comes within `timeout` seconds.
    func line(timeout: Double = 30) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        let fd = output.fileHandleForReading.fileDescriptor
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1000) + 1) > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { return nil }
            buffer += chunk[..<n]
        }
    }

    /// Tells the helper to go on.
    func proceed() { input.fileHandleForWriting.write("go\n".data(using: .utf8)!) }

    /// Waits for the helper to exit.
    /// - Returns: its exit status (128 + signal when a signal killed it) and standard error.
    func finish() -> (status: Int32, errors: String) {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return (status, text)
    }
}

/// A small tmpfs mounted for one test (a full disk on demand), unmounted when released. Needs
/// root (CAP_SYS_ADMIN); `isAvailable` says whether this machine allows it.
final class SmallFileSystem {
    let path: String

    init?(bytes: Int) {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ngram-store-tmpfs-\(UUID().uuidString)").path
        guard mkdir(path, 0o755) == 0 else { return nil }
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(bytes)") == 0 else {
            rmdir(path)
            return nil
        }
    }

    deinit {
        umount2(path, Int32(MNT_DETACH))
        rmdir(path)
    }

    /// Whether a tmpfs can be mounted here (tests that need a full disk are skipped otherwise).
    static let isAvailable: Bool = SmallFileSystem(bytes: 1 << 16) != nil

    /// Writes a file until the file system is full.
    func fill() {
        let fd = open(path + "/filler", O_WRONLY | O_CREAT, 0o644)
        defer { close(fd) }
        let block = [UInt8](repeating: 0, count: 4096)
        while write(fd, block, block.count) > 0 {}
    }

    func entries() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}

/// Runs a command (chattr, mount), returning whether it succeeded.
@discardableResult
func system(_ command: String, _ arguments: [String]) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: command)
    process.arguments = arguments
    process.standardError = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}

/// Tokens learned and records held by the store at `path` (opened read-only): what the
/// durability tests count.
func committedContents(_ path: String) throws -> (tokens: UInt64, records: Int) {
    let store = try NGramStore.open(at: path, tokenizerFingerprint: nil, options: .init(readOnly: true))
    return try store.withReadTransaction { txn in
        var records = 0
        try txn.forEachRecord { _, _ in
            records += 1
            return true
        }
        return (txn.tokensLearned, records)
    }
}
