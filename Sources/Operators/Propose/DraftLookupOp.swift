import Graph

/// `draft.lookup`: prompt lookup decoding (Saxena 2023). See `PromptLookupDrafter`.
public struct DraftLookupOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "draft.lookup", family: .propose,
        doc: "Prompt lookup decoding (Saxena 2023): continue the longest suffix of the context that occurred earlier in it. Deterministic, so sampling verification treats it as one-hot.",
        parameters: [
            ParameterSpec("tokens", .int, default: .int(PromptLookupDrafter.defaultMaxTokens), range: .closed(1, 64),
                          doc: "Most tokens proposed (the reference implementation's num_pred_tokens, 10)."),
            ParameterSpec("min_match", .int, default: .int(1), range: .closed(1, 64),
                          doc: "Shortest suffix that counts as a match."),
            ParameterSpec("max_match", .int, default: .int(PromptLookupDrafter.defaultMaxMatch), range: .closed(1, 64),
                          doc: "Longest suffix tried first (the reference implementation uses 3)."),
        ],
        output: OutputSpec(.tokenTree, provides: [PropertyRule(.deterministic), PropertyRule(.exactDraft)], doc: "A chain, empty when nothing matches."),
        needs: [CapabilityRule(.rollback)],
        validate: OpValidation.checks { node, _ in _ = try DraftLookupOp.drafter(node) })

    let drafter: PromptLookupDrafter

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` when `max_match < min_match`.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws { drafter = try Self.drafter(node) }

    /// The node's drafter (its validation when the graph is compiled).
    static func drafter(_ node: Plan.Node) throws -> PromptLookupDrafter {
        try PromptLookupDrafter(minMatch: node.int("min_match") ?? 1,
                                maxMatch: node.int("max_match") ?? PromptLookupDrafter.defaultMaxMatch,
                                maxTokens: node.int("tokens") ?? PromptLookupDrafter.defaultMaxTokens, source: node.name)
    }

    /// Looks the context's suffix up in the context.
    /// - Parameters:
    ///   - input: the history.
    ///   - rng: unused (the proposal is deterministic).
    /// - Returns: `.tree`.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        .tree(drafter.draft(context: input.history.tokens))
    }
}
