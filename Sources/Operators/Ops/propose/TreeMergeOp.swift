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
    /// - Parameter node: the plan node.
    /// - Throws: `OperatorError.invalidParameter` for an unknown rule.
    public init(node: Plan.Node) throws {
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
    /// - Throws: `OperatorError` for values that are not trees.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        .tree(try TokenTree.merged(try input.trees("from"), budget: budget, rule: rule))
    }
}
