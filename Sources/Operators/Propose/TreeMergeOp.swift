import Graph

/// `tree.merge`: several drafters' proposals as one deduplicated tree under a node budget
/// (SpecInfer, Miao et al. 2024). See `TokenTree.merged(_:budget:rule:)`.
public struct TreeMergeOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "tree.merge", family: .propose,
        doc: "Merges several drafters' proposals into one deduplicated token tree under a node budget, ranked by support then path probability (SpecInfer, Miao et al. 2024).",
        parameters: [budget.spec, rule.spec],
        inputs: [PortSpec("from", .tokenTree, multiplicity: .many, doc: "The proposals, in priority order.")],
        output: OutputSpec(.tokenTree, propagates: ["from"], doc: "The merged tree."),
        needs: [CapabilityRule(.tokenTrees)],
        validate: OpValidation.checks { node, plan in
            if let masked = node.sources("from").first(where: { plan.nodes[$0].properties.contains(.constraintMasks) }) {
                throw OperatorError(.invalidTree, at: "from", "'\(plan.nodes[masked].name)' (\(plan.nodes[masked].op)) gives a constrained tree, whose masks would not cover the merged nodes; \(TreeMergeOp.constrainAfter)")
            }
        })

    static let budget = OpParameter<Int>("budget", default: 32, range: .closed(1, 512),
                                         doc: "Most tree nodes scored per step; SpecInfer's trees stay below ~64 nodes, where one CPU forward still costs about one token's weight traffic.")
    static let rule = OpParameter<TokenTree.MergeRule>("rule", default: .preserveSamples,
                                                       doc: "preserve-samples keeps sampled drafts separate (exact speculative sampling); deduplicate-all merges every equal sibling and drops draft distributions.")

    let budget: Int
    let rule: TokenTree.MergeRule

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        budget = try node[Self.budget]
        rule = try node[Self.rule]
    }

    /// What to do instead of merging constrained trees.
    static let constrainAfter = "put the constrain.* node after tree.merge"

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
                                "a constrained tree cannot be merged (its masks would not cover the merged nodes); \(Self.constrainAfter)")
        }
        let carrying = trees.compactMap(\.sideRows)
        guard carrying.count <= 1 else {
            throw OperatorError(.invalidTree, at: "from", "\(carrying.count) proposals carry side rows (Lookahead windows); one pass can score only one drafter's")
        }
        var merged = try TokenTree.merged(trees, budget: budget, rule: rule)
        // The drafter's side rows ride along unmerged: they are its own guesses, never committed.
        merged.sideRows = carrying.first
        return .tree(merged)
    }
}

/// `rule:` names a merge rule by its raw value.
extension TokenTree.MergeRule: ParameterEnumeration {}
