import Foundation
import Testing
@testable import NGramStore

/// Replacing a store's file (compaction, merge) with other processes around: refused while any
/// has the store open, waited for by those that open it meanwhile, and nothing committed lost.
/// Serialized: the tests run child processes.
@Suite(.serialized) struct StoreReplacementTests {
    static let batchLength = 400

    /// A store with `batches` committed texts, closed again.
    static func makeStore(_ path: String, batches: Int) throws -> (tokens: UInt64, records: Int) {
        do {
            let store = try NGramStore.create(at: path, tokenizerFingerprint: "helper-fingerprint")
            var learner = StoreLearner(store: store, batchContexts: 512)
            var stream = TokenStream(seed: 3)
            for _ in 0..<batches { try learner.learn(tokens: stream.tokens(batchLength, vocabulary: 300)) }
            try learner.flush()
        }
        return try committedContents(path)
    }

    /// The bug: `store build --compact` renamed a compacted copy over a store that a learning run
    /// had open, and the run's tokens went to the old file (lost), or the shared lock file then
    /// described the wrong file (store destroyed). Now compaction is refused, naming the
    /// processes, and the learner's tokens land in the store.
    @Test func compactionIsRefusedWhileOtherProcessesHaveTheStoreOpen() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("s.lmdb")
        let before = try Self.makeStore(path, batches: 20)
        let learner = try HelperProcess(["learn", path, "500"])
        let reader = try HelperProcess(["read", path])
        #expect(learner.line() == "open")
        #expect(reader.line() == "open")

        let error = #expect(throws: NGramStoreError.self) { try NGramStore.compact(at: path) }
        #expect(error?.code == .inUse)
        #expect(error?.message.contains("pid \(learner.pid) (NGramStoreTestHelper learn") == true, "\(String(describing: error))")
        #expect(error?.message.contains("pid \(reader.pid) (NGramStoreTestHelper read") == true)
        #expect(FileManager.default.fileExists(atPath: NGramStore.temporaryPath(for: path)) == false)

        learner.proceed()
        #expect(learner.line() == "committed")
        reader.proceed()
        #expect(reader.line().map { $0.hasPrefix("tokens ") } == true)
        #expect(learner.finish().status == 0)
        #expect(reader.finish().status == 0)
        let after = try committedContents(path)
        #expect(after.tokens == before.tokens + 500, "the learner's tokens are in the store")
        #expect(after.records > before.records)

        // With nobody else around it compacts, keeping every record.
        try NGramStore.compact(at: path)
        let compacted = try committedContents(path)
        #expect(compacted.tokens == after.tokens)
        #expect(compacted.records == after.records)
    }

    /// A process that opens the store while a replacement runs waits for it, then opens the new
    /// file (not the old one it first found), and what it learns is kept.
    @Test func anOpenerWaitsForAReplacementAndOpensTheNewFile() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("s.lmdb")
        let before = try Self.makeStore(path, batches: 20)
        var learner: HelperProcess?
        try NGramStore.replace(at: path, mayCreate: false) { current, temporary in
            try #require(current).writeCopy(to: temporary)
            learner = try HelperProcess(["learn", path, "500"])
            #expect(learner?.line(timeout: 0.5) == nil, "the learner opened the store during the replacement")
        }
        let helper = try #require(learner)
        #expect(helper.line() == "open")
        helper.proceed()
        #expect(helper.line() == "committed")
        #expect(helper.finish().status == 0)
        #expect(try committedContents(path).tokens == before.tokens + 500)
    }

    /// A merge that fails in the middle (a damaged record in its second source) leaves its output
    /// exactly as it was, and no temporary files.
    @Test func aFailedMergeLeavesTheOutputAsItWas() throws {
        let dir = TemporaryDirectory()
        let output = dir.path("out.lmdb"), good = dir.path("good.lmdb"), bad = dir.path("bad.lmdb")
        let before = try Self.makeStore(output, batches: 5)
        _ = try Self.makeStore(good, batches: 5)
        _ = try Self.makeStore(bad, batches: 5)
        do {
            // A record whose value does not decode, after the first records (read in key order).
            let store = try NGramStore.open(at: bad, tokenizerFingerprint: nil)
            try store.withWriteTransaction { txn in
                let rc = NGramStore.put(txn.txn, store.gramsDB, key: [4, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0],
                                        value: [0xFF, 0xFF, 0xFF])
                #expect(rc == 0)
            }
        }
        let sources = try [good, bad].map { try NGramStore.open(at: $0, tokenizerFingerprint: nil, options: .init(readOnly: true)) }
        let error = #expect(throws: NGramStoreError.self) { try NGramStore.merge(sources, into: output) }
        #expect(error?.code == .corrupt)
        let after = try committedContents(output)
        #expect(after.tokens == before.tokens)
        #expect(after.records == before.records)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path).sorted()
                == ["bad.lmdb", "bad.lmdb-lock", "good.lmdb", "good.lmdb-lock", "out.lmdb", "out.lmdb-lock"])

        // Without the damaged source it merges, atomically, into the output.
        try NGramStore.merge([sources[0]], into: output, compacting: true)
        #expect(try committedContents(output).tokens == before.tokens * 2)
    }

    /// A copy that runs out of space leaves no partial file (the bench's `*.compact`).
    @Test(.enabled(if: SmallFileSystem.isAvailable, "mounting a tmpfs needs root (CAP_SYS_ADMIN); the full-disk path is also tested through the injected allocation"))
    func aCopyThatRunsOutOfSpaceLeavesNoFile() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("s.lmdb")
        let before = try Self.makeStore(path, batches: 20)
        // Four pages: the compacted copy of 8 000 tokens' records needs more.
        let small = try #require(SmallFileSystem(bytes: 1 << 14))
        let store = try NGramStore.open(at: path, tokenizerFingerprint: nil, options: .init(readOnly: true))
        let error = #expect(throws: NGramStoreError.self) { try store.writeCopy(to: small.path + "/c.lmdb") }
        #expect(error?.code == .noSpace)
        #expect(error?.message.contains("no space left on device") == true)
        #expect(small.entries() == [])
        let after = try committedContents(path)
        #expect(after.tokens == before.tokens && after.records == before.records)
    }
}
