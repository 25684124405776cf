import CLMDB
import Foundation
import Testing
@testable import NGramStore

@Suite struct NGramStoreTests {
    static let fingerprint = "test-vocab-1"

    /// What one batch writes must be what an in-memory table of the same text holds, record for
    /// record (the table is the oracle; the store adds durability, not different counts).
    @Test func committedBatchEqualsInMemoryTable() throws {
        let dir = TemporaryDirectory()
        var stream = TokenStream(seed: 1)
        let text = stream.tokens(2000, vocabulary: 50)
        var oracle = NGramCounts()
        oracle.learn(text)
        do {
            let store = try NGramStore.create(at: dir.path("s.lmdb"), tokenizerFingerprint: Self.fingerprint)
            try store.commit(oracle)
        }
        let store = try NGramStore.open(at: dir.path("s.lmdb"), tokenizerFingerprint: Self.fingerprint,
                                        options: .init(readOnly: true))
        let expected = oracle.sortedRecords()
        var seen = 0
        try store.withReadTransaction { txn in
            #expect(txn.tokensLearned == 2000)
            try txn.forEachRecord { context, summary in
                #expect(context == expected[seen].context)
                #expect(summary == expected[seen].summary)
                seen += 1
                return true
            }
            #expect(try txn.continuations(of: run(text[10], text[11])) == oracle.continuations(of: run(text[10], text[11])).map {
                var s = $0
                s.prune(countersPerDepth: 8)
                return s
            })
        }
        #expect(seen == expected.count)
    }

    /// Growth from a 64 KiB map: the batch is retried after each growth and must be counted once.
    @Test func mapGrowsFromTinySizeAndRetriedBatchCountsOnce() throws {
        let dir = TemporaryDirectory()
        var stream = TokenStream(seed: 2)
        let text = stream.tokens(6000, vocabulary: 3000)
        var batch = NGramCounts()
        batch.learn(text)
        let initial = 1 << 16
        let store = try NGramStore.create(at: dir.path("s.lmdb"), tokenizerFingerprint: Self.fingerprint,
                                          options: .init(initialMapSize: initial))
        try store.commit(batch)
        #expect(store.mapSize > initial * 4)
        try store.withReadTransaction { txn in
            #expect(txn.tokensLearned == 6000)
            var records = 0
            try txn.forEachRecord { context, summary in
                #expect(summary.total == batch.continuations(of: context)?.total)
                records += 1
                return true
            }
            #expect(records == batch.contextCount)
        }
    }

    @Test func tokenizerMismatchIsAnError() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("s.lmdb")
        _ = try NGramStore.create(at: path, tokenizerFingerprint: "vocab-A")
        let error = #expect(throws: NGramStoreError.self) { try NGramStore.open(at: path, tokenizerFingerprint: "vocab-B") }
        #expect(error?.code == .tokenizerMismatch)
        #expect(error?.description.contains("vocab-A") == true)
        // Tools that read ids only may open any store.
        #expect(try NGramStore.open(at: path, tokenizerFingerprint: nil).metadata.tokenizerFingerprint == "vocab-A")
        let parameters = #expect(throws: NGramStoreError.self) {
            try NGramStore.create(at: path, tokenizerFingerprint: "vocab-A", parameters: NGramParameters(contextLength: 3))
        }
        #expect(parameters?.code == .parametersMismatch)
    }

    @Test func formatVersionMismatchIsAnError() throws {
        let dir = TemporaryDirectory()
        let path = dir.path("s.lmdb")
        do {
            let store = try NGramStore.create(at: path, tokenizerFingerprint: Self.fingerprint)
            var future = store.metadata
            future.formatVersion = StoreMetadata.currentFormatVersion + 1
            let bytes = Array(future.encoded())
            try store.withWriteTransaction { txn in
                #expect(NGramStore.put(txn.txn, store.metaDB, key: Array(NGramStore.formatKey.utf8), value: bytes) == 0)
            }
        }
        let error = #expect(throws: NGramStoreError.self) { try NGramStore.open(at: path, tokenizerFingerprint: Self.fingerprint) }
        #expect(error?.code == .formatVersionMismatch)
    }

    enum Damage: String, CaseIterable {
        case garbage, empty, directory, missing, foreignLMDB, truncated
    }

    @Test(arguments: Damage.allCases)
    func damagedOrForeignFileIsAClearError(damage: Damage) throws {
        let dir = TemporaryDirectory()
        let path = dir.path("s.lmdb")
        let expected: NGramStoreError.Code
        switch damage {
        case .garbage:
            var stream = TokenStream(seed: 5)
            let bytes = (0..<65536).map { _ in UInt8(truncatingIfNeeded: stream.next(vocabulary: 256)) }
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            expected = .notAStore
        case .empty:
            _ = FileManager.default.createFile(atPath: path, contents: Data())
            expected = .notAStore
        case .directory:
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            expected = .notAStore
        case .missing:
            expected = .notFound
        case .foreignLMDB:
            try Self.writeForeignLMDB(path)
            expected = .notAStore
        case .truncated:
            do {
                let store = try NGramStore.create(at: path, tokenizerFingerprint: Self.fingerprint)
                var batch = NGramCounts()
                var stream = TokenStream(seed: 6)
                batch.learn(stream.tokens(3000, vocabulary: 2000))
                try store.commit(batch)
            }
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
            #expect(truncate(path, off_t(size / 2)) == 0)
            expected = .corrupt
        }
        let error = #expect(throws: NGramStoreError.self) { try NGramStore.open(at: path, tokenizerFingerprint: nil) }
        #expect(error?.code == expected, "\(String(describing: error))")
        #expect(error?.description.hasPrefix(path + ": error: ") == true)
        // Creating over a foreign or damaged file must refuse too, not overwrite it.
        if damage != .missing, damage != .empty {
            #expect(throws: NGramStoreError.self) { try NGramStore.create(at: path, tokenizerFingerprint: Self.fingerprint) }
        }
    }

    /// An LMDB environment written by some other program: one record in its main database.
    static func writeForeignLMDB(_ path: String) throws {
        var env: OpaquePointer?
        #expect(mdb_env_create(&env) == 0)
        defer { mdb_env_close(env) }
        #expect(mdb_env_open(env, path, UInt32(MDB_NOSUBDIR), 0o644) == 0)
        var txn: OpaquePointer?
        #expect(mdb_txn_begin(env, nil, 0, &txn) == 0)
        var dbi: MDB_dbi = 0
        #expect(mdb_dbi_open(txn, nil, 0, &dbi) == 0)
        #expect(NGramStore.put(txn!, dbi, key: Array("hello".utf8), value: Array("world".utf8)) == 0)
        #expect(mdb_txn_commit(txn) == 0)
    }
}

@Suite struct NGramStoreMaintenanceTests {
    @Test func mergeAddsTotalsExactlyAndRefusesAnotherTokenizer() throws {
        let dir = TemporaryDirectory()
        var stream = TokenStream(seed: 8)
        let texts = [stream.tokens(1500, vocabulary: 40), stream.tokens(1000, vocabulary: 40)]
        var oracles: [NGramCounts] = []
        for (i, text) in texts.enumerated() {
            let store = try NGramStore.create(at: dir.path("\(i).lmdb"), tokenizerFingerprint: "fp")
            var learner = StoreLearner(store: store, batchContexts: 300)
            try learner.learn(tokens: text)
            try learner.flush()
            var oracle = NGramCounts()
            oracle.learn(text)
            oracles.append(oracle)
        }
        let merged = try NGramStore.create(at: dir.path("c.lmdb"), tokenizerFingerprint: "fp")
        for i in 0..<2 {
            // Small batches, so the merge commits several transactions.
            try merged.merge(from: NGramStore.open(at: dir.path("\(i).lmdb"), tokenizerFingerprint: "fp", options: .init(readOnly: true)),
                             batchContexts: 500)
        }
        let contexts = Set(oracles[0].table.keys).union(oracles[1].table.keys)
        try merged.withReadTransaction { txn in
            #expect(txn.tokensLearned == 2500)
            for context in contexts {
                let expected = (oracles[0].continuations(of: context)?.total ?? 0) + (oracles[1].continuations(of: context)?.total ?? 0)
                let stored = try txn.continuations(of: context)?.total
                #expect(stored == expected)
            }
        }
        let stats = try merged.statistics(top: 3)
        #expect(stats.contextsByLength.reduce(0, +) == contexts.count)
        // The most frequent 1-token context is the most frequent token (but the last of each text,
        // which no continuation follows).
        var frequency: [Int32: Int] = [:]
        for text in texts { for t in text.dropLast() { frequency[t, default: 0] += 1 } }
        #expect(stats.topContexts[0].first.map { Int($0.total) } == frequency.values.max())

        let other = try NGramStore.create(at: dir.path("o.lmdb"), tokenizerFingerprint: "another")
        let error = #expect(throws: NGramStoreError.self) { try merged.merge(from: other) }
        #expect(error?.code == .tokenizerMismatch)
    }

    /// Pruning rare contexts keeps exactly the records with a total at or above the threshold,
    /// across several transactions (resuming after the last key each time).
    @Test func removeRareContextsKeepsExactlyTheFrequentOnes() throws {
        let dir = TemporaryDirectory()
        var stream = TokenStream(seed: 12)
        let text = stream.tokens(20000, vocabulary: 60)
        var oracle = NGramCounts()
        oracle.learn(text)
        let store = try NGramStore.create(at: dir.path("s.lmdb"), tokenizerFingerprint: "fp")
        try store.commit(oracle)
        let removed = try store.removeContexts(seenFewerThan: 3, recordsPerTransaction: 5000)
        let kept = oracle.table.filter { $0.value.total >= 3 }
        #expect(removed == oracle.contextCount - kept.count)
        #expect(oracle.contextCount > 5000 * 4, "the prune should span several transactions")
        var seen = 0
        try store.withReadTransaction { txn in
            try txn.forEachRecord { context, summary in
                #expect(kept[context]?.total == summary.total)
                seen += 1
                return true
            }
        }
        #expect(seen == kept.count)
    }
}
