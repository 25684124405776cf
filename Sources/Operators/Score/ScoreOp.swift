import Graph

/// `score`: the target model over the root and the proposed tree in one forward pass.
public struct ScoreOp: FrontierBatchedOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "score", family: .score,
        doc: "The target model over the root and every node of the proposed tree, in one forward pass under a tree attention mask.",
        parameters: [model.spec],
        inputs: [PortSpec("tree", .tokenTree, optional: true, doc: "Proposals; without one only the root is scored (plain decoding, beam search).")],
        output: OutputSpec(.scores, propagates: ["tree"], doc: "Logits at the root and at every tree node."))

    static let model = OpParameter<String>("model", .modelRef, doc: "The target model.")

    /// The model's name, for messages.
    let model: String

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` for a node that names no model.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws { model = try node[Self.model] }

    /// Scores the tree (or the root alone).
    /// - Parameters:
    ///   - input: the history, the tree, and the bound target model.
    ///   - rng: unused.
    /// - Returns: `.scores`.
    /// - Throws: the model's error.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let tree = try input.trees("tree").first ?? TokenTree()
        let logits = try input.model(Self.model.name).score(context: input.history.tokens, tree: tree)
        try Self.requireFinite(logits, model: model)
        return .scores(tree: tree, logits: logits)
    }

    /// Scores every hypothesis's tree in one forward pass (a beam frontier), when the bound models
    /// are runtime sequences of one model; one by one otherwise.
    /// - Parameter inputs: the hypotheses' inputs.
    /// - Returns: `.scores` per hypothesis.
    /// - Throws: the model's error.
    public func run(batch inputs: [StepInput]) throws -> [StepValue] {
        let requests = try inputs.map { input -> (scorer: ModelSequenceScorer, context: [Int32], tree: TokenTree)? in
            guard let scorer = try input.model(Self.model.name) as? ModelSequenceScorer else { return nil }
            return (scorer, input.history.tokens, try input.trees("tree").first ?? TokenTree())
        }
        let together = requests.compactMap { $0 }
        guard together.count == inputs.count else {
            var rng = Xoshiro256StarStar(seed: 0)
            return try inputs.map { try run($0, rng: &rng) }
        }
        let rows = try ModelSequenceScorer.scoreTogether(together)
        return try zip(together, rows).map { request, logits in
            try Self.requireFinite(logits, model: model)
            return .scores(tree: request.tree, logits: logits)
        }
    }

    /// Refuses scores with a NaN or infinite logit: a model computes them only from broken weights
    /// or settings (an overflow, a zero rope factor), and every later step would decode from
    /// garbage. Checked where the model's output enters the graph, so the message names the model.
    /// - Parameters:
    ///   - logits: the rows the model returned.
    ///   - model: the model's name.
    /// - Throws: `OperatorError.invalidDistribution` naming the model, the row and the token.
    static func requireFinite(_ logits: [[Float]], model: String) throws {
        for (position, row) in logits.enumerated() {
            guard let token = row.firstIndex(where: { !$0.isFinite }) else { continue }
            throw OperatorError(.invalidDistribution, at: "position \(position)",
                                "model '\(model)' produced logit \(row[token]) for token \(token); its weights or config.json are broken (NaN or infinite values)")
        }
    }
}
