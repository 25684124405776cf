import Graph

/// `draft.lookahead`: Lookahead decoding (Fu et al. 2024, "Break the Sequential Dependency of LLM
/// Inference Using Lookahead Decoding"). No draft model and no store: a Jacobi window of `window`
/// columns × (`ngram` − 1) levels guesses future tokens, the target refines it every step, and the
/// n-grams its columns trace are pooled by first token (`LookaheadWindow`). Each step proposes the
/// pool's n-grams after the last committed token as a tree (the verification branch, a trie of
/// candidate chains that `score`, `sample` and `verify` handle like any draft) and carries the
/// window as the tree's side rows (the lookahead branch), which the same forward pass scores under
/// the window's mask and which are never committed. Their logits come back on the `scores` port
/// the next step. Deterministic given the history, so either verifier accepts it without draft
/// probabilities.
///
/// One step's mask for W = 3, N = 3, G = 2 (`ForwardMask.rendered`, checked by
/// `DraftLookaheadTests`): the root, two guessed 2-grams (v0 v1, v2 v3), then the window's level 0
/// (columns 1, 2) and level 1 (columns 0…2); every row also sees the whole committed context.
///
///     root x.........
///     v0   xx........
///     v1   xxx.......
///     v2   x..x......
///     v3   x..xx.....
///     L0c1 x....x....
///     L0c2 x....xx...
///     L1c0 x......x..
///     L1c1 x....x..x.
///     L1c2 x....xx..x
public struct DraftLookaheadOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "draft.lookahead", family: .propose,
        doc: "Lookahead decoding (Fu et al. 2024): a Jacobi window of `window` columns × (`ngram` − 1) levels, scored in the verification pass under its own attention mask (side rows, never committed), collects n-grams into a pool keyed by first token (at most `guesses` per key); the pool's n-grams after the last token are drafted as a tree. Deterministic.",
        parameters: [window.spec, ngram.spec, guesses.spec, promptPool.spec],
        inputs: [PortSpec("scores", .scores, timing: .previousStep,
                          doc: "The scoring node whose previous-step logits of the window's rows move the window.")],
        output: OutputSpec(.tokenTree, provides: [PropertyRule(.deterministic), PropertyRule(.exactDraft)],
                           doc: "The pool's n-grams after the last token as a trie, with the window as side rows."),
        needs: [CapabilityRule(.tokenTrees), CapabilityRule(.rollback)],
        validate: OpValidation.checks { node, _ in
            let rows = (try node[ngram] - 1) * (try node[window])
            guard rows <= maximumWindowRows else {
                throw OperatorError(.invalidParameter, at: window.name, "makes a window of \(rows) rows ((ngram − 1) × window), more than \(maximumWindowRows), each a row of every pass; lower `window` or `ngram`")
            }
        })

    static let window = OpParameter<Int>("window", default: 2, range: .closed(1, 64),
                                         doc: "W: columns of the Jacobi window. The reference runs 7B models with W = 7 (15 for 13B) on a GPU, where the extra rows are nearly free; on a CPU every row of the pass costs: on the demo target W 2, N 3, G 2 ran at 1.02–1.20× greedy (a shared host), W 4, G 4 at 0.85× and the paper's 7B setting (W 7, N 5, G 7) at 0.32× (docs/measurements.md).")
    static let ngram = OpParameter<Int>("ngram", default: 3, range: .closed(3, 16),
                                        doc: "N: the n-gram size; the window has N − 1 levels and each guess N − 1 tokens. The reference's `LEVEL` (5 for 7B on a GPU); 3 is its smallest, the cheapest window on a CPU.")
    static let guesses = OpParameter<Int>("guesses", default: 2, range: .closed(1, 64),
                                          doc: "G: n-grams kept per first token, all verified when their key is the last token (the reference's `GUESS_SET_SIZE`, 7 for 7B). Each costs up to N − 1 rows of the pass.")
    static let promptPool = OpParameter<Bool>("prompt_pool", default: false,
                                              doc: "Also pool every n-gram of the prompt and of the committed output (the reference's `POOL_FROM_PROMPT`, off by default there).")

    /// Most window rows: each is a row of every verification pass.
    static let maximumWindowRows = 512

    let width: Int
    let ngramSize: Int
    let guessCount: Int
    let poolsPrompt: Bool

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the pool fills itself).
    /// - Throws: `OperatorError.invalidParameter` for a parameter outside its range.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        width = try node[Self.window]
        ngramSize = try node[Self.ngram]
        guessCount = try node[Self.guesses]
        poolsPrompt = try node[Self.promptPool]
    }

    /// A hypothesis's window and pool, laid out at its first step.
    final class State: HypothesisState, @unchecked Sendable {
        var window: LookaheadWindow?
        /// The side rows proposed last step, to recognise their logits.
        var proposed: [Int32]?
        /// How many committed tokens the pool has learned from (`prompt_pool`).
        var learned = 0
        func fork() -> any HypothesisState {
            let copy = State()
            (copy.window, copy.proposed, copy.learned) = (window, proposed, learned)
            return copy
        }
    }

    /// A fresh hypothesis's state.
    /// - Returns: the state.
    public func makeState() throws -> (any HypothesisState)? { State() }
    /// It keeps per-hypothesis state.
    public static var keepsHypothesisState: Bool { true }

    /// Moves the window from the previous step's scores, then drafts below the context.
    /// - Parameters:
    ///   - input: the history and the previous step's scores.
    ///   - rng: unused (the proposal is deterministic).
    /// - Returns: `.tree` with side rows.
    /// - Throws: `OperatorError.shapeMismatch` for scores of another kind.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let state = input.state as? State ?? State()
        let history = input.history.tokens
        guard let last = history.last else { return .tree(TokenTree()) }
        var window = state.window ?? LookaheadWindow(width: width, ngram: ngramSize, guesses: guessCount,
                                                     seed: Array(history[..<max(1, input.history.promptCount)]))
        // The state lets go of its copy while this one changes, so the pool is not copied each step.
        state.window = nil
        defer { state.window = window }
        for value in input.inputs["scores"] ?? [] {
            guard case .scores(let tree, _) = value else {
                throw OperatorError(.shapeMismatch, at: "scores", "expected a scoring node's logits")
            }
            // Only the rows this node proposed move its window (a fork or a filter that dropped
            // them leaves it where it was).
            guard let side = tree.sideRows, let logits = side.logits, side.tokens == state.proposed,
                  let lastLevel = window.levels.last, lastLevel.count <= logits.count else { continue }
            window.advance(try logits.suffix(lastLevel.count).map { Int32(try Distribution.argmax($0)) })
        }
        if poolsPrompt {
            window.remember(every: Array(history[max(0, state.learned - ngramSize + 1)...]))
            state.learned = history.count
        }
        let tree = try draft(&window, after: last)
        state.proposed = tree.sideRows?.tokens
        return .tree(tree)
    }

    /// The pool's n-grams after `last` as a trie, with the window's rows as side rows.
    /// - Parameters:
    ///   - window: the window (records `last` as its root).
    ///   - last: the last committed token.
    /// - Returns: the tree.
    /// - Throws: `OperatorError.invalidTree` if the window's layout broke.
    func draft(_ window: inout LookaheadWindow, after last: Int32) throws -> TokenTree {
        var tree = TokenTree()
        var unbounded = Int.max  // at most G guesses of N − 1 tokens
        try tree.appendTrie(window.candidates(after: last), below: TokenTree.root, source: "lookahead", budget: &unbounded)
        tree.sideRows = try window.sideRows(after: last)
        return tree
    }
}
