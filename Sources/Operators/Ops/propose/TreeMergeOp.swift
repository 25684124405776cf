import Graph

/// `tree.merge`: several drafters' proposals as one deduplicated tree under a node budget
/// (SpecInfer, Miao et al. 2024). See `TokenTree.merged(_:budget:rule:)`.
public struct TreeMergeOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "tree.merge", family: .propose,
        doc: "Merges several drafters' proposals into one deduplicated token tree under a node budget, ranked by support then path probability (SpecInfer, Miao et al. 2024).",
        parameters: [
            ParameterSpec("budget", .int, default: .int(32), range: .closed(1, 512),
                          doc: "Most tree nodes scored per step; SpecInfer's trees stay below ~64 nodes, where one CPU forward still costs about one token's weight traffic."),
            ParameterSpec("rule", .enumeration(TokenTree.MergeRule.allCases.map(\.rawValue)), default: .string(TokenTree.MergeRule.preserveSamples.rawValue),
                          doc: "preserve-samples keeps sampled drafts separate (exact speculative sampling); deduplicate-all merges every equal sibling and drops draft distributions."),
        ],
        inputs: [PortSpec("from", .tokenTree, multiplicity: .many, doc: "The proposals, in priority order.")],
        output: OutputSpec(.tokenTree, propagates: ["from"], doc: "The merged tree."),
        needs: [CapabilityRule(.tokenTrees)])

    let budget: Int
    let rule: TokenTree.MergeRule

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` for an unknown rule.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        budget = node.int("budget") ?? 32
        guard let rule = TokenTree.MergeRule(rawValue: node.string("rule") ?? TokenTree.MergeRule.preserveSamples.rawValue) else {
            throw OperatorError(.invalidParameter, at: "rule", "unknown merge rule")
        }
        self.rule = rule
    }

    /// Merges the trees on `from`.
    /// - Parameters:
    ///   - input: the proposals.
    ///   - rng: unused.
    /// - Returns: `.tree`.
    /// - Throws: `OperatorError` for values that are not trees, or trees a constraint filtered.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let trees = try input.trees("from")
        if trees.contains(where: { $0.allowedNext != nil }) {
            throw OperatorError(.invalidTree, at: "from",
                                "a constrained tree cannot be merged (its masks would not cover the merged nodes); put the constrain.* node after tree.merge")
        }
        return .tree(try TokenTree.merged(trees, budget: budget, rule: rule))
    }
}
