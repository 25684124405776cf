import Graph
import Operators

/// A graph a node runs inside itself (`draft.graph`), bound as a session of its own: its plan,
/// models (loaded through the outer session's `ResourceRegistry`, so a model the outer graph also
/// names is one runtime) and nodes. Each outer hypothesis gets an `InnerGraphRunState`.
///
/// `@unchecked Sendable`: a session holds only constants once built, and each run state is used
/// by the one task running its (hypothesis, node) pair.
struct InnerGraph: InnerGraphRunner, @unchecked Sendable {
    let session: Session

    /// A run with no state yet: it is built at the first step, from the outer prompt.
    func makeRun() throws -> any InnerGraphRun { InnerGraphRunState(session: session) }

    /// The inner graph's run observers learn from the outer run's output: its text is what the
    /// inner graph drafted towards (a suffix drafter's store of earlier outputs grows with it).
    func runFinished(prompt: [Int32], output: [Int32]) throws {
        try session.finishRun(prompt: prompt, output: output)
    }
}

/// One outer hypothesis's run of an inner graph: a `RunState` whose one hypothesis is brought back
/// to the outer hypothesis's committed tokens before each draft, so the inner graph's tokens past
/// the outer commit are rolled back (its KV sequences truncate to the common prefix on their next
/// pass) unless they continue it, while its node states (draft lengths, tables) carry on.
final class InnerGraphRunState: InnerGraphRun, @unchecked Sendable {
    let session: Session
    /// Built at the first continuation, which brings the prompt.
    private(set) var run: RunState?

    init(session: Session, run: RunState? = nil) {
        self.session = session
        self.run = run
    }

    /// A copy for a forked outer hypothesis: the inner hypothesis forks too (KV blocks shared
    /// copy-on-write); the call counters stay the run's.
    func fork() -> any HypothesisState {
        guard var copy = run else { return InnerGraphRunState(session: session) }
        copy.hypotheses = copy.hypotheses.map { $0.fork(tokens: $0.tokens) }
        return InnerGraphRunState(session: session, run: copy)
    }

    func continuation(of context: LogitsContext, count: Int) throws -> [Int32] {
        if run == nil {
            run = try RunState(prompt: Array(context.tokens.prefix(context.promptCount)), session: session, seed: 0, trace: nil)
        }
        guard var state = run else { return [] }
        defer { run = state }
        let output = session.plan.nodes[session.plan.output]
        // Tokens the inner graph committed past the outer commit are its greedy continuation of
        // it, and stay when the outer commit is a prefix of them (the verifier accepted the whole
        // chain and its own next token agreed); otherwise they are rolled back.
        var produced: [Int32] = []
        let committed = state.hypotheses[0].tokens
        if committed.count > context.tokens.count, committed.starts(with: context.tokens) {
            produced = Array(committed[context.tokens.count...])
        } else {
            state.hypotheses[0].tokens = context.tokens
        }
        while produced.count < count {
            let values = try state.step()
            state.remember(values)
            state.metrics.steps += 1
            guard case .selection(let verdict)? = values[0][session.plan.output], !verdict.tokens.isEmpty else {
                throw EngineError(at: output.location, "output node '\(output.name)' of the inner graph committed no token")
            }
            state.metrics.recordAcceptance(depth: verdict.tree.depth, accepted: verdict.acceptedTokens.count)
            state.metrics.tokens += verdict.tokens.count
            state.hypotheses[0].tokens += verdict.tokens
            state.tellObservers(StepCommit(tree: verdict.tree, acceptedNodes: verdict.acceptedNodes, tokens: verdict.tokens))
            produced += verdict.tokens
        }
        return Array(produced.prefix(count))
    }

    /// What the inner run did so far, its models named under `node/`.
    /// - Parameter node: the outer node's name.
    /// - Returns: the inner graph's models' calls and its own steps, tokens and target calls.
    func metrics(node: String) -> (models: [RunMetrics.ModelMetrics], inner: RunMetrics.InnerRun) {
        guard let run else { return ([], RunMetrics.InnerRun(node: node)) }
        let models = session.modelMetrics(usage: run.usage).map { model in
            var named = model
            named.name = node + "/" + model.name
            return named
        }
        let target = session.targetCalls(usage: run.usage)
        return (models, RunMetrics.InnerRun(node: node, steps: run.metrics.steps, tokens: run.metrics.tokens, targetCalls: target))
    }
}
