/// What a drafter that learns from the verifier (Token Recycling's table, Ouroboros's phrase pool)
/// keeps per hypothesis: the context's last token when it last ran, which the root row of the
/// scores it reads in the next step followed.
final class PreviousRoot: HypothesisState, @unchecked Sendable {
    /// The token, `nil` before the first step.
    var token: Int32?

    func fork() -> any HypothesisState {
        let copy = PreviousRoot()
        copy.token = token
        return copy
    }
}

extension StepInput {
    /// The previous step's scored trees on a previous-step `scores` port, each with its logits at
    /// the root and at every node (none in a hypothesis's first step).
    /// - Parameter port: the port's name.
    /// - Returns: each scored tree and its `count + 1` rows.
    /// - Throws: `OperatorError.shapeMismatch` for a value that is not a scoring node's logits at
    ///   the root and every tree node.
    func previousScores(_ port: String) throws -> [(tree: TokenTree, logits: [[Float]])] {
        try (inputs[port] ?? []).map { value in
            guard case .scores(let tree, let logits) = value, logits.count == tree.count + 1 else {
                throw OperatorError(.shapeMismatch, at: port, "expected a scoring node's logits at the root and every tree node")
            }
            return (tree, logits)
        }
    }
}
