import Graph

/// `verify`: accepts a path of the scored tree plus one token of the target's own; greedy matching
/// (`GreedyVerifier`) or lossless speculative sampling, chain and SpecInfer tree
/// (`SpeculativeVerifier`).
public struct VerifyOp: HypothesisOperator {
    /// Draft tokens must carry q(x), or be deterministic (one-hot q), for speculative sampling.
    static let samplingNeedsQ = PropertyRequirement(
        anyOf: [.draftProbabilities, .deterministic, .exactDraft], when: .equals(mode.name, .string(Mode.sampling.rawValue)),
        reason: "speculative sampling accepts a draft token with probability min(1, p/q) and needs q")

    /// The declaration.
    public static let spec = OpSpec(
        "verify", family: .select,
        doc: "Accepts a path of the proposed tree plus one token of the target's own. Greedy: the longest path matching the target's argmax. Sampling: speculative sampling with the residual distribution (Leviathan et al. 2023, Chen et al. 2023), recursive over siblings for trees (SpecInfer, Miao et al. 2024).",
        parameters: [mode.spec],
        inputs: [PortSpec("from", .distribution, requires: [samplingNeedsQ], doc: "The target's distributions over the tree.")],
        output: OutputSpec(.selection, doc: "The accepted tokens and the target's next token."),
        needs: [CapabilityRule(.rollback)])

    static let mode = OpParameter<Mode>("mode", default: .auto,
                                        doc: "greedy matches the target's argmax; sampling is speculative sampling, and the compiler checks that every drafter gives q or is deterministic; auto follows the distributions (greedy at temperature 0, else sampling, without the compile-time check).")

    /// How the tree is verified.
    enum Mode: String, ParameterEnumeration {
        case auto, greedy, sampling
    }

    let mode: Mode

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws { mode = try node[Self.mode] }

    /// Verifies the tree.
    /// - Parameters:
    ///   - input: the distributions.
    ///   - rng: the node's generator (speculative sampling's uniforms and residual draws).
    /// - Returns: `.selection`.
    /// - Throws: `OperatorError` for malformed input.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        guard case .distributions(let tree, let rows, let greedy) = try input.single("from") else {
            throw StepInput.wrongKind("from", "distributions")
        }
        if mode == .greedy || (mode == .auto && greedy) {
            return .selection(try GreedyVerifier.verify(tree: tree, rows: rows))
        }
        return .selection(try SpeculativeVerifier.verify(tree: tree, targetDistributions: rows, using: &rng))
    }
}
