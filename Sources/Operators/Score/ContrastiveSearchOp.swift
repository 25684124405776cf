import Graph

/// `score.contrastive_search`: contrastive search (Su et al. 2022, "A Contrastive Framework for
/// Neural Text Generation"), as transformers' `penalty_alpha`/`top_k` decoding defines it. Each
/// step takes the model's `top_k` most likely next tokens, scores them in one pass as a tree of
/// siblings — which gives each candidate's last hidden state and its own next-token logits — and
/// rates candidate v by `(1 − α)·p(v) − α·max_j cos(h_v, h_j)` over the context's hidden states
/// (the degeneration penalty). The output holds those ratings for the candidates and −∞ elsewhere,
/// so a greedy `sample` picks the method's choice; the chosen candidate's logits are the next
/// step's distribution, as in the reference, so a step costs one pass of `top_k` + 1 rows.
public struct ContrastiveSearchOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "score.contrastive_search", family: .score,
        doc: "Contrastive search (Su et al. 2022; transformers' penalty_alpha and top_k): the top_k most likely next tokens are scored in one pass, and each is rated (1 − penalty_alpha)·p − penalty_alpha·(its hidden state's largest cosine similarity with the context's), penalising continuations that restate the context. Outputs the ratings at the root (−∞ outside the candidates); a greedy `sample` picks the method's token.",
        parameters: [model.spec, topK.spec, penaltyAlpha.spec],
        output: OutputSpec(.scores, doc: "The candidates' contrastive ratings at the root, −∞ elsewhere."))

    static let model = OpParameter<String>("model", .modelRef, doc: "The model.")
    static let topK = OpParameter<Int>("top_k", default: 4, range: .closed(1, 64),
                                       doc: "Candidates per step (the paper's and transformers' usual 4; each is a row of the step's pass).")
    static let penaltyAlpha = OpParameter<Double>("penalty_alpha", default: 0.6, range: .closed(0, 1),
                                                  doc: "Weight of the degeneration penalty (0.6 in the paper's and transformers' examples; 0 is greedy over the candidates).")

    let topK: Int
    let alpha: Double

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: never for a checked node.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        topK = try node[Self.topK]
        alpha = try node[Self.penaltyAlpha]
    }

    /// One hypothesis's context states and the logits of its next position.
    final class State: HypothesisState, @unchecked Sendable {
        /// Unit-length last hidden states of the context's tokens, by position.
        var states: [[Float]] = []
        /// The context `next` was computed after.
        var context: [Int32] = []
        /// Next-token logits after `context`.
        var next: [Float]?

        func fork() -> any HypothesisState {
            let copy = State()
            (copy.states, copy.context, copy.next) = (states, context, next)
            return copy
        }
    }

    /// A fresh hypothesis's state.
    /// - Returns: the state.
    public func makeState() throws -> (any HypothesisState)? { State() }
    /// It keeps per-hypothesis state.
    public static var keepsHypothesisState: Bool { true }

    /// `v / |v|` (zero stays zero).
    static func unit(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        return norm > 0 ? v.map { Float(Double($0) / norm) } : v
    }

    /// Dot product in Double.
    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// The ratings of candidates: `(1 − α)·p − α·max cos` against the context.
    /// - Parameters:
    ///   - probabilities: each candidate's probability.
    ///   - candidates: each candidate's unit-length state.
    ///   - context: the context's unit-length states.
    ///   - alpha: the penalty's weight.
    /// - Returns: one rating per candidate.
    static func ratings(probabilities: [Double], candidates: [[Float]], context: [[Float]], alpha: Double) -> [Double] {
        zip(probabilities, candidates).map { p, h in
            let penalty = context.map { dot(h, $0) }.max() ?? 0
            return (1 - alpha) * p - alpha * penalty
        }
    }

    /// Rates this step's candidates.
    /// - Parameters:
    ///   - input: the history and the model.
    ///   - rng: unused.
    /// - Returns: `.scores` at the root: the ratings, −∞ elsewhere.
    /// - Throws: `OperatorError` when the model gives no hidden states; the model's error.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let scorer = try input.model(Self.model.name)
        let context = input.history.tokens
        let state = (input.state as? State) ?? State()
        if state.next == nil || state.context != context {
            // A first step, or a context the last choice did not predict: read it afresh.
            let read = try scorer.scoreWithStates(context: context, tree: TokenTree())
            try absorb(read, into: state, contextCount: context.count)
            state.next = read.logits[0]
            state.context = context
        }
        let next = state.next!
        try ScoreOp.requireFinite([next], model: Self.model.name)
        let probabilities = try Distribution.softmax(next)
        // Most likely first, the lower id first among equals (a stable order for the tie rule below).
        let candidates = Distribution.topIndices(probabilities, topK).map { Int32($0) }
        var tree = TokenTree()
        for token in candidates { _ = try tree.append(token, parent: TokenTree.root, source: "contrastive_search") }
        let read = try scorer.scoreWithStates(context: context, tree: tree)
        try absorb(read, into: state, contextCount: context.count)
        let ratings = Self.ratings(probabilities: candidates.map { Double(probabilities[Int($0)]) },
                                   candidates: read.nodes.map(Self.unit), context: state.states, alpha: alpha)
        // transformers takes the first best in top-k order.
        let best = ratings.indices.max { ratings[$0] < ratings[$1] || (ratings[$0] == ratings[$1] && $0 > $1) }!
        state.states.append(Self.unit(read.nodes[best]))
        state.context = context + [candidates[best]]
        state.next = read.logits[best + 1]
        var row = [Float](repeating: -.infinity, count: next.count)
        for (token, rating) in zip(candidates, ratings) { row[Int(token)] = Float(rating) }
        // Float rounding must not reorder the choice: the best keeps its place when ratings tie in Float.
        row[Int(candidates[best])] = row[Int(candidates[best])].nextUp
        return .scores(tree: TokenTree(), logits: [row])
    }

    /// Takes the states of the committed tokens a call fed into the context's list.
    private func absorb(_ read: TreeStates, into state: State, contextCount: Int) throws {
        guard state.states.count >= read.fedStart else {
            throw OperatorError(.unscorableContext, at: Self.model.name,
                                "the hidden states of positions \(state.states.count)..<\(read.fedStart) were computed by another node sharing this model's cache; give this node a model of its own")
        }
        state.states = Array(state.states.prefix(read.fedStart)) + read.fed.map(Self.unit)
        guard state.states.count == contextCount else {
            throw OperatorError(.unscorableContext, at: Self.model.name, "hidden states for \(state.states.count) of \(contextCount) context tokens")
        }
    }
}
