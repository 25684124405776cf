import Graph

/// A decoding graph a node runs inside itself (a `draft.graph` drafter's inner graph), bound by the
/// engine running the outer graph: the Operators module declares what a node asks of it, the
/// engine (which the Operators module cannot see) provides it through
/// `OperatorEnvironment.innerGraph(_:for:)`.
public protocol InnerGraphRunner: Sendable {
    /// A fresh run of the inner graph for one outer hypothesis: its own KV sequences and node
    /// states, made when the outer hypothesis is, kept across the outer steps.
    /// - Returns: the run.
    /// - Throws: what building the inner nodes' states throws.
    func makeRun() throws -> any InnerGraphRun
    /// Tells the inner graph's run observers (a suffix drafter's store of earlier outputs) that
    /// the outer run finished.
    /// - Parameters:
    ///   - prompt: the outer run's prompt.
    ///   - output: what the outer run emitted.
    /// - Throws: what an observer throws.
    func runFinished(prompt: [Int32], output: [Int32]) throws
}

/// One outer hypothesis's run of an inner graph.
public protocol InnerGraphRun: HypothesisState {
    /// The inner graph's continuation of `context`: its committed tokens are first brought back to
    /// `context` (what it committed beyond the outer graph's commits is rolled back, its KV
    /// sequences with it), then it runs its own steps until it committed `count` tokens after it.
    /// - Parameters:
    ///   - context: the outer hypothesis's committed tokens.
    ///   - count: tokens wanted, ≥ 1.
    /// - Returns: the first `count` tokens the inner graph committed after `context`.
    /// - Throws: the inner graph's error, located at its node.
    func continuation(of context: LogitsContext, count: Int) throws -> [Int32]
}

/// A node's per-hypothesis state that holds an inner graph's run, so the engine can report what
/// the inner graph did (its models' calls, its MAT).
public protocol InnerGraphHolding {
    /// The run.
    var innerRun: any InnerGraphRun { get }
}
