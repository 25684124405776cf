import Foundation
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
}
