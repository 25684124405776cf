import Foundation
import Graph
import Kernels

/// `score.lookback`: look-back decoding (Xu et al. 2023, "Look-back Decoding for Open-Ended Text
/// Generation"). Each step compares the model's next-token distribution with the distributions of
/// the last `window` positions by KL divergence. While the nearest stays above `alpha` the step is
/// greedy. When it falls to `alpha` or below — the model is about to restate itself — the top_k
/// most likely tokens are scored in one pass as siblings, and candidate v is weighted by
/// `softmax(−KL_min(p(·|x, v) ‖ prefix))`: the continuation whose next distribution stays closest
/// to one of the prompt's is the most likely (the paper's coherence rule, Algorithm 1).
///
/// The output is the method's own distribution over the next token as a row of logits: 0 at the
/// greedy token and −∞ elsewhere, or −KL at the candidates and −∞ elsewhere. `sample` at
/// temperature 1 draws it as the paper does; temperature 0 takes the candidate nearest the prompt.
/// The prompt's distributions come from one pass over its last `prefix_window` tokens at the first
/// step, scored as a chain below the rest of the prompt, so their keys and values stay in the cache.
/// A step costs one pass of one row, or of top_k + 1 rows when the alarm sounds (the chosen
/// candidate's row is the next step's distribution).
public struct LookBackOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "score.lookback", family: .score,
        doc: "Look-back decoding (Xu et al. 2023): greedy while the next-token distribution stays further than alpha (KL, nats) from each of the last `window` positions' distributions; when it comes closer (the model is about to repeat itself), the top_k most likely tokens are scored in one pass and weighted by softmax(−KL) between each one's next distribution and the nearest of the prompt's, which keeps the text on the prompt's topic. Outputs that distribution as logits (0 at the greedy token, or −KL at the candidates; −∞ elsewhere): `sample` at temperature 1 draws it as the paper does.",
        parameters: [model.spec, topK.spec, alpha.spec, window.spec, prefixWindow.spec],
        output: OutputSpec(.scores, doc: "The method's next-token distribution as logits at the root: 0 at the greedy token, or −KL to the prompt at the candidates; −∞ elsewhere."))

    static let model = OpParameter<String>("model", .modelRef, doc: "The model.")
    static let topK = OpParameter<Int>("top_k", default: 8, range: .closed(1, 64),
                                       doc: "Candidates when the alarm sounds (the paper searches 5, 8 and 10); each is a row of that step's pass.")
    static let alpha = OpParameter<Double>("alpha", default: 0.9, range: .atLeast(0),
                                           doc: "The alarm: the smallest KL divergence (nats) from the current distribution to a recent position's at or below which the step leaves greedy decoding (the paper searches 0.5–1.6).")
    /// The most rows either window holds: each is a vocabulary-wide distribution, so 1 024 rows of a
    /// 49 152-token vocabulary are 200 MB.
    static let longestWindow = 1024
    static let window = OpParameter<Int>("window", default: 128, range: .closed(1, Double(longestWindow)),
                                         doc: "How many earlier positions (prompt or generated) the alarm compares with: the paper's sliding window of 128, which lets text far back be repeated on purpose.")
    static let prefixWindow = OpParameter<Int>("prefix_window", default: 256, range: .closed(1, Double(longestWindow)),
                                               doc: "How many of the prompt's last positions the coherence rule compares candidates with. Each is a vocabulary-wide distribution held for the run, and scoring them is one pass with that many rows of LM head at the first step.")

    let topK: Int
    let alpha: Double
    let window: Int
    let prefixWindow: Int

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: never for a checked node.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        topK = try node[Self.topK]
        alpha = try node[Self.alpha]
        window = try node[Self.window]
        prefixWindow = try node[Self.prefixWindow]
    }

    /// One hypothesis's distributions.
    final class State: HypothesisState, @unchecked Sendable {
        /// Log-probabilities after each of the prompt's last positions but its final one: the
        /// coherence reference `p(·|x_{<j})`, j ≤ m.
        var prefix: [[Float]] = []
        /// Log-probabilities after the positions before the current one, oldest first, at most
        /// `window` of them.
        var recent: [[Float]] = []
        /// The context the state describes: `next` is the distribution after it.
        var context: [Int32] = []
        /// Logits after `context`.
        var next: [Float] = []
        /// The candidates scored at the last alarm, with the logits after each.
        var candidates: [Int32: [Float]] = [:]

        func fork() -> any HypothesisState {
            let copy = State()
            (copy.prefix, copy.recent, copy.context, copy.next, copy.candidates) = (prefix, recent, context, next, candidates)
            return copy
        }
    }

    /// A fresh hypothesis's state.
    /// - Returns: the state.
    public func makeState() throws -> (any HypothesisState)? { State() }
    /// It keeps per-hypothesis state.
    public static var keepsHypothesisState: Bool { true }
    /// The state rebuilds itself from any history that is not its own continued by one token.
    public static var stateFollowsHistory: Bool { true }

    /// `KL(p ‖ q)` for every reference row q: `Σ p·log p − Σ p·log q`, with the rows compared
    /// on every core.
    /// - Parameters:
    ///   - logP: the distribution's log-probabilities.
    ///   - references: log-probabilities of the same width.
    /// - Returns: the smallest divergence, `+∞` without references.
    /// - Throws: never in practice (the per-row work does not throw).
    static func minimumDivergence(_ logP: [Float], to references: [[Float]]) throws -> Double {
        guard !references.isEmpty else { return .infinity }
        let p = logP.map { Foundation.exp($0) }
        let negativeEntropy = Double(p.withUnsafeBufferPointer { pp in
            logP.withUnsafeBufferPointer { Vector.dot(pp.baseAddress!, $0.baseAddress!, count: p.count) }
        })
        // A few rows per task: each dot product alone is too short to be worth a thread.
        let rowsPerTask = 16
        let tasks = (references.count + rowsPerTask - 1) / rowsPerTask
        let best = try ParallelRows.map(tasks, width: p.count * rowsPerTask) { task -> Float in
            var most = -Float.infinity
            p.withUnsafeBufferPointer { pp in
                for row in references[(task * rowsPerTask)..<min(references.count, (task + 1) * rowsPerTask)] {
                    most = max(most, row.withUnsafeBufferPointer { Vector.dot(pp.baseAddress!, $0.baseAddress!, count: pp.count) })
                }
            }
            return most
        }
        return max(0, negativeEntropy - Double(best.max()!))
    }

    /// Chooses this step's distribution.
    /// - Parameters:
    ///   - input: the history and the model.
    ///   - rng: unused (`sample` draws).
    /// - Returns: `.scores` at the root.
    /// - Throws: `OperatorError` for non-finite logits; the model's error.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let scorer = try input.model(Self.model.name)
        let context = input.history.tokens
        let state = (input.state as? State) ?? State()
        try advance(state, to: context, promptCount: input.history.promptCount, scorer: scorer)
        try ScoreOp.requireFinite([state.next], model: Self.model.name)
        let current = try Distribution.logSoftmax(state.next)
        let alarm = try Self.minimumDivergence(current, to: state.recent) <= alpha
        state.recent.append(current)
        if state.recent.count > window { state.recent.removeFirst(state.recent.count - window) }
        state.candidates = [:]
        var row = [Float](repeating: -.infinity, count: current.count)
        guard alarm, !state.prefix.isEmpty else {
            row[try Distribution.argmax(state.next)] = 0
            return .scores(tree: TokenTree(), logits: [row])
        }
        let candidates = Distribution.topIndices(current, topK).map { Int32($0) }
        var tree = TokenTree()
        for token in candidates { _ = try tree.append(token, parent: TokenTree.root, source: "lookback") }
        let rows = try scorer.score(context: context, tree: tree)
        try ScoreOp.requireFinite(Array(rows.dropFirst()), model: Self.model.name)
        for (i, token) in candidates.enumerated() {
            state.candidates[token] = rows[i + 1]
            row[Int(token)] = -Float(try Self.minimumDivergence(try Distribution.logSoftmax(rows[i + 1]), to: state.prefix))
        }
        return .scores(tree: TokenTree(), logits: [row])
    }

    /// Brings the state to `context`: the next distribution after one more token is the chosen
    /// candidate's row or one pass of one row; any other history rebuilds the state from one pass
    /// over the positions the method compares with.
    private func advance(_ state: State, to context: [Int32], promptCount: Int, scorer: any TreeScorer) throws {
        if !state.next.isEmpty, context.count == state.context.count + 1, context.starts(with: state.context) {
            state.next = try state.candidates[context.last!] ?? scorer.nextLogits(context: context)
            state.context = context
            return
        }
        // The prompt's last positions and the recent ones, in one pass when they are close
        // (scored as a chain below the rest of the context, so the keys and values stay), in two
        // when the run has gone far past the prompt.
        let prompt = max(1, min(promptCount, context.count))
        let prefixStart = max(1, prompt - prefixWindow)
        let recentStart = max(1, context.count - window)
        var rows: [[Float]]
        if recentStart - prefixStart <= window {
            let first = min(prefixStart, recentStart)
            rows = try Self.rowsAfter(context, from: first, scorer: scorer)
            // Row i follows position first − 1 + i; the prompt's rows end before its last position.
            state.prefix = try rows.indices.filter { first - 1 + $0 >= prefixStart - 1 && first - 1 + $0 < prompt - 1 }
                .map { try Distribution.logSoftmax(rows[$0]) }
        } else {
            state.prefix = try Self.rowsAfter(Array(context[..<prompt]), from: prefixStart, scorer: scorer).dropLast()
                .map(Distribution.logSoftmax)
            rows = try Self.rowsAfter(context, from: recentStart, scorer: scorer)
        }
        state.recent = try rows.dropLast().suffix(window).map(Distribution.logSoftmax)
        state.context = context
        state.next = rows.last!
        state.candidates = [:]
    }

    /// The logits after each of `context[start - 1 ..< count]`, from one pass that scores
    /// `context[start...]` as a chain below the rest.
    private static func rowsAfter(_ context: [Int32], from start: Int, scorer: any TreeScorer) throws -> [[Float]] {
        var chain = TokenTree()
        var parent = TokenTree.root
        for token in context[start...] { parent = try chain.append(token, parent: parent, source: "lookback") }
        let rows = try scorer.score(context: Array(context[..<start]), tree: chain)
        try ScoreOp.requireFinite(rows, model: model.name)
        return rows
    }
}
