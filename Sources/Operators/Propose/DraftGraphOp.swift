import Graph

/// `draft.graph`: a drafter that is itself a decoding graph (staged speculative decoding, Spector &
/// Ré 2023). The inner graph — typically a draft model sped up by its own drafter (`draft.suffix`,
/// `draft.lookup`) — runs its own step loop on the outer hypothesis's committed context, and the
/// first `tokens` tokens it commits are the outer draft chain. A draft of a draft is recursion: the
/// inner graph may itself hold a `draft.graph` node. See `InnerGraphRunner`.
public struct DraftGraphOp: HypothesisOperator, CommitObserver, RunObserver {
    /// The declaration.
    public static let spec = OpSpec(
        "draft.graph", family: .propose,
        doc: "Staged speculative decoding (Spector & Ré 2023): a decoding graph drafts. The inner graph (a draft model with its own drafter) runs its own greedy step loop on the committed context and its first `tokens` committed tokens are the chain; its KV sequences and node states persist across steps per hypothesis, and what it committed beyond the outer verifier's commits is rolled back. Deterministic.",
        parameters: [graph.spec, tokens.spec, DraftLength.schedule.spec],
        output: OutputSpec(.tokenTree, provides: [PropertyRule(.deterministic), PropertyRule(.exactDraft)],
                           doc: "A chain: the inner graph's greedy continuation."),
        needs: [CapabilityRule(.rollback)],
        validate: OpValidation.checks { node, _ in _ = try DraftGraphOp.inner(node) })

    static let graph = OpParameter<String>("graph", .graphFile,
                                           doc: "The inner graph's file, relative to this graph's file; its output must commit one token sequence per step (a `verify`), greedily (every `temperature` of its shaping nodes 0), and its target must share the outer target's vocabulary. Its models load as this graph's do: a model both name is loaded once.")
    static let tokens = OpParameter<Int>("tokens", default: 4, range: .closed(1, Double(DraftLength.longest)),
                                         doc: "Tokens drafted per step (the starting length under `schedule: heuristic`); the inner graph runs as many of its own steps as it needs to commit them, 4–5 being where Leviathan et al. (2023) measure the best speedups for small drafters.")

    let runner: any InnerGraphRunner
    /// How many tokens to propose each step.
    let length: DraftLength
    /// The source tag of proposed nodes.
    let source: String

    /// Builds the node, binding its inner graph.
    /// - Parameters:
    ///   - node: the plan node, its inner plan in `graphs`.
    ///   - environment: binds the inner graph (`OperatorEnvironment.innerGraph(_:for:)`).
    /// - Throws: `OperatorError.invalidParameter` for an inner graph that cannot draft, or what
    ///   binding it throws.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        runner = try environment.innerGraph(try Self.inner(node), for: node)
        length = try DraftLength.of(node, tokens: node[Self.tokens])
        source = node.name
    }

    /// The node's inner plan, checked: it commits one greedy token sequence per step.
    /// - Throws: `OperatorError.invalidParameter` at `graph` for a plan that is missing, whose
    ///   output is not a selection, that searches, or that samples.
    static func inner(_ node: Plan.Node) throws -> Plan {
        _ = try DraftLength.of(node, tokens: node[tokens])
        let written: String = try node[graph]
        guard let plan = node.graphs[graph.name] else {
            throw OperatorError(.invalidParameter, at: graph.name, "the graph '\(written)' was not compiled with this plan; compile the outer graph from its file")
        }
        let output = plan.nodes[plan.output]
        guard output.outputType == .selection else {
            throw OperatorError(.invalidParameter, at: graph.name, "the graph '\(written)' commits a search's \(output.outputType) (output '\(output.name)', \(output.op)); a drafting graph must commit one token sequence per step, as a `verify` output does")
        }
        if let search = plan.nodes.first(where: { $0.outputType == .frontier }) {
            throw OperatorError(.invalidParameter, at: graph.name, "the graph '\(written)' searches (node '\(search.name)', \(search.op)); a drafting graph must commit one token sequence per step, not a frontier")
        }
        for shaping in plan.nodes where shaping.family == .shape {
            guard let temperature = shaping.parameters[SampleOp.sampling.temperature.name]?.number else { continue }
            if temperature != 0 {
                throw OperatorError(.invalidParameter, at: graph.name, "the graph '\(written)' samples (node '\(shaping.name)' has temperature \(ParameterValue.float(temperature))); a drafting graph decodes greedily, so its chain is a deterministic function of the context: set temperature: 0 there")
            }
        }
        return plan
    }

    /// A hypothesis's inner run and draft length.
    final class State: HypothesisState, InnerGraphHolding, @unchecked Sendable {
        let run: any InnerGraphRun
        let length: DraftLength.State
        var innerRun: any InnerGraphRun { run }
        init(run: any InnerGraphRun, length: DraftLength.State) {
            self.run = run
            self.length = length
        }
        func fork() -> any HypothesisState {
            State(run: run.fork() as! any InnerGraphRun, length: length.fork() as! DraftLength.State)
        }
    }

    /// A fresh inner run for a new hypothesis.
    /// - Returns: a `State`.
    /// - Throws: what building the inner nodes' states throws.
    public func makeState() throws -> (any HypothesisState)? { State(run: try runner.makeRun(), length: length.makeState()) }
    /// It keeps per-hypothesis state.
    public static var keepsHypothesisState: Bool { true }

    /// Moves the draft length after a commit (`schedule: heuristic`).
    /// - Parameters:
    ///   - commit: the step's commit.
    ///   - state: the hypothesis's state.
    public func committed(_ commit: StepCommit, state: (any HypothesisState)?) {
        length.update(commit, source: source, state: (state as? State)?.length)
    }

    /// Passes the finished run on to the inner graph's run observers.
    /// - Parameters:
    ///   - prompt: the run's prompt.
    ///   - output: what it emitted.
    /// - Throws: what an inner observer throws.
    public func runFinished(prompt: [Int32], output: [Int32]) throws {
        try runner.runFinished(prompt: prompt, output: output)
    }

    /// Drafts the inner graph's continuation of the history.
    /// - Parameters:
    ///   - input: the history and the node's state.
    ///   - rng: unused (the inner graph has its own generators).
    /// - Returns: `.tree`, a chain.
    /// - Throws: the inner graph's error.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        guard let state = input.state as? State else {
            throw OperatorError(.shapeMismatch, at: Self.graph.name, "the node was given no inner run (its state)")
        }
        let chain = try state.run.continuation(of: input.history, count: state.length.length)
        return .tree(try TokenTree.chain(chain, source: source))
    }
}
