import Foundation
import Synchronization
import Testing
@testable import NGramStore

/// Many readers, one writer, and a writer killed mid-write. Serialized: each test runs its own
/// threads or process and would only slow the others on a small machine.
@Suite(.serialized) struct ConcurrencyTests {
    static let marker: Int32 = 1_000_000

    /// The text of batch `b`, as `NGramStoreTestHelper` writes it: the marker context
    /// `[marker, b]`, then a pseudo-random filler.
    static func batchText(_ b: Int, length: Int) -> [Int32] {
        var state = UInt64(b) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        var text: [Int32] = [marker, Int32(b)]
        while text.count < length {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            text.append(Int32(truncatingIfNeeded: (state >> 33) % 5000))
        }
        return text
    }

    /// A snapshot's invariant: batches are atomic, so the token count and the marker's count
    /// always describe the same number of whole batches.
    /// - Returns: the number of batches the snapshot holds.
    static func checkSnapshot(_ txn: NGramStore.ReadTransaction, batchLength: Int) throws -> Int {
        let tokens = txn.tokensLearned
        let markers = try txn.continuations(of: TokenRun([marker]))?.total ?? 0
        #expect(tokens % UInt64(batchLength) == 0, "a partial batch is visible: \(tokens) tokens")
        #expect(UInt64(markers) == tokens / UInt64(batchLength), "\(markers) markers but \(tokens) tokens")
        return Int(markers)
    }

    /// Reader threads see only whole batches, never go back in time, while a writer commits and
    /// grows the map (from 64 KiB) underneath them.
    @Test func readersSeeConsistentSnapshotsWhileWriterGrowsTheMap() throws {
        let dir = TemporaryDirectory()
        let store = try NGramStore.create(at: dir.path("s.lmdb"), tokenizerFingerprint: "fp",
                                          options: .init(initialMapSize: 1 << 16))
        let batches = 10, length = 600, readers = 3
        let done = Atomic<Bool>(false)
        let snapshots = Mutex<[Int]>(Array(repeating: 0, count: readers))
        let finished = DispatchSemaphore(value: 0)
        for r in 0..<readers {
            let thread = Thread {
                var last = 0
                while true {
                    let stop = done.load(ordering: .acquiring)
                    do {
                        let seen = try store.withReadTransaction { try Self.checkSnapshot($0, batchLength: length) }
                        #expect(seen >= last, "reader went back from \(last) to \(seen) batches")
                        last = seen
                        snapshots.withLock { $0[r] += 1 }
                    } catch {
                        Issue.record("reader failed: \(error)")
                        break
                    }
                    if stop { break }
                    // Leave the writer a core on a small machine; the reads still interleave.
                    usleep(500)
                }
                #expect(last == batches, "the last snapshot after the writer finished holds \(last) batches")
                finished.signal()
            }
            thread.start()
        }
        var learner = StoreLearner(store: store, batchContexts: Int.max)
        for b in 0..<batches {
            try learner.learn(tokens: Self.batchText(b, length: length))
            try learner.flush()
        }
        done.store(true, ordering: .releasing)
        for _ in 0..<readers { finished.wait() }
        #expect(store.mapSize > 1 << 16)
        #expect(snapshots.withLock { $0.allSatisfy { $0 > 0 } })
    }

    /// A writer process killed with SIGKILL in the middle of its batches: every batch it reported
    /// committed is in the store, the store reads end to end, and a new writer can take over.
    /// Meanwhile this process reads the store as a second process and sees only whole batches.
    @Test func writerKilledMidWriteLosesNothingCommitted() throws {
        let helper = try #require(HelperProcess.executable(), "build the NGramStoreTestHelper target first")
        let dir = TemporaryDirectory()
        let path = dir.path("s.lmdb")
        let length = 3000
        let process = Process()
        process.executableURL = URL(fileURLWithPath: helper)
        process.arguments = ["write", path, "100000", String(length)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()

        var reported = -1
        var buffer = ""
        var reader: NGramStore?
        var killAfter = Int.max
        // Read "committed b" lines; once two batches are in, kill after a further pseudo-random
        // number of batches plus a delay, so the kill lands inside a later batch's work.
        while process.isRunning {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            buffer += String(decoding: data, as: UTF8.self)
            while let newline = buffer.firstIndex(of: "\n") {
                let line = buffer[..<newline]
                buffer = String(buffer[buffer.index(after: newline)...])
                if line.hasPrefix("committed "), let b = Int(line.dropFirst(10)) { reported = b }
            }
            if reported >= 0 {
                if reader == nil { reader = try NGramStore.open(at: path, tokenizerFingerprint: "helper-fingerprint") }
                let seen = try reader!.withReadTransaction { try Self.checkSnapshot($0, batchLength: length) }
                #expect(seen >= reported + 1)
                if killAfter == .max { killAfter = reported + 1 + Int(UInt32.random(in: 0...1)) }
            }
            if reported >= killAfter {
                usleep(UInt32.random(in: 0...60_000))
                kill(process.processIdentifier, SIGKILL)
                break
            }
        }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the helper exited by itself: \(process.terminationStatus)")
        #expect(reported >= 1, "the helper committed \(reported + 1) batches before the kill")
        reader = nil

        let store = try NGramStore.open(at: path, tokenizerFingerprint: "helper-fingerprint")
        let batches = try store.withReadTransaction { txn -> Int in
            let batches = try Self.checkSnapshot(txn, batchLength: length)
            #expect(batches >= reported + 1)
            for b in 0..<batches {
                let text = Self.batchText(b, length: length)
                let summary = try txn.continuations(of: TokenRun(text[0..<2]))
                #expect(summary?.total == 1, "batch \(b) lost")
                #expect(summary?.count(of: TokenRun(text[2..<6])) == 1)
            }
            var records = 0
            try txn.forEachRecord { _, _ in
                records += 1
                return true
            }
            #expect(records > 0)
            return batches
        }
        // The killed writer's lock is recovered: a new writer commits.
        var learner = StoreLearner(store: store)
        try learner.learn(tokens: Self.batchText(batches, length: length))
        try learner.flush()
        let after = try store.withReadTransaction { try Self.checkSnapshot($0, batchLength: length) }
        #expect(after == batches + 1)
    }

    /// More simultaneous readers than reader slots is a clear error, and the slots come back.
    @Test func readersFullIsAClearError() throws {
        let dir = TemporaryDirectory()
        let store = try NGramStore.create(at: dir.path("s.lmdb"), tokenizerFingerprint: "fp", options: .init(maxReaders: 1))
        let error = #expect(throws: NGramStoreError.self) {
            try store.withReadTransaction { _ in try store.withReadTransaction { _ in } }
        }
        #expect(error?.code == .readersFull)
        #expect(error?.message.contains("reader slots") == true)
        #expect(throws: Never.self) { try store.withReadTransaction { _ in } }
    }
}
