import Foundation
import Constraints
import Graph
import NGramStore
import Testing
@testable import Operators

/// ADED without a model: the tri-gram matrix's counting (Space-Saving rows, the pair bound), the
/// Monte Carlo tree search over a hand-made matrix, and the op learning its context and reading a
/// store as its starting corpus.
@Suite struct DraftADEDTests {
    static func op(_ fields: String) throws -> DraftADEDOp {
        let (node, environment) = try DraftedGraph.node("a", of: ["a: { op: draft.aded\(fields.isEmpty ? "" : ", " + fields) }"], tree: "a")
        return try DraftADEDOp(node: node, environment: environment)
    }

    @Test func rowsCountFollowersAndKeepTheFrequentOnes() {
        let table = TrigramTable(counters: 2)
        // After the pair (1, 2): 3 three times, 4 once, then 5 once (a full row: 5 takes 4's place
        // with 4's count plus one), then 3 again.
        table.learn([1, 2, 3, 1, 2, 3, 1, 2, 4, 1, 2, 5, 1, 2, 3], from: 0)
        #expect(table.followers(of: 1, 2) == [.init(token: 3, count: 3), .init(token: 5, count: 2)])
        // Other pairs of the same text: (2, 3) was followed by 1 twice, (3, 1) by 2 twice.
        #expect(table.followers(of: 2, 3) == [.init(token: 1, count: 2)])
        #expect(table.followers(of: 9, 9).isEmpty)
        // Learning from position 14 adds only the tri-gram ending there.
        table.learn([1, 2, 3, 1, 2, 3, 1, 2, 4, 1, 2, 5, 1, 2, 3], from: 14)
        #expect(table.followers(of: 1, 2) == [.init(token: 3, count: 4), .init(token: 5, count: 2)])
        #expect(table.followers(of: 2, 3) == [.init(token: 1, count: 2)])
    }

    @Test func thePairBoundStartsAfresh() {
        let table = TrigramTable(counters: 4, maximumPairs: 3)
        table.learn([1, 2, 3, 4, 5], from: 0)  // pairs (1,2) (2,3) (3,4)
        #expect(table.pairCount == 3)
        table.learn([1, 2, 3, 4, 5, 6], from: 5)  // a fourth pair empties the table first
        #expect(table.pairCount == 1)
        #expect(table.followers(of: 4, 5) == [.init(token: 6, count: 1)])
        #expect(table.followers(of: 1, 2).isEmpty)
    }

    /// A matrix: after any pair ending in t, the listed continuations.
    static func matrix(_ rows: [Int32: [(Int32, Double)]]) -> (Int32, Int32) -> [TrigramTreeSearch.Transition] {
        { _, token in (rows[token] ?? []).map { .init(token: $0.0, probability: $0.1) } }
    }

    @Test func theSearchFollowsTheLikelyBranchAndLengthensItsPaths() throws {
        // 10 → 11 (0.9) or 12 (0.1); 11 → 13 → 14 → 15; 12 → 16.
        let transitions = Self.matrix([10: [(11, 0.9), (12, 0.1)], 11: [(13, 1)], 13: [(14, 1)], 14: [(15, 1)], 12: [(16, 1)]])
        let search = TrigramTreeSearch(iterations: 32, depth: 2, paths: 3)
        var rng = Xoshiro256StarStar(seed: 5)
        let paths = try search.search(after: 0, 10, rng: &rng, transitions: transitions)
        // The likely branch is visited most; its paths come first, each one token longer than searched.
        #expect(paths.first?.map(\.token) == [11, 13])
        #expect(paths.contains { $0.map(\.token) == [11, 13, 14] })
        #expect(paths.allSatisfy { $0.first?.token == 11 || $0.first?.token == 12 })
        #expect(paths.allSatisfy { $0.count <= search.depth + 1 })
        // The same seed gives the same paths; nothing continues an unknown context.
        var again = Xoshiro256StarStar(seed: 5)
        #expect(try search.search(after: 0, 10, rng: &again, transitions: transitions) == paths)
        #expect(try search.search(after: 0, 99, rng: &again, transitions: transitions).isEmpty)
    }

    @Test func explorationVisitsTheUnlikelyBranchToo() throws {
        let transitions = Self.matrix([10: [(11, 0.6), (12, 0.4)], 11: [(13, 1)], 12: [(14, 1)]])
        var rng = Xoshiro256StarStar(seed: 1)
        let paths = try TrigramTreeSearch(iterations: 16, depth: 1, paths: 2).search(after: 0, 10, rng: &rng, transitions: transitions)
        #expect(Set(paths.map { $0.map(\.token) }) == [[11, 13], [12, 14]])
    }

    @Test func theOpDraftsWhatFollowedTheContextsLastPair() throws {
        let op = try Self.op("depth: 3, paths: 2, tokens: 12")
        let state = try op.makeState()
        var rng = Xoshiro256StarStar(seed: 0)
        // "5 6 7 8 9 … 5 6": the pair (5, 6) was followed by 7 8 9.
        let context: [Int32] = [5, 6, 7, 8, 9, 1, 2, 5, 6]
        let input = StepInput(history: LogitsContext(tokens: context, promptCount: context.count), inputs: [:], state: state)
        guard case .tree(let tree) = try op.run(input, rng: &rng) else { Issue.record("not a tree"); return }
        #expect(tree.nodes.prefix(3).map(\.token) == [7, 8, 9])
        #expect(tree.nodes.allSatisfy { $0.source == "a" })
        // The same context drafts the same tree (the roll-outs' generator is seeded by it), and a
        // node's budget caps the tree.
        guard case .tree(let again) = try op.run(input, rng: &rng) else { return }
        #expect(again.nodes.map(\.token) == tree.nodes.map(\.token))
        let small = try Self.op("depth: 3, tokens: 2")
        let smallState = try small.makeState()
        guard case .tree(let capped) = try small.run(StepInput(history: input.history, inputs: [:], state: smallState), rng: &rng) else { return }
        #expect(capped.nodes.map(\.token) == [7, 8])
    }

    @Test func withoutThePromptOnlyTheOutputIsLearned() throws {
        let op = try Self.op("prompt: false")
        let state = try op.makeState()
        var rng = Xoshiro256StarStar(seed: 0)
        let context: [Int32] = [5, 6, 7, 5, 6]
        guard case .tree(let tree) = try op.run(StepInput(history: LogitsContext(tokens: context, promptCount: 5), inputs: [:], state: state),
                                                rng: &rng) else { return }
        #expect(tree.nodes.isEmpty)
        #expect(op.table.pairCount == 0)
        // Two generated tokens later, the tri-grams ending in them are learned.
        _ = try op.run(StepInput(history: LogitsContext(tokens: context + [7, 8], promptCount: 5), inputs: [:], state: state), rng: &rng)
        #expect(op.table.followers(of: 5, 6) == [.init(token: 7, count: 1)])
        #expect(op.table.followers(of: 6, 7) == [.init(token: 8, count: 1)])
    }

    /// An environment whose one store is an LMDB store at `path`.
    struct StoreEnvironment: OperatorEnvironment {
        let plan: Plan
        let path: String
        func store(named name: String, writable: Bool) throws -> NGramStore { try NGramStore.open(at: path, tokenizerFingerprint: nil) }
        func constraintVocabulary() throws -> TokenVocabulary { throw OperatorError(.invalidParameter, at: "constraint", "no vocabulary here") }
    }

    /// A graph whose node `a` (`op`) reads the store `corpus` at `path`.
    static func storeGraph(_ op: String, path: String, declaration: String = "", fields: String = "") -> GraphCompiler.Compilation {
        let source = """
            graph: g
            models: { target: { path: t } }
            stores: { corpus: { path: \(path)\(declaration) } }
            nodes:
              a: { op: \(op), store: corpus\(fields) }
              s: { op: score, model: target, tree: a }
              p: { op: sample, from: s, temperature: 0 }
              v: { op: verify, from: p }
            output: v
            """
        return GraphCompiler(registry: OperatorRegistry.all).compile(source: source, file: "g.yaml")
    }

    /// An LMDB store of `corpus`'s n-grams, of contexts up to `contextLength` tokens.
    static func store(contextLength: Int, corpus: [Int32]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aded-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/corpus.lmdb"
        let store = try NGramStore.create(at: path, tokenizerFingerprint: "test", parameters: NGramParameters(contextLength: contextLength))
        var counts = NGramCounts(parameters: store.parameters)
        counts.learn(corpus)
        try store.commit(counts)
        return path
    }

    static func storeOp(contextLength: Int, corpus: [Int32], fields: String = "") throws -> DraftADEDOp {
        let path = try store(contextLength: contextLength, corpus: corpus)
        let result = storeGraph("draft.aded", path: path, fields: fields)
        let plan = try #require(result.plan, "\(result.rendered)")
        return try DraftADEDOp(node: try #require(plan.node(named: "a")), environment: StoreEnvironment(plan: plan, path: path))
    }

    @Test func aStoreStartsTheMatrix() throws {
        // The corpus says (3, 4) → 20 → 21; the context has never seen the pair continue. The most
        // visited path, [20], is lengthened by the matrix's likeliest next token.
        let op = try Self.storeOp(contextLength: 2, corpus: [3, 4, 20, 21, 22, 3, 4, 20, 21, 22], fields: ", depth: 2, paths: 1")
        let state = try op.makeState()
        var rng = Xoshiro256StarStar(seed: 0)
        let context: [Int32] = [9, 3, 4]
        guard case .tree(let tree) = try op.run(StepInput(history: LogitsContext(tokens: context, promptCount: 3), inputs: [:], state: state),
                                                rng: &rng) else { return }
        #expect(tree.nodes.map(\.token) == [20, 21])
        // The session's own counts soon outweigh the corpus (weight 4): after (3, 4) → 30 five times,
        // 30 leads.
        let learned: [Int32] = Array(repeating: [3, 4, 30], count: 5).flatMap { $0 } + [3, 4]
        guard case .tree(let adapted) = try op.run(StepInput(history: LogitsContext(tokens: learned, promptCount: learned.count), inputs: [:],
                                                             state: try op.makeState()), rng: &rng) else { return }
        #expect(adapted.nodes.first?.token == 30)
    }

    @Test func aStoreOfOneTokenContextsIsRefusedWhenTheGraphIsChecked() throws {
        let path = try Self.store(contextLength: 1, corpus: [1, 2, 3])
        let rendered = Self.storeGraph("draft.aded", path: path).rendered
        #expect(rendered.contains("'store' of node 'a' (draft.aded)"), "\(rendered)")
        #expect(rendered.contains("matches contexts of at most 1 token(s); this node needs 2"), "\(rendered)")
        // draft.ngram reads a one-token store.
        #expect(Self.storeGraph("draft.ngram", path: path).plan != nil)
    }

    @Test func aMissingStoreIsRefusedUnlessTheGraphLearnsIntoIt() {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("missing-\(UUID().uuidString).lmdb").path
        for op in ["draft.aded", "draft.ngram"] {
            let rendered = Self.storeGraph(op, path: missing).rendered
            #expect(rendered.contains("'store' of node 'a' (\(op))") && rendered.contains("does not exist: build it with 'decograph store build'"),
                    "\(rendered)")
        }
        // A learning declaration creates its file on the first run.
        #expect(Self.storeGraph("draft.ngram", path: missing, declaration: ", learn: true").plan != nil)
    }
}
