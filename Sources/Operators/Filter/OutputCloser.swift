/// An op that restricts what the output may be, and so can finish an output the token budget cut
/// and say how much of it the restriction decided: the `constrain.*` ops.
///
/// The session asks it once a run ends. When `max_new_tokens` cuts the output before the op's
/// constraint is complete (a JSON value inside a string, an array still open), the session appends
/// `closingTokens` and the run finishes `closed` (docs/constraints.md, "Closing a cut output").
public protocol OutputCloser: HypothesisOperator {
    /// The tokens of the shortest valid completion of `output`.
    /// - Parameters:
    ///   - state: this node's state for the hypothesis (`makeState()`, as the run left it).
    ///   - output: the hypothesis's generated tokens.
    /// - Returns: the tokens (empty when `output` is complete), or nil when no completion is found
    ///   within the op's bounds.
    /// - Throws: `OperatorError` when the output breaks the constraint.
    func closingTokens(state: (any HypothesisState)?, output: [Int32]) throws -> [Int32]?

    /// Of `output`'s tokens, how many were the only token the op allowed at their position (the
    /// model had no choice there), as far as the op's masks recorded them.
    /// - Parameters:
    ///   - state: this node's state for the hypothesis.
    ///   - output: the hypothesis's generated tokens.
    /// - Returns: the count.
    /// - Throws: `OperatorError` when the output breaks the constraint.
    func forcedChoices(state: (any HypothesisState)?, output: [Int32]) throws -> Int
}
