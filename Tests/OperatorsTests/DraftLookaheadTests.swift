import Graph
import ModelRuntime
import Testing
@testable import Operators

/// Lookahead decoding's window and pool without the engine: the mask of one step (the paper's
/// figure for W = 3, N = 3, G = 2), the pool's per-key LRU, the warm-up and the window's move, the
/// op's step from the previous step's scores, and side rows scored by the runtime in one pass
/// against each row's own chain.
@Suite struct DraftLookaheadTests {
    static func op(_ fields: String) throws -> DraftLookaheadOp {
        let (node, environment) = try DraftedGraph.node("l", of: ["l: { op: draft.lookahead, scores: s\(fields.isEmpty ? "" : ", " + fields) }"], tree: "l")
        return try DraftLookaheadOp(node: node, environment: environment)
    }

    /// A full W = 3, N = 3 window after root 5: level 0 = [11, 12] (columns 1, 2), level 1 =
    /// [20, 21, 22] (columns 0…2), and two pooled 2-grams after 5.
    static func fullWindow() -> LookaheadWindow {
        var window = LookaheadWindow(width: 3, ngram: 3, guesses: 2, seed: [10, 11, 12])
        #expect(window.levels == [[10, 11, 12]], "warm-up: W + N − 3 prompt tokens in order")
        _ = try? window.sideRows(after: 4)
        window.advance([20, 21, 22])
        window.remember([5, 30, 31][...])
        window.remember([5, 40, 41][...])
        return window
    }

    /// The mask of one step for W = 3, N = 3, G = 2, written by hand from Fu et al. 2024, Fig. 2(b)
    /// and the reference's `j_make_causal_mask_multilevel`: the guesses are chains below the root;
    /// level 0 is a chain; level 1's column w sees the root, level 0's columns 1…w and itself.
    @Test func maskOfOneStepMatchesThePapersFigure() throws {
        var window = Self.fullWindow()
        let op = try Self.op("window: 3, ngram: 3, guesses: 2")
        let tree = try op.draft(&window, after: 5)
        let mask = tree.forwardMask(fresh: 1, base: 0)
        #expect(mask.rendered(labels: window.labels(for: tree)) == """
            root x.........
            v0   xx........
            v1   xxx.......
            v2   x..x......
            v3   x..xx.....
            L0c1 x....x....
            L0c2 x....xx...
            L1c0 x......x..
            L1c1 x....x..x.
            L1c2 x....xx..x
            """)
        // Level l, column w at root + l + w; the guesses at their depth.
        #expect(mask.positions == [0, 1, 2, 1, 2, 1, 2, 1, 2, 3])
        #expect(tree.nodes.map(\.token) == [30, 31, 40, 41])
        #expect(tree.sideRows?.tokens == [11, 12, 20, 21, 22])
    }

    /// The pool keeps the G most recently added n-grams per first token; a repeat moves to the end.
    @Test func poolKeepsTheMostRecentPerKey() {
        var window = LookaheadWindow(width: 2, ngram: 3, guesses: 2, seed: [1])
        for ngram in [[5, 1, 2], [5, 3, 4], [6, 1, 1], [5, 7, 8]] as [[Int32]] { window.remember(ngram[...]) }
        #expect(window.candidates(after: 5) == [[3, 4], [7, 8]])
        window.remember([5, 3, 4][...])
        #expect(window.candidates(after: 5) == [[7, 8], [3, 4]])
        #expect(window.candidates(after: 6) == [[1, 1]])
        window.remember([5, 9][...])
        #expect(window.candidates(after: 5) == [[7, 8], [3, 4]], "an n-gram of the wrong size is ignored")
        // Every n-gram of a text (the reference's prompt pool).
        window.remember(every: [1, 2, 3, 1, 2])
        #expect(window.candidates(after: 1) == [[2, 3]] && window.candidates(after: 2) == [[3, 1]])
    }

    /// A full window's step: column w's n-gram (key: the root for w = 0, level 0's column w
    /// otherwise; then its higher levels; then its new token) joins the pool; the levels move down.
    @Test func windowStepPoolsEachColumnAndShifts() throws {
        var window = Self.fullWindow()
        _ = try window.sideRows(after: 5)
        window.advance([50, 51, 52])
        #expect(window.candidates(after: 5) == [[40, 41], [20, 50]])
        #expect(window.candidates(after: 11) == [[21, 51]] && window.candidates(after: 12) == [[22, 52]])
        #expect(window.levels == [[21, 22], [50, 51, 52]])
        // Rows of a step of another length (not this window's) leave it as it was.
        let before = window
        window.advance([1, 2])
        #expect(window == before)
    }

    /// The warm-up adds a level per step until N − 1: every level drops its first token and the
    /// last level's argmaxes (without their first, after the first fill) become the new level.
    @Test func warmUpFillsOneLevelPerStep() throws {
        var window = LookaheadWindow(width: 2, ngram: 4, guesses: 1, seed: [1, 2])
        #expect(window.levels == [[1, 2, 1]])
        _ = try window.sideRows(after: 9)
        window.advance([7, 8, 9])
        #expect(window.levels == [[2, 1], [7, 8, 9]] && !window.isFull)
        let rows = try #require(try window.sideRows(after: 9))
        // Level 1's column w at offset 1 + w sees level 0's columns 1…w.
        #expect(rows.offsets == [1, 2, 1, 2, 3] && rows.visible == [[], [0], [], [0], [0, 1]])
        window.advance([3, 4, 5])
        #expect(window.levels == [[1], [8, 9], [4, 5]] && window.isFull)
        #expect(window.pool.isEmpty, "the pool learns from full windows only")
    }

    /// The op's step: the previous step's side-row logits (the same rows it proposed) move the
    /// window; other rows do not; the drafted trie shares prefixes.
    @Test func opMovesTheWindowFromThePreviousScores() throws {
        let op = try Self.op("window: 2, ngram: 3, guesses: 2, prompt_pool: true")
        var rng = Xoshiro256StarStar(seed: 1)
        let state = try op.makeState()
        func run(_ context: [Int32], _ previous: StepValue?) throws -> TokenTree {
            let input = StepInput(history: LogitsContext(tokens: context, promptCount: 3),
                                  inputs: ["scores": previous.map { [$0] } ?? []], state: state)
            guard case .tree(let tree) = try op.run(input, rng: &rng) else { throw OperatorError(.shapeMismatch, at: "l", "not a tree") }
            return tree
        }
        // The prompt 1 2 1 pools (1 → 2 1) and (2 → 1 x)… ; after 1 the pool proposes 2 1.
        let first = try run([1, 2, 1], nil)
        #expect(first.nodes.map(\.token) == [2, 1])
        #expect(first.sideRows?.tokens == [1, 2], "level 0: W + N − 3 prompt tokens")
        func onehot(_ token: Int) -> [Float] { (0..<10).map { $0 == token ? 1 : 0 } }
        var scored = first
        scored.sideRows?.logits = [onehot(6), onehot(7)]
        let second = try run([1, 2, 1, 2], .scores(tree: scored, logits: Array(repeating: onehot(0), count: 3)))
        #expect(second.sideRows?.tokens == [2, 6, 7], "level 0 lost its first; level 1 the argmaxes")
        // Rows the node did not propose (a fork's) are ignored.
        var foreign = second
        foreign.sideRows = try SideRows(tokens: [9, 9, 9], offsets: [1, 1, 2], visible: [[], [], [1]])
        foreign.sideRows?.logits = [onehot(1), onehot(2), onehot(3)]
        let third = try run([1, 2, 1, 2, 3], .scores(tree: foreign, logits: [onehot(0)]))
        #expect(third.sideRows?.tokens == [2, 6, 7])
    }

    /// `tree.merge` carries one drafter's side rows through the merge and refuses two windows.
    @Test func mergeCarriesOneWindow() throws {
        let (node, environment) = try DraftedGraph.node("m", of: ["l: { op: draft.lookahead, scores: s }", "k: { op: draft.lookup }",
                                                                  "m: { op: tree.merge, from: [l, k] }"], tree: "m")
        let merge = try TreeMergeOp(node: node, environment: environment)
        var window = Self.fullWindow()
        let lookahead = try Self.op("window: 3, ngram: 3, guesses: 2").draft(&window, after: 5)
        let chain = try TokenTree.chain([30, 99], source: "lookup")
        var rng = Xoshiro256StarStar(seed: 1)
        func merged(_ trees: [TokenTree]) throws -> StepValue {
            try merge.run(StepInput(history: LogitsContext(tokens: [5], promptCount: 1), inputs: ["from": trees.map { .tree($0) }]), rng: &rng)
        }
        guard case .tree(let tree) = try merged([lookahead, chain]) else { throw OperatorError(.shapeMismatch, at: "m", "not a tree") }
        #expect(tree.sideRows == lookahead.sideRows)
        #expect(Set(tree.nodes.map(\.token)) == [30, 31, 40, 41, 99])
        #expect(throws: OperatorError.self) { try merged([lookahead, lookahead]) }
    }

    /// Side rows scored by the runtime in the verification pass equal each row scored as its own
    /// chain (the `TreeScorer` fallback, whose prefill runs the tiled kernel: equal to rounding;
    /// ForwardMaskTests checks the bitwise oracle), and leave the cache as plain scoring would.
    @Test func runtimeScoresSideRowsAsTheirChains() throws {
        struct ChainsOnly: TreeScorer {
            let scorer: ModelSequenceScorer
            var vocabularySize: Int { scorer.vocabularySize }
            func score(context: [Int32], tree: TokenTree) throws -> [[Float]] { try scorer.score(context: context, tree: tree) }
        }
        var window = Self.fullWindow()
        let tree = try Self.op("window: 3, ngram: 3, guesses: 2").draft(&window, after: 5)
        let service = DirectForward(model: ModelSequenceScorerTests.model)
        let context: [Int32] = [3, 14, 15, 9, 5]
        let masked = ModelSequenceScorer(service: service)
        let (rows, side) = try masked.scoreWithSideRows(context: context, tree: tree)
        let (chainRows, chainSide) = try ChainsOnly(scorer: ModelSequenceScorer(service: service)).scoreWithSideRows(context: context, tree: tree)
        #expect(zip(rows, chainRows).allSatisfy { ModelSequenceScorerTests.close($0, $1) })
        #expect(side.count == 5 && zip(side, chainSide).allSatisfy { ModelSequenceScorerTests.close($0, $1) })
        // Commit the guess 30 31 and the target's token: the cache keeps the path, not the window.
        let next = context + [30, 31, 7]
        let after = try masked.score(context: next, tree: TokenTree())
        #expect(masked.sequence.length == next.count)
        #expect(ModelSequenceScorerTests.close(after[0], try ModelSequenceScorerTests.fresh(next)))
        // Side rows without a tree leave the cache at once.
        var bare = TokenTree()
        bare.sideRows = tree.sideRows
        #expect(try masked.scoreWithSideRows(context: next, tree: bare).side.count == 5)
        #expect(masked.sequence.length == next.count)
    }
}
