import Foundation
import NGramStore
import Testing
@testable import DecographCLI

/// `store build --format suffix-array` and the other `store` subcommands on suffix-array stores.
@Suite struct StoreCommandSuffixArrayTests {
    typealias Files = StoreCommandTests.Files

    @discardableResult
    func run(_ args: [String], status: Int32 = 0) -> CapturingOutput { StoreCommandTests().run(args, status: status) }

    @Test func buildStatsQuerySimulateMerge() throws {
        let files = Files()
        let train = files.write("train.ids", String(repeating: "5 6 7 8 9 10\n", count: 6) + "5 6 7 1\n")
        let held = files.write("held.ids", "5 6 7 8 9 10 5 6 7 8 9 10\n")
        let store = files.path("s.sa")
        let built = run(["store", "build", "--format", "suffix-array", "--fingerprint", "fp", "--out", store, train])
        #expect(built.out.contains("40 tokens in 7 documents"))
        #expect(built.out.contains("bytes/token"))

        let stats = run(["store", "stats", store, "--json"])
        let decoded = try JSONDecoder().decode(SuffixArrayStatistics.self, from: Data(stats.out.utf8))
        #expect(decoded.header.tokenCount == 46) // 40 tokens and 6 separators
        #expect(decoded.header.documentCount == 7)
        #expect(decoded.topTokens.first?.count == 7) // 5, 6 and 7 occur 7 times each

        // Every suffix of the context up to its length, each with its exact counts.
        let query = run(["store", "query", store, "--ids", "6 7", "--json"])
        let result = try JSONDecoder().decode(StoreCommand.QueryResult.self, from: Data(query.out.utf8))
        #expect(result.levels.map(\.context) == [[6, 7], [7]])
        #expect(result.levels[0].total == 7)
        #expect(result.levels[0].continuations.first { $0.tokens == [8] }?.count == 6)
        #expect(result.draft.map(\.token) == [8, 9, 10])

        let simulated = run(["store", "simulate", store, held, "--json"])
        let rows = try JSONDecoder().decode([StoreCommand.SimulationRow].self, from: Data(simulated.out.utf8))
        #expect(rows.allSatisfy { $0.tokens == 11 })
        #expect(rows[1].tokensPerStep > rows[0].tokensPerStep)

        let merged = files.path("m.sa")
        run(["store", "merge", store, store, "--out", merged])
        let mergedStats = try JSONDecoder().decode(SuffixArrayStatistics.self,
                                                   from: Data(run(["store", "stats", merged, "--json"]).out.utf8))
        #expect(mergedStats.header.documentCount == 14)
        #expect(mergedStats.header.tokenCount == 93)
    }

    @Test func whatMakesNoSenseForASuffixArrayIsRefused() {
        let files = Files()
        let ids = files.write("a.ids", "1 2 3\n")
        let sa = files.path("a.sa"), lmdb = files.path("a.lmdb")
        run(["store", "build", "--format", "suffix-array", "--fingerprint", "fp", "--out", sa, ids])
        run(["store", "build", "--fingerprint", "fp", "--out", lmdb, ids])
        let format = run(["store", "build", "--format", "array", "--fingerprint", "fp", "--out", sa, ids], status: 64)
        #expect(format.err.contains("'--format' must be one of lmdb, suffix-array"))
        let compact = run(["store", "build", "--format", "suffix-array", "--compact", "--fingerprint", "fp", "--out", sa, ids], status: 64)
        #expect(compact.err.contains("'--compact' applies to LMDB stores"))
        // An LMDB store is not replaced by a suffix-array build.
        let replace = run(["store", "build", "--format", "suffix-array", "--fingerprint", "fp", "--out", lmdb, ids], status: 1)
        #expect(replace.err.contains("not a suffix-array store; refusing to replace it"))
        let mixed = run(["store", "merge", sa, lmdb, "--out", files.path("m.sa")], status: 1)
        #expect(mixed.err.contains("a.lmdb: error: not a suffix-array store, and suffix-array stores merge only with each other"))
        #expect(!FileManager.default.fileExists(atPath: files.path("m.sa")))
    }

    /// `learn: true` on a suffix-array store: `check` refuses it, located at the node naming the
    /// store, and `run` refuses it with the same words before loading a model.
    @Test func checkAndRunRefuseLearningIntoASuffixArray() {
        let files = Files()
        let ids = files.write("a.ids", "1 2 3 1 2 4\n")
        run(["store", "build", "--format", "suffix-array", "--fingerprint", "fp", "--out", files.path("corpus.sa"), ids])
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/runtime/llama-gqa-tied").path
        let graph = files.write("g.yaml", """
            graph: suffix-array-learns
            models:
              target: { path: \(model) }
            stores:
              corpus: { path: corpus.sa, learn: true }
            nodes:
              recall: { op: draft.ngram, store: corpus }
              scores: { op: score, model: target, tree: recall }
              pick: { op: sample, from: scores, temperature: 0 }
              accept: { op: verify, from: pick }
            output: accept

            """)
        let check = run(["check", graph], status: 1)
        #expect(check.err.contains("g.yaml:7:37: error: 'store' of node 'recall' (draft.ngram): store 'corpus' is a suffix-array store"))
        #expect(check.err.contains("read-only: remove learn: true"))
        let runs = run(["run", graph, "--prompt-ids", "1 2 3"], status: 1)
        #expect(runs.err == check.err)
    }

    @Test func benchSuffixArrayMeasuresAStoreAndTheSyntheticCorpus() throws {
        let files = Files()
        let ids = files.write("a.ids", (0..<50).map { i in (0..<40).map { String(($0 * 7 + i) % 23) }.joined(separator: " ") }.joined(separator: "\n"))
        let store = files.path("a.sa")
        run(["store", "build", "--format", "suffix-array", "--fingerprint", "fp", "--out", store, ids])
        let onStore = run(["bench", "suffix-array", store, "--lookups", "200", "--dir", files.path(""), "--json"])
        let report = try JSONDecoder().decode(SuffixArrayBenchmark.Report.self, from: Data(onStore.out.utf8))
        #expect(report.tokens == 2049)
        #expect(report.lookupHitRate > 0.5)
        #expect(report.meanDraftNodes > 0)
        let synthetic = run(["bench", "suffix-array", "--tokens", "5000", "--lookups", "200", "--dir", files.path("")])
        #expect(synthetic.out.contains("draft step:"))
        // The rebuilt store is removed.
        #expect(try FileManager.default.contentsOfDirectory(atPath: files.path("")).sorted() == ["a.ids", "a.sa"])
    }
}
