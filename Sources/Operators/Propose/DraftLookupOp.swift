import Graph

/// `draft.lookup`: prompt lookup decoding (Saxena 2023). See `PromptLookupDrafter`.
public struct DraftLookupOp: HypothesisOperator, CommitObserver {
    /// The declaration.
    public static let spec = OpSpec(
        "draft.lookup", family: .propose,
        doc: "Prompt lookup decoding (Saxena 2023): continue the longest suffix of the context that occurred earlier in it. Deterministic, so sampling verification treats it as one-hot.",
        parameters: [tokens.spec, minMatch.spec, maxMatch.spec, occurrence.spec] + DraftLength.parameters,
        output: OutputSpec(.tokenTree, provides: [PropertyRule(.deterministic), PropertyRule(.exactDraft)], doc: "A chain, empty when nothing matches."),
        needs: [CapabilityRule(.rollback)],
        validate: OpValidation.checks { node, _ in _ = try DraftLookupOp.drafter(node) })

    static let tokens = OpParameter<Int>("tokens", default: PromptLookupDrafter.defaultMaxTokens, range: .closed(1, 64),
                                         doc: "Most tokens proposed (the reference implementation's num_pred_tokens, 10).")
    static let minMatch = OpParameter<Int>("min_match", default: 1, range: .closed(1, 64),
                                           doc: "Shortest suffix that counts as a match.")
    static let maxMatch = OpParameter<Int>("max_match", default: PromptLookupDrafter.defaultMaxMatch, range: .closed(1, 64),
                                           doc: "Longest suffix tried first (the reference implementation uses 3).")

    static let occurrence = OpParameter<PromptLookupDrafter.Occurrence>("occurrence", default: .last,
                                                                        doc: "Which earlier occurrence of the matched suffix is continued: `last`, the most recent (Saxena's reference), or `first` (CopySpec's reference, Dumitru et al. 2025).")

    let drafter: PromptLookupDrafter
    /// How many tokens to propose each step.
    let length: DraftLength

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` when `max_match < min_match`.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        drafter = try Self.drafter(node)
        length = try DraftLength.of(node, tokens: node[Self.tokens])
    }

    /// The hypothesis's current draft length.
    /// - Returns: a `DraftLength.State`.
    public func makeState() throws -> (any HypothesisState)? { length.makeState() }
    /// It keeps per-hypothesis state.
    public static var keepsHypothesisState: Bool { true }
    /// The drafts read the whole context each step; the one state, the draft length, is not tied to
    /// the path it grew along (a hypothesis re-opened elsewhere starts from its parent's length), so
    /// a search may jump (`search.mcts`).
    public static var stateFollowsHistory: Bool { true }

    /// Moves the draft length after a commit (`schedule: heuristic`).
    /// - Parameters:
    ///   - commit: the step's commit.
    ///   - state: the hypothesis's length.
    public func committed(_ commit: StepCommit, state: (any HypothesisState)?) {
        length.update(commit, source: drafter.source, state: state)
    }

    /// The node's drafter (its validation when the graph is compiled).
    static func drafter(_ node: Plan.Node) throws -> PromptLookupDrafter {
        try PromptLookupDrafter(minMatch: node[minMatch], maxMatch: node[maxMatch], maxTokens: node[tokens], source: node.name,
                                occurrence: node[occurrence])
    }

    /// Looks the context's suffix up in the context.
    /// - Parameters:
    ///   - input: the history.
    ///   - rng: unused (the proposal is deterministic).
    /// - Returns: `.tree`.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        .tree(drafter.draft(context: input.history.tokens, limit: (input.state as? DraftLength.State)?.length))
    }
}

/// `occurrence:` names an occurrence by its raw value.
extension PromptLookupDrafter.Occurrence: ParameterEnumeration {}
