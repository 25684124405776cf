import Graph
import Testing
@testable import Operators

/// Ouroboros's candidate pool and draft lengthening, without a model: what a replayed scored tree
/// puts in the pool, the pool's bounds and refresh rules, and the phrases appended below leaves.
@Suite struct DraftPhrasesTests {
    static func line(_ fields: String) -> String {
        "r: { op: draft.phrases, scores: s\(fields.isEmpty ? "" : ", " + fields) }"
    }

    static func op(_ fields: String, inputs: [String] = []) throws -> DraftPhrasesOp {
        let (node, environment) = try DraftedGraph.node("r", of: inputs + [line(fields)], tree: "r")
        return try DraftPhrasesOp(node: node, environment: environment)
    }

    /// A row of logits whose argmax is `token`.
    static func row(_ token: Int32, vocabulary: Int = 12) -> [Float] {
        var row = [Float](repeating: 0, count: vocabulary)
        row[Int(token)] = 5
        return row
    }

    /// Runs one step of the op on `context`, with the previous step's scores and this step's tree.
    static func step(_ op: DraftPhrasesOp, state: (any HypothesisState)?, _ context: [Int32],
                     scored: (tree: TokenTree, predictions: [Int32])? = nil, tree: TokenTree? = nil) throws -> TokenTree {
        var inputs: [String: [StepValue]] = [:]
        if let scored { inputs["scores"] = [.scores(tree: scored.tree, logits: scored.predictions.map { row($0) })] }
        if let tree { inputs["tree"] = [.tree(tree)] }
        var rng = Xoshiro256StarStar(seed: 1)
        let input = StepInput(history: LogitsContext(tokens: context, promptCount: 1), inputs: inputs, state: state)
        guard case .tree(let out) = try op.run(input, rng: &rng) else { throw OperatorError(.shapeMismatch, at: "r", "not a tree") }
        return out
    }

    static func contents(_ pool: PhrasePool) -> [Int32: [[Int32]]] {
        pool.storage.withLock { $0.byKey.mapValues { $0.map(\.tokens) } }
    }

    /// A 3-token draft after token 5: the target agreed with 7 and 8, then said 3 where the draft
    /// had 9, and 4 after the draft's 9.
    static let chain = (tree: try! TokenTree.chain([7, 8, 9], source: "draft"), predictions: [Int32]([7, 8, 3, 4]))

    @Test func harvestKeepsThePredictionsPastTheRejection() {
        let phrases = PhrasePool.harvest(tree: Self.chain.tree, predictions: Self.chain.predictions, rootToken: 5, length: 3)
        // Each position's token, then what the target said from there on (at most 3): past the
        // rejected 9 too, after which it said 4.
        let expected: [(Int32, [Int32])] = [(5, [7, 8, 3]), (7, [8, 3, 4]), (8, [3, 4]), (9, [4])]
        #expect(phrases.map(\.key) == expected.map(\.0))
        #expect(phrases.map(\.tokens) == expected.map(\.1))
        // Without the previous root token the root gives no phrase.
        let unrooted = PhrasePool.harvest(tree: Self.chain.tree, predictions: Self.chain.predictions, rootToken: nil, length: 3)
        #expect(unrooted.map(\.key) == [7, 8, 9])
        // The scored root alone (an empty draft): the target's next token after the root's.
        #expect(PhrasePool.harvest(tree: TokenTree(), predictions: [6], rootToken: 5, length: 3).map(\.tokens) == [[6]])
    }

    @Test func harvestWalksEveryPathOfATree() throws {
        // Root → 7 → {8, 6}: two leaves, so 7's phrases differ by branch.
        var tree = TokenTree()
        try tree.append(7, parent: TokenTree.root, source: "t")
        try tree.append(8, parent: 0, source: "t")
        try tree.append(6, parent: 0, source: "t")
        let phrases = PhrasePool.harvest(tree: tree, predictions: [7, 8, 1, 2], rootToken: nil, length: 4)
        // The predictions after 8 (1) and after 6 (2) each end their own path.
        #expect(phrases.contains { $0.key == 7 && $0.tokens == [8, 1] })
        #expect(phrases.contains { $0.key == 7 && $0.tokens == [8, 2] })
        #expect(phrases.contains { $0.key == 6 && $0.tokens == [2] })
        #expect(!phrases.contains { $0.tokens.contains(1) && $0.tokens.contains(2) }, "a phrase mixed two branches")
    }

    @Test func poolIsBoundedAndRefreshes() {
        let pool = PhrasePool(keep: 2, capacity: 3)
        pool.offer([(1, [10, 11]), (1, [20]), (1, [30])])
        // Per key: the two most recent, newest first.
        #expect(Self.contents(pool)[1] == [[30], [20]])
        // Offering [20] again refreshes it rather than adding a copy; a prefix refreshes the longer
        // phrase, an extension replaces the shorter one.
        pool.offer([(1, [20])])
        #expect(Self.contents(pool)[1] == [[20], [30]])
        pool.offer([(1, [30, 31])])
        #expect(Self.contents(pool)[1] == [[30, 31], [20]])
        pool.offer([(1, [30])])
        #expect(Self.contents(pool)[1] == [[30, 31], [20]])
        #expect(pool.count == 2)
        // In all: past 3 phrases the least recently refreshed of the whole pool goes (key 1's [20]).
        pool.offer([(2, [5]), (3, [6])])
        #expect(pool.count == 3)
        #expect(Self.contents(pool) == [1: [[30, 31]], 2: [[5]], 3: [[6]]])
        // Empty phrases and negative keys are not kept.
        pool.offer([(4, []), (-1, [9])])
        #expect(pool.count == 3)
    }

    @Test func poolNeverExceedsItsCapacity() {
        let pool = PhrasePool(keep: 3, capacity: 10)
        var rng = Xoshiro256StarStar(seed: 3)
        for _ in 0..<500 {
            let key = Int32(rng.next() % 20)
            let phrase = (0..<(1 + rng.next() % 3)).map { _ in Int32(rng.next() % 5) }
            pool.offer([(key, phrase)])
            let held = Self.contents(pool)
            #expect(pool.count == held.values.reduce(0) { $0 + $1.count })
            #expect(pool.count <= 10 && held.values.allSatisfy { $0.count <= 3 })
        }
    }

    @Test func lengthensTheLeafWithPhrasesAfterItsToken() throws {
        let op = try Self.op("length: 3")
        let state = try op.makeState()
        // First step: an empty pool leaves the tree as it is.
        #expect(try Self.step(op, state: state, [5], tree: TokenTree()).isEmpty)
        // The target scored the chain above after 5; its pool now knows 8 → [3, 4] among others.
        var draft = TokenTree()
        try draft.append(2, parent: TokenTree.root, draftDistribution: [0.1, 0.2, 0.7, 0, 0, 0, 0, 0, 0, 0, 0, 0], source: "draft")
        try draft.append(8, parent: 0, draftDistribution: [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], source: "draft")
        let longer = try Self.step(op, state: state, [5, 7, 8, 3], scored: Self.chain, tree: draft)
        // The draft's own nodes first and unchanged, then the phrase after its leaf's token 8.
        #expect(Array(longer.nodes.prefix(2)) == draft.nodes)
        #expect(longer.nodes.dropFirst(2).map(\.token) == [3, 4])
        #expect(longer.nodes.dropFirst(2).map(\.parent) == [1, 2])
        #expect(longer.nodes.dropFirst(2).allSatisfy { !$0.isSampled && $0.source == "phrases" })
        // Without an input tree (or with an empty one) the root is the leaf: after the rejected 9
        // the target said 4.
        #expect(try Self.step(op, state: state, [5, 7, 8, 9]).nodes.map(\.token) == [4])
        #expect(try Self.step(op, state: state, [5, 7], tree: TokenTree()).nodes.map(\.token) == [8, 3, 4])
        // A token the pool has not seen adds nothing.
        #expect(try Self.step(op, state: state, [11], tree: try TokenTree.chain([11], source: "d")).count == 1)
    }

    @Test func branchesShareAPrefixAndStopAtTheBudget() throws {
        let op = try Self.op("branches: 2, budget: 3")
        op.pool.offer([(1, [2, 3, 4]), (1, [2, 5])])
        // Two phrases after 1, newest ([2, 5]) first: 2 is shared, then 5, then 3 before the budget ends.
        let tree = try Self.step(op, state: try op.makeState(), [1])
        #expect(tree.nodes.map(\.token) == [2, 5, 3])
        #expect(tree.nodes.map(\.parent) == [TokenTree.root, 0, 0])
        // Every leaf is lengthened, in order, while the budget lasts.
        var two = TokenTree()
        try two.append(1, parent: TokenTree.root, source: "d")
        try two.append(1, parent: TokenTree.root, source: "d")
        let both = try Self.step(op, state: try op.makeState(), [9], tree: two)
        #expect(both.nodes.dropFirst(2).map(\.parent) == [0, 2, 2])
    }

    @Test func learnsAcrossStepsFromItsOwnScores() throws {
        // The root row of the previous step followed the context's then-last token: step 1 ran
        // after [5], so the scores it gets at step 2 teach 5 → [7, 8, 3].
        let op = try Self.op("length: 3")
        let state = try op.makeState()
        _ = try Self.step(op, state: state, [5])
        _ = try Self.step(op, state: state, [5, 7, 8, 3], scored: Self.chain)
        #expect(Self.contents(op.pool)[5] == [[7, 8, 3]])
        // A scores value whose logits do not match its tree is refused.
        #expect(throws: OperatorError.self) {
            _ = try Self.step(op, state: state, [1], scored: (Self.chain.tree, [7]))
        }
    }

    @Test func keepsTheInputsExactnessAndAddsDeterministicNodes() throws {
        // Alone it is a deterministic drafter.
        let alone = try #require(DraftedGraph.compile([Self.line("")], tree: "r").plan)
        #expect(alone.node(named: "r")!.properties == [.deterministic, .exactDraft])
        // Below a sampled draft: the nodes it adds are deterministic, the draft's carry q, so the
        // tree is exact but neither all-deterministic nor all-q.
        let sampled = try #require(DraftedGraph.compile(["d: { op: draft.model, model: target, tokens: 2, temperature: 1 }",
                                                         Self.line("tree: d")], tree: "r").plan)
        #expect(sampled.node(named: "d")!.properties.contains(.draftProbabilities))
        #expect(sampled.node(named: "r")!.properties == [.exactDraft])
        // Below a greedy draft: still deterministic.
        let greedy = try #require(DraftedGraph.compile(["d: { op: draft.model, model: target, tokens: 2 }", Self.line("tree: d")], tree: "r").plan)
        #expect(greedy.node(named: "r")!.properties == [.deterministic, .exactDraft])
    }

    @Test func refusesWhatItCannotDo() throws {
        let compile = { (lines: [String]) in DraftedGraph.compile(lines, tree: "r").rendered }
        #expect(compile([Self.line("branches: 5")]).contains("'branches' of node 'r' (draft.phrases): 5 phrases per leaf is more than the pool keeps per token (keep: 4)"))
        #expect(compile([Self.line("keep: 8, capacity: 4")]).contains("'capacity' of node 'r' (draft.phrases): a pool of 4 phrases cannot keep 8 per token"))
        #expect(compile([Self.line("length: 0")]).contains("'length'"))
        #expect(compile(["c: { op: constrain.regex, pattern: \"[a-z]+\", tree: d }", "d: { op: draft.lookup }", Self.line("tree: c")])
            .contains("gives a constrained tree, whose masks would not cover the appended phrases"))
        // At run time too, for a tree that arrives constrained.
        let op = try Self.op("")
        var constrained = TokenTree()
        constrained.allowedNext = [nil]
        #expect(throws: OperatorError.self) { _ = try Self.step(op, state: try op.makeState(), [1], tree: constrained) }
    }
}
