import Graph

/// `draft.model`: a chain of up to `tokens` tokens from a draft model, each with the distribution it
/// was drawn from (Leviathan et al. 2023; Chen et al. 2023). See `ModelDrafter`.
public struct DraftModelOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "draft.model", family: .propose,
        doc: "A chain of up to `tokens` tokens from a draft model (Leviathan et al. 2023, Chen et al. 2023); sampled tokens carry their draft distributions, greedy ones are deterministic.",
        parameters: [model.spec, tokens.spec, minProbability.spec] + sampling.specs,
        output: OutputSpec(.tokenTree, provides: [
            PropertyRule(.draftProbabilities, when: .greaterThan(sampling.temperature.name, 0)),
            PropertyRule(.deterministic, when: .equals(sampling.temperature.name, .float(0))),
            PropertyRule(.exactDraft),
        ], doc: "A chain of proposed tokens."),
        needs: [CapabilityRule(.rollback)],
        validate: OpValidation.checks { node, _ in _ = try DraftModelOp.drafter(node) })

    static let model = OpParameter<String>("model", .modelRef, doc: "The draft model (same vocabulary as the target).")
    static let tokens = OpParameter<Int>("tokens", default: 4, range: .closed(1, 64),
                                         doc: "Most tokens proposed per step; 4–5 is where Leviathan et al. (2023) measure the best speedups for small drafters.")
    static let minProbability = OpParameter<Float>("min_prob", default: 0, range: .closed(0, 1),
                                                   doc: "Stop drafting before a position whose most likely token is below this probability (0 = never); looks at the distribution, never the drawn token, so sampling stays exact.")
    /// Greedy by default: a greedy draft is deterministic, so either verifier accepts it without q.
    static let sampling = SamplingParameters(temperatureDefault: 0, penalties: false)

    let drafter: ModelDrafter

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` for settings out of range.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws { drafter = try Self.drafter(node) }

    /// The node's drafter (its validation when the graph is compiled).
    static func drafter(_ node: Plan.Node) throws -> ModelDrafter {
        try ModelDrafter(tokens: node[tokens], minProbability: node[minProbability],
                         settings: sampling.settings(of: node), source: node.name)
    }

    /// Drafts a chain after the history with the bound draft model.
    /// - Parameters:
    ///   - input: the history and the draft model.
    ///   - rng: the node's generator.
    /// - Returns: `.tree`.
    /// - Throws: the model's error, or `OperatorError`.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        .tree(try drafter.draft(model: try input.requireScorer(), context: input.history, using: &rng))
    }
}
