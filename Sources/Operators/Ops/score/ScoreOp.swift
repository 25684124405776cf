import Graph

/// `score`: the target model over the root and the proposed tree in one forward pass.
public struct ScoreOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "score", family: .score,
        doc: "The target model over the root and every node of the proposed tree, in one forward pass under a tree attention mask.",
        parameters: [ParameterSpec("model", .modelRef, doc: "The target model.")],
        inputs: [PortSpec("tree", .tokenTree, optional: true, doc: "Proposals; without one only the root is scored (plain decoding, beam search).")],
        output: OutputSpec(.scores, propagates: ["tree"], doc: "Logits at the root and at every tree node."))

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {}

    /// Scores the tree (or the root alone).
    /// - Parameters:
    ///   - input: the history, the tree, and the bound target model.
    ///   - rng: unused.
    /// - Returns: `.scores`.
    /// - Throws: the model's error.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let tree = try input.trees("tree").first ?? TokenTree()
        let logits = try input.requireScorer().score(context: input.history.tokens, tree: tree)
        return .scores(tree: tree, logits: logits)
    }
}
