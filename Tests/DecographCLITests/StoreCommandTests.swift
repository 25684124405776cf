import Foundation
import NGramStore
import Testing
@testable import DecographCLI

@Suite struct StoreCommandTests {
    final class Files {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-cli-\(UUID().uuidString)")
        init() { try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        func write(_ name: String, _ text: String) -> String {
            _ = FileManager.default.createFile(atPath: path(name), contents: Data(text.utf8))
            return path(name)
        }
        deinit { try? FileManager.default.removeItem(at: dir) }
    }

    @discardableResult
    func run(_ args: [String], status: Int32 = 0) -> CapturingOutput {
        let capture = CapturingOutput()
        let rc = DecographCLI.main(args, context: capture.context)
        #expect(rc == status, "\(args): \(capture.err)")
        return capture
    }

    @Test func buildQueryStatsSimulateMerge() throws {
        let files = Files()
        let train = files.write("train.ids", String(repeating: "5 6 7 8 9 10\n", count: 6) + "5 6 7 1\n")
        let held = files.write("held.ids", "5 6 7 8 9 10 5 6 7 8 9 10\n")
        let store = files.path("s.lmdb")
        let built = run(["store", "build", "--fingerprint", "fp", "--out", store, train])
        #expect(built.out.contains("learned 40 tokens (7 texts, 1 files)"))
        // With a line "11 12 13" more, --min-total 2 drops its three contexts seen once
        // ([11], [12], [11 12]) and keeps the 14 of the training lines, all seen 6 or 7 times.
        let rare = files.write("rare.ids", String(repeating: "5 6 7 8 9 10\n", count: 6) + "5 6 7 1\n11 12 13\n")
        let prunedPath = files.path("p.lmdb")
        let pruned = run(["store", "build", "--fingerprint", "fp", "--out", prunedPath, "--min-total", "2", "--compact", rare])
        #expect(pruned.out.contains("removed 3 contexts seen fewer than 2 times"))
        #expect(pruned.out.contains(": 14 contexts"))

        let query = run(["store", "query", store, "--ids", "6 7", "--json"])
        let result = try JSONDecoder().decode(StoreCommand.QueryResult.self, from: Data(query.out.utf8))
        #expect(result.levels.map(\.context) == [[6, 7], [7]])
        #expect(result.levels[0].total == 7)
        #expect(result.levels[0].continuations.first { $0.tokens == [8] }?.count == 6)
        #expect(result.draft.map(\.token) == [8, 9, 10])

        let stats = run(["store", "stats", store, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(stats.out.utf8)) as? [String: Any]
        #expect(object?["tokensLearned"] as? Int == 40)
        // Contexts followed by a token: 5 6 7 8 9; 5 6, 6 7, 7 8, 8 9; …
        #expect(object?["contextsByLength"] as? [Int] == [5, 4, 3, 2])

        let simulated = run(["store", "simulate", store, held, "--json"])
        let rows = try JSONDecoder().decode([StoreCommand.SimulationRow].self, from: Data(simulated.out.utf8))
        #expect(rows.map(\.drafter) == ["context", "context+store"])
        #expect(rows.allSatisfy { $0.tokens == 11 })
        #expect(rows[1].tokensPerStep > rows[0].tokensPerStep)

        let merged = files.path("m.lmdb")
        run(["store", "merge", store, store, "--out", merged, "--compact"])
        let mergedStats = run(["store", "stats", merged, "--json"])
        let mergedObject = try JSONSerialization.jsonObject(with: Data(mergedStats.out.utf8)) as? [String: Any]
        #expect(mergedObject?["tokensLearned"] as? Int == 80)
    }

    @Test func errorsAreLocatedAndExitStatusesRight() {
        let files = Files()
        let bad = files.write("bad.ids", "1 2\n3 x 4\n")
        let failed = run(["store", "build", "--fingerprint", "fp", "--out", files.path("s.lmdb"), bad], status: 1)
        #expect(failed.err.contains("bad.ids:2:3: error: 'x' in a token-id file"))
        let garbage = files.write("garbage.lmdb", String(repeating: "not lmdb ", count: 2000))
        let notStore = run(["store", "stats", garbage], status: 1)
        #expect(notStore.err.contains("garbage.lmdb: error: not an n-gram store"))
        run(["store", "query", garbage, "--ids", "1 x"], status: 64)
        run(["store", "merge", garbage, "--out", garbage], status: 64)
    }

    /// `--memory`, `--tmp-dir` and `--singleton-budget`: sizes with units, a refused tiny
    /// budget, runs spilled where asked and removed after, and the budget's effect on what is kept.
    @Test func buildTakesAMemoryBudgetATemporaryDirectoryAndASingletonBudget() throws {
        let files = Files()
        let scratch = files.path("scratch")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        // 20 distinct tokens once each, then a line repeated: 19 + 18 + 17 + 16 singletons.
        let train = files.write("train.ids", (100..<120).map(String.init).joined(separator: " ") + "\n"
                                + String(repeating: "5 6 7 8 9 10\n", count: 4))
        let all = files.path("all.lmdb"), none = files.path("none.lmdb")
        let kept = run(["store", "build", "--fingerprint", "fp", "--out", all, "--memory", "64M", "--tmp-dir", scratch,
                        "--singleton-budget", "all", train])
        #expect(kept.out.contains(": 84 contexts"), "\(kept.out)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty)
        let pruned = run(["store", "build", "--fingerprint", "fp", "--out", none, "--singleton-budget", "0", train])
        #expect(pruned.out.contains("removed 70 contexts seen once beyond the singleton budget"), "\(pruned.out)")
        #expect(pruned.out.contains(": 14 contexts"))
        let tiny = run(["store", "build", "--fingerprint", "fp", "--out", files.path("x.lmdb"), "--memory", "1K", train], status: 64)
        #expect(tiny.err.contains("The value '1K' is invalid for '--memory': expected a size of at least 16M"))
        run(["store", "build", "--fingerprint", "fp", "--out", files.path("x.lmdb"), "--memory", "lots", train], status: 64)
        let budget = run(["store", "build", "--fingerprint", "fp", "--out", files.path("x.lmdb"), "--singleton-budget", "some", train], status: 64)
        #expect(budget.err.contains("expected a count of contexts (0 or more) or 'all'"))
    }

    static let tokenizerDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizers/gpt2").path

    @Test func textInputsGoThroughTheTokenizer() throws {
        let files = Files()
        let train = files.write("train.txt", String(repeating: "the quick brown fox jumps over the lazy dog\n", count: 8))
        let held = files.write("held.txt", "a quick brown fox jumps over the lazy dog and the quick brown fox jumps over it\n")
        let store = files.path("t.lmdb")
        run(["store", "build", "--tokenizer", Self.tokenizerDir, "--out", store, train])
        let query = run(["store", "query", store, "--tokenizer", Self.tokenizerDir, "--text", "the quick", "--json"])
        let result = try JSONDecoder().decode(StoreCommand.QueryResult.self, from: Data(query.out.utf8))
        // " brown" always followed "the quick" (8 times; the last line's continuation included).
        #expect(result.levels.first?.total == 8)
        #expect(result.draft.count >= 1)
        let simulated = run(["store", "simulate", store, "--tokenizer", Self.tokenizerDir, held, "--json"])
        let rows = try JSONDecoder().decode([StoreCommand.SimulationRow].self, from: Data(simulated.out.utf8))
        #expect(rows[1].tokensPerStep > rows[0].tokensPerStep)

        // A store of another vocabulary is refused, and so is invalid UTF-8, with its offset.
        let other = files.path("o.lmdb")
        run(["store", "build", "--fingerprint", "another-vocabulary", "--out", other, files.write("ids", "1 2 3\n")])
        let mismatch = run(["store", "simulate", other, "--tokenizer", Self.tokenizerDir, held], status: 1)
        #expect(mismatch.err.contains("the store was built with tokenizer 'another-vocabulary'"))
        let badPath = files.path("bad.txt")
        _ = FileManager.default.createFile(atPath: badPath, contents: Data([0x61, 0x62, 0xFF, 0x63]))
        let bad = run(["store", "build", "--tokenizer", Self.tokenizerDir, "--out", files.path("b.lmdb"), badPath], status: 1)
        #expect(bad.err.contains("bad.txt: error: invalid UTF-8 at byte offset 2"))
        run(["store", "build", "--out", files.path("c.lmdb"), train], status: 64)
    }

    /// Tokens learned into the store at `path`, as `store stats --json` reports them.
    func tokensLearned(_ path: String) throws -> Int? {
        let stats = run(["store", "stats", path, "--json"])
        return (try JSONSerialization.jsonObject(with: Data(stats.out.utf8)) as? [String: Any])?["tokensLearned"] as? Int
    }

    /// `NGramStoreTestHelper` (built with the package): a second process holding a store open.
    static func helper(_ arguments: [String]) throws -> (process: Process, output: FileHandle, input: FileHandle) {
        let exe = try #require(Bundle.main.executableURL)
        let candidates = [exe.deletingLastPathComponent(), exe.deletingLastPathComponent().deletingLastPathComponent()]
            .map { $0.appendingPathComponent("NGramStoreTestHelper").path }
        let path = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
                                "build the NGramStoreTestHelper target ('swift build --build-tests')")
        let process = Process(), output = Pipe(), input = Pipe()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        return (process, output.fileHandleForReading, input.fileHandleForWriting)
    }

    /// Reads one line the helper prints (it prints a few short lines, each flushed at once).
    static func readLine(_ handle: FileHandle) -> String {
        var line = Data()
        while let byte = try? handle.read(upToCount: 1), let b = byte.first, b != UInt8(ascii: "\n") { line.append(b) }
        return String(decoding: line, as: UTF8.self)
    }

    /// The bug: `store build --compact` renamed the compacted file over a store that a learning
    /// run had open; the run's tokens then went to the old file, and could wreck the new one.
    /// Now the compaction is refused, naming the run's process; every token is kept.
    @Test func compactIsRefusedWhileALearningRunHasTheStoreOpen() throws {
        let files = Files()
        let store = files.path("s.lmdb")
        let train = files.write("train.ids", String(repeating: "5 6 7 8 9 10\n", count: 10))
        run(["store", "build", "--fingerprint", "helper-fingerprint", "--out", store, train])
        let helper = try Self.helper(["learn", store, "500"])
        #expect(Self.readLine(helper.output) == "open")

        let more = files.write("more.ids", "1 2 3 4\n")
        let refused = run(["store", "build", "--fingerprint", "helper-fingerprint", "--out", store, "--compact", more], status: 1)
        #expect(refused.err.contains("the store is open in pid \(helper.process.processIdentifier) (NGramStoreTestHelper learn"), "\(refused.err)")
        #expect(refused.err.contains("the 4 tokens learned are committed"))

        helper.input.write("go\n".data(using: .utf8)!)
        #expect(Self.readLine(helper.output) == "committed")
        helper.process.waitUntilExit()
        #expect(helper.process.terminationStatus == 0)
        #expect(try tokensLearned(store) == 60 + 4 + 500)
        // Alone, it compacts and keeps them all.
        run(["store", "build", "--fingerprint", "helper-fingerprint", "--out", store, "--compact", more])
        #expect(try tokensLearned(store) == 60 + 8 + 500)
    }

    /// A merge that fails (its second input of another vocabulary) writes nothing: a new output
    /// is not created, an existing one keeps its records.
    @Test func aFailedMergeLeavesNoHalfMergedOutput() throws {
        let files = Files()
        let a = files.path("a.lmdb"), b = files.path("b.lmdb"), out = files.path("out.lmdb")
        run(["store", "build", "--fingerprint", "fp", "--out", a, files.write("a.ids", "1 2 3 4 5\n")])
        run(["store", "build", "--fingerprint", "other", "--out", b, files.write("b.ids", "1 2 3\n")])
        let failed = run(["store", "merge", a, b, "--out", out], status: 1)
        #expect(failed.err.contains("the store was built with tokenizer 'other'"))
        #expect(!FileManager.default.fileExists(atPath: out))

        run(["store", "build", "--fingerprint", "fp", "--out", out, files.write("c.ids", "7 8 9\n")])
        run(["store", "merge", a, b, "--out", out], status: 1)
        #expect(try tokensLearned(out) == 3)
        run(["store", "merge", a, "--out", out])
        #expect(try tokensLearned(out) == 8)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: files.dir.path).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    static let canMakeImmutable: Bool = {
        let files = Files()
        let chattr = Process()
        chattr.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        chattr.arguments = ["+i", files.dir.path]
        guard (try? chattr.run()) != nil else { return false }
        chattr.waitUntilExit()
        setImmutable(false, [files.dir.path])
        return chattr.terminationStatus == 0
    }()

    static func setImmutable(_ on: Bool, _ paths: [String]) {
        let chattr = Process()
        chattr.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        chattr.arguments = [on ? "+i" : "-i"] + paths
        try? chattr.run()
        chattr.waitUntilExit()
    }

    /// A store in a directory nobody may write (immutable: the tests run as root, which a chmod
    /// would not stop) serves `stats`, `query` and `simulate`, read without LMDB's lock file.
    @Test(.enabled(if: canMakeImmutable, "chattr +i needs root and a file system with inode flags (ext4, xfs)"))
    func readOnlyCommandsWorkOnAStoreInAnImmutableDirectory() throws {
        let files = Files()
        let dir = files.path("ro")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = dir + "/s.lmdb"
        run(["store", "build", "--fingerprint", "fp", "--out", store, files.write("t.ids", String(repeating: "5 6 7 8 9 10\n", count: 6))])
        unlink(store + "-lock")
        Self.setImmutable(true, [store, dir])
        defer { Self.setImmutable(false, [store, dir]) }
        #expect(try tokensLearned(store) == 36)
        let query = run(["store", "query", store, "--ids", "6 7", "--json"])
        #expect(query.out.contains("\"total\" : 6"))
        run(["store", "simulate", store, files.write("held.ids", "5 6 7 8 9 10\n"), "--json"])
        #expect(!FileManager.default.fileExists(atPath: store + "-lock"))
        let write = run(["store", "build", "--fingerprint", "fp", "--out", store, files.path("t.ids")], status: 1)
        #expect(write.err.contains("cannot write the lock file"))
        #expect(try tokensLearned(store) == 36)
    }

    /// The bug: `store build DIR` stopped at the first binary file ("invalid UTF-8 at byte offset
    /// 0" for a `.pyc`). Binary and non-UTF-8 files under a directory are skipped and counted;
    /// `--include` and `--exclude` choose the files.
    @Test func buildSkipsBinaryFilesUnderADirectoryAndFiltersByGlob() throws {
        let files = Files()
        let fm = FileManager.default
        for sub in ["src/__pycache__", "src/pkg", "docs"] {
            try fm.createDirectory(atPath: files.path("corpus/" + sub), withIntermediateDirectories: true)
        }
        let line = "the quick brown fox jumps over the lazy dog\n"
        _ = files.write("corpus/src/a.py", line)
        _ = files.write("corpus/src/pkg/b.py", line + line)
        _ = files.write("corpus/docs/c.txt", line)
        _ = fm.createFile(atPath: files.path("corpus/src/__pycache__/a.cpython-312.pyc"), contents: Data([0xCB, 0x0D, 0x0D, 0x0A, 0, 0, 0, 0, 0x61]))
        _ = fm.createFile(atPath: files.path("corpus/docs/latin1.txt"), contents: Data("caf".utf8 + [0xE9, 0x0A]))
        let corpus = files.path("corpus")

        let all = run(["store", "build", "--tokenizer", Self.tokenizerDir, "--out", files.path("all.lmdb"), corpus])
        #expect(all.out.contains("(3 texts, 3 files)"), "\(all.out)")
        #expect(all.err.contains("note: skipped 1 binary file (a NUL byte in the first 8 KiB; first: \(corpus)/src/__pycache__/a.cpython-312.pyc) and 1 file not valid UTF-8 (first: \(corpus)/docs/latin1.txt)"), "\(all.err)")

        let py = run(["store", "build", "--tokenizer", Self.tokenizerDir, "--out", files.path("py.lmdb"), "--include", "*.py", corpus])
        #expect(py.out.contains("(2 texts, 2 files)"), "\(py.out)")
        #expect(!py.err.contains("skipped"))
        let some = run(["store", "build", "--tokenizer", Self.tokenizerDir, "--out", files.path("some.lmdb"),
                        "--include", "src/**", "--include", "docs/*.txt", "--exclude", "pkg/", "--exclude", "__pycache__", corpus])
        #expect(some.out.contains("(2 texts, 2 files)"), "\(some.out)")
        #expect(some.err.contains("1 file not valid UTF-8"))
        // Token-id files: a binary file under the directory is skipped too.
        try fm.createDirectory(atPath: files.path("ids"), withIntermediateDirectories: true)
        _ = files.write("ids/a.ids", "1 2 3\n")
        _ = fm.createFile(atPath: files.path("ids/b.bin"), contents: Data([1, 0, 2]))
        let ids = run(["store", "build", "--fingerprint", "fp", "--out", files.path("ids.lmdb"), files.path("ids")])
        #expect(ids.out.contains("(1 texts, 1 files)"))
        #expect(ids.err.contains("skipped 1 binary file"))

        run(["store", "build", "--fingerprint", "fp", "--out", files.path("x.lmdb"), "--include", "[abc", corpus], status: 64)
        let help = run(["store", "build", "--help"])
        #expect(help.out.contains("--include <GLOB>") && help.out.contains("--exclude <GLOB>"))
    }

    /// `bench store` leaves nothing in its directory (the store, its lock file, the compacted
    /// copy written through a temporary name), and reports bandwidth in GB/s (it printed bytes/s).
    @Test func benchStoreCleansUpAndReportsGigabytes() throws {
        let files = Files()
        let bench = run(["bench", "store", "--tokens", "1000", "--lookups", "100", "--json", "--dir", files.dir.path])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(bench.out.utf8)) as? [String: Any])
        let bandwidth = try #require(report["memoryBandwidthGBPerSecond"] as? Double)
        #expect(bandwidth > 0.1 && bandwidth < 10_000, "\(bandwidth) GB/s")
        #expect((report["compactedBytesPerToken"] as? Double ?? 0) > 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: files.dir.path) == [])
    }

    /// `bench store STORE FILES…` times queries on a built store with contexts from held-out
    /// files: every context of the training text is found, the shifted quarter never is.
    @Test func benchStoreMeasuresABuiltStore() throws {
        let files = Files()
        let train = files.write("train.ids", String(repeating: "5 6 7 8 9 10 11\n", count: 8))
        let held = files.write("held.ids", "5 6 7 8 9 10 11\n")
        let store = files.path("s.lmdb")
        run(["store", "build", "--fingerprint", "fp", "--out", store, train])
        let bench = run(["bench", "store", store, held, "--lookups", "400", "--json"])
        let report = try JSONDecoder().decode(StoreBenchmark.QueryReport.self, from: Data(bench.out.utf8))
        #expect(report.storeTokens == 56)
        #expect(report.texts == 1 && report.textTokens == 7)
        #expect(report.lookups == 400)
        #expect(report.lookupHitRate == 0.75)
        #expect(report.draftP99Nanoseconds >= report.draftP50Nanoseconds && report.draftP50Nanoseconds > 0)
        #expect(run(["bench", "store", store, held, "--lookups", "400"]).out.contains("draft step:"))

        let missing = run(["bench", "store", store], status: 64)
        #expect(missing.err.contains("needs FILES"))
        let empty = files.write("empty.ids", "5\n")
        let short = run(["bench", "store", store, empty], status: 1)
        #expect(short.err.contains("no text of two tokens or more"))
    }

    /// gitignore-style globs against paths relative to the walked directory.
    @Test(arguments: [
        ("*.py", "a.py", false, true), ("*.py", "src/deep/a.py", false, true), ("*.py", "a.pyc", false, false),
        ("src/*.py", "src/a.py", false, true), ("src/*.py", "src/x/a.py", false, false), ("src/*.py", "lib/src/a.py", false, false),
        ("src/**/*.py", "src/a.py", false, true), ("src/**/*.py", "src/x/y/a.py", false, true),
        ("**/test", "a/b/test", true, true), ("docs/**", "docs/x/y.md", false, true), ("/build", "build", true, true),
        ("/build", "x/build", true, false), ("build/", "build", false, false), ("build/", "x/build", true, true),
        ("?.txt", "a.txt", false, true), ("?.txt", "ab.txt", false, false), ("[ab]*.md", "b1.md", false, true),
        ("[!ab]*.md", "b1.md", false, false), ("*", "x/y", false, true), ("a*b", "a/b", false, false),
    ])
    func globsMatchLikeGitignore(pattern: String, path: String, isDirectory: Bool, matches: Bool) throws {
        let glob = try PathGlob(pattern, option: "include")
        #expect(glob.matches(path.split(separator: "/")[...], isDirectory: isDirectory) == matches)
    }
}
