import Dispatch
import Graph
import ModelRuntime
import Operators
import Support
import Synchronization

/// One node's state within one hypothesis: its generator and the op's state.
///
/// Only the task running this (hypothesis, node) pair touches it during a step, so it needs no
/// lock; between steps the session's thread forks it.
final class NodeState: @unchecked Sendable {
    var rng: Xoshiro256StarStar
    /// The op's own state for this hypothesis (a constraint's parser).
    let opState: (any HypothesisState)?

    init(rng: Xoshiro256StarStar, opState: (any HypothesisState)?) {
        self.rng = rng
        self.opState = opState
    }

    func fork() -> NodeState { NodeState(rng: rng, opState: opState?.fork()) }
}

/// One hypothesis of the frontier: its committed tokens, its nodes' states, and its model handles
/// (one KV sequence per `Session.slots` entry, shared by the nodes bound to it).
struct Hypothesis: Sendable {
    var tokens: [Int32]
    let nodes: [NodeState]
    let handles: [ModelSequenceScorer]
    /// Each node's value in the previous step (none before the first), what previous-step ports read.
    var previous: [StepValue?] = []

    /// The models a node's parameters name, bound to this hypothesis.
    func models(of bindings: [Session.ModelBinding]) -> [String: any TreeScorer] {
        Dictionary(uniqueKeysWithValues: bindings.map { ($0.parameter, handles[$0.slot] as any TreeScorer) })
    }

    func fork(tokens: [Int32]) -> Hypothesis {
        Hypothesis(tokens: tokens, nodes: nodes.map { $0.fork() }, handles: handles.map { $0.fork(continuing: tokens) }, previous: previous)
    }
}

/// The mutable state of one run: the frontier, metrics, and per-node times.
struct RunState {
    let prompt: [Int32]
    let session: Session
    let trace: TraceRecorder?
    var hypotheses: [Hypothesis]
    var metrics = RunMetrics()
    /// Whether the next step skips the propose stage (`RunControl.allowsDrafting`).
    var draftingOff = false
    /// Per node: calls and seconds, updated by the concurrent tasks of a stage.
    let nodeTimes: NodeTimes
    /// Per model name: the calls this run made of it.
    let usage: [String: ModelUsage]

    init(prompt: [Int32], session: Session, seed: UInt64, trace: TraceRecorder?) throws {
        self.prompt = prompt
        self.session = session
        self.trace = trace
        // Golden-ratio increments give each node a distinct SplitMix64 stream from one seed.
        let nodes = try session.plan.nodes.indices.map { n in
            var opState: (any HypothesisState)?
            if case .hypothesis(let op) = session.ops[n] {
                do {
                    opState = try op.makeState()
                } catch {
                    let node = session.plan.nodes[n]
                    throw EngineError(at: node.location, "node '\(node.name)' (\(node.op)): \(error)")
                }
            }
            return NodeState(rng: Xoshiro256StarStar(seed: seed &+ UInt64(n + 1) &* 0x9E37_79B9_7F4A_7C15), opState: opState)
        }
        let usage = Dictionary(session.slots.map { ($0.model, ModelUsage()) }, uniquingKeysWith: { first, _ in first })
        self.usage = usage
        let handles = session.slots.map { ModelSequenceScorer(service: $0.service, usage: usage[$0.model]!) }
        hypotheses = [Hypothesis(tokens: prompt, nodes: nodes, handles: handles)]
        nodeTimes = NodeTimes(count: session.plan.nodes.count)
    }

    /// Runs every stage of one step for every hypothesis.
    /// - Returns: per hypothesis, per node, the value it produced (frontier ops produce none).
    /// - Throws: `EngineError` located at the first node that failed.
    func step() throws -> [[StepValue?]] {
        let plan = session.plan
        let board = StepBoard(hypotheses: hypotheses.count, nodes: plan.nodes.count)
        if draftingOff {
            // The propose stage's nodes give empty trees without running: whatever reads them
            // scores the root alone.
            board.values.withLock { values in
                for n in plan.nodes.indices where plan.nodes[n].family == .propose {
                    for h in values.indices { values[h][n] = .tree(TokenTree()) }
                }
            }
        }
        let hypotheses = self.hypotheses
        let promptCount = prompt.count
        let ops = session.ops
        let trace = self.trace
        let nodeTimes = self.nodeTimes
        // Failures name the step (0-based, as `--jsonl` numbers them), so a failure that appears
        // only after many tokens can be found again.
        let stepIndex = metrics.steps
        for stage in plan.stages {
            // One task per (hypothesis, node); an op that batches the frontier (`score`: beams share
            // one forward pass) gets every hypothesis in one task.
            let tasks: [StageTask] = stage.flatMap { n -> [StageTask] in
                guard case .hypothesis(let op) = ops[n], !(draftingOff && plan.nodes[n].family == .propose) else { return [] }
                let fallbackOf = plan.nodes[n].inputs.first { $0.port == PortSpec.unless.name && $0.timing == .sameStep }?.sources ?? []
                if fallbackOf.isEmpty, let batched = op as? any FrontierBatchedOperator, hypotheses.count > 1 { return [.frontier(node: n, op: batched)] }
                return hypotheses.indices.compactMap { h in
                    guard board.anyProposed(by: fallbackOf, hypothesis: h) else { return .single(hypothesis: h, node: n, op: op) }
                    // A fallback drafter whose first choice proposed something this step: nothing to run.
                    board.values.withLock { $0[h][n] = .tree(TokenTree()) }
                    return nil
                }
            }
            let bindings = session.bindings
            let work: @Sendable (Int) -> Void = { i in
                let n = tasks[i].node
                let node = plan.nodes[n]
                let start = trace?.now() ?? 0
                let clock = ContinuousClock.now
                do {
                    switch tasks[i] {
                    case .single(let h, _, let op):
                        let state = hypotheses[h].nodes[n]
                        let value = try op.run(input(h), rng: &state.rng)
                        board.values.withLock { $0[h][n] = value }
                    case .frontier(_, let op):
                        var rngs = hypotheses.map { $0.nodes[n].rng }
                        let values = try op.run(batch: hypotheses.indices.map(input), rngs: &rngs)
                        for (h, rng) in rngs.enumerated() { hypotheses[h].nodes[n].rng = rng }
                        board.values.withLock { v in
                            for h in hypotheses.indices { v[h][n] = values[h] }
                        }
                    }
                    func input(_ h: Int) -> StepInput {
                        StepInput(history: LogitsContext(tokens: hypotheses[h].tokens, promptCount: promptCount),
                                  inputs: board.inputs(of: node, hypothesis: h, previous: hypotheses[h].previous),
                                  models: hypotheses[h].models(of: bindings[n]),
                                  state: hypotheses[h].nodes[n].opState)
                    }
                } catch {
                    var message = "node '\(node.name)' (\(node.op)) at step \(stepIndex): \(error)"
                    if let runtime = error as? RuntimeError, runtime.code == .cacheExhausted, !bindings[n].isEmpty {
                        let models = bindings[n].map { "'\($0.model)'" }.joined(separator: ", ")
                        message += "; raise `kv_cache_mb` on model \(models) or pass --kv-cache-mb"
                    }
                    board.failure.withLock { $0 = $0 ?? EngineError(at: node.location, message) }
                }
                nodeTimes.record(n, since: clock)
                trace?.record(node.name, category: node.op, since: start, arguments: ["hypotheses": tasks[i].hypothesisCount(of: hypotheses.count)])
            }
            if tasks.count == 1 {
                work(0)
            } else if tasks.count > 1 {
                DispatchQueue.concurrentPerform(iterations: tasks.count, execute: work)
            }
            if let error = board.failure.withLock({ $0 }) { throw error }
        }
        return board.values.withLock { $0 }
    }

    /// Keeps a step's values for the previous-step ports of the next: each hypothesis its own
    /// (a search's new hypotheses inherit their parent's when they fork).
    /// - Parameter values: per hypothesis, per node, what `step()` returned.
    mutating func remember(_ values: [[StepValue?]]) {
        guard session.readsPreviousStep else { return }
        for h in hypotheses.indices where h < values.count { hypotheses[h].previous = values[h] }
    }

    /// The first hypothesis's `OutputCloser` nodes, each with its state, in plan order.
    private var closers: [(node: Plan.Node, op: any OutputCloser, state: (any HypothesisState)?)] {
        zip(session.plan.nodes, session.ops).compactMap { node, op in
            guard case .hypothesis(let h) = op, let closer = h as? any OutputCloser else { return nil }
            return (node, closer, hypotheses[0].nodes[node.index].opState)
        }
    }

    /// Runs `body` on one closer, locating its error at the node.
    private func asking<T>(_ closer: (node: Plan.Node, op: any OutputCloser, state: (any HypothesisState)?),
                           _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw EngineError(at: closer.node.location, "node '\(closer.node.name)' (\(closer.node.op)) at the end of the run: \(error)")
        }
    }

    /// Of the first hypothesis's output, the tokens some constraint left no alternative to (the
    /// largest count among its `OutputCloser` nodes).
    /// - Parameter output: the generated tokens.
    /// - Returns: the count (0 without a constraint).
    /// - Throws: `EngineError` at a node whose constraint the output breaks.
    func singleChoiceTokens(output: [Int32]) throws -> Int {
        try closers.map { closer in try asking(closer) { try closer.op.forcedChoices(state: closer.state, output: output) } }.max() ?? 0
    }

    /// The tokens that close the first hypothesis's output under every constraint: each
    /// `OutputCloser` in plan order completes what the ones before it appended.
    /// - Parameter output: the generated tokens.
    /// - Returns: the appended tokens, or nil when there is no constraint or one cannot close it.
    /// - Throws: `EngineError` at a node whose constraint the output breaks.
    func closingTokens(output: [Int32]) throws -> [Int32]? {
        let closers = self.closers
        guard !closers.isEmpty else { return nil }
        var appended: [Int32] = []
        for (i, closer) in closers.enumerated() {
            let more: [Int32]?
            if i == 0 {
                more = try asking(closer) { try closer.op.closingTokens(state: closer.state, output: output) }
            } else {
                // A later constraint may forbid what an earlier one appended: then the output stays cut.
                more = try? closer.op.closingTokens(state: closer.state, output: output + appended)
            }
            guard let more else { return nil }
            appended += more
        }
        return appended
    }

    /// Hands a step's commit to every `CommitObserver` node with its state for the (single)
    /// hypothesis.
    /// - Parameter commit: the step's commit.
    func tellObservers(_ commit: StepCommit, hypothesis: Int = 0) {
        for (n, op) in session.ops.enumerated() {
            guard case .hypothesis(let h) = op, let observer = h as? any CommitObserver else { continue }
            observer.committed(commit, state: hypotheses[hypothesis].nodes[n].opState)
        }
    }

    /// Replaces the frontier after a search step: each new hypothesis forks the one it extends.
    /// - Parameters:
    ///   - parents: for each new hypothesis, the index of the hypothesis it extends.
    ///   - running: the new hypotheses' generated tokens.
    ///   A parent forked into several hypotheses gives the second and later ones random streams of
    ///   their own (drawn from its own), so samples that start alike do not draw alike.
    mutating func advanceFrontier(parents: [Int], running: [[Int32]]) {
        let old = hypotheses
        var children = [Int](repeating: 0, count: old.count)
        hypotheses = zip(parents, running).map { parent, generated in
            let child = old[parent].fork(tokens: prompt + generated)
            defer { children[parent] += 1 }
            if children[parent] > 0 {
                for node in child.nodes {
                    let draw = node.rng.next()
                    node.rng = Xoshiro256StarStar(seed: draw &+ UInt64(children[parent]) &* 0x9E37_79B9_7F4A_7C15)
                }
            }
            return child
        }
    }
}

/// Calls and seconds per node over a run, added to by the concurrent tasks of each stage.
final class NodeTimes: Sendable {
    /// Per node, in plan order.
    let times: Mutex<[(calls: Int, seconds: Double)]>
    init(count: Int) { times = Mutex(Array(repeating: (0, 0), count: count)) }

    /// Adds one call of node `n` that started at `start`.
    func record(_ n: Int, since start: ContinuousClock.Instant) {
        let seconds = (ContinuousClock.now - start).seconds
        times.withLock {
            $0[n].calls += 1
            $0[n].seconds += seconds
        }
    }
}

/// The values of one step, written by the concurrent tasks of each stage and read by later stages.
final class StepBoard: Sendable {
    /// Per hypothesis, per node.
    let values: Mutex<[[StepValue?]]>
    /// The first failure of the stage.
    let failure = Mutex<EngineError?>(nil)
    init(hypotheses: Int, nodes: Int) {
        values = Mutex(Array(repeating: Array(repeating: nil, count: nodes), count: hypotheses))
    }
}

/// One unit of a stage's concurrent work.
enum StageTask: Sendable {
    /// A node for one hypothesis.
    case single(hypothesis: Int, node: Int, op: any HypothesisOperator)
    /// A node for every hypothesis of the frontier at once (`FrontierBatchedOperator`).
    case frontier(node: Int, op: any FrontierBatchedOperator)

    var node: Int {
        switch self {
        case .single(_, let n, _), .frontier(let n, _): n
        }
    }

    func hypothesisCount(of frontier: Int) -> Int {
        if case .frontier = self { return frontier }
        return 1
    }
}

extension StepBoard {
    /// Whether any of these nodes proposed a non-empty tree for the hypothesis in this step.
    func anyProposed(by nodes: [Int], hypothesis h: Int) -> Bool {
        guard !nodes.isEmpty else { return false }
        return values.withLock { v in
            nodes.contains { if case .tree(let tree)? = v[h][$0] { !tree.isEmpty } else { false } }
        }
    }

    /// The values on a node's input ports for one hypothesis: this step's on same-step ports, the
    /// previous step's on previous-step ports (none in the first step).
    func inputs(of node: Plan.Node, hypothesis h: Int, previous: [StepValue?]) -> [String: [StepValue]] {
        values.withLock { v in
            var inputs: [String: [StepValue]] = [:]
            for input in node.inputs {
                switch input.timing {
                case .sameStep: inputs[input.port] = input.sources.compactMap { v[h][$0] }
                case .previousStep: inputs[input.port] = input.sources.compactMap { $0 < previous.count ? previous[$0] : nil }
                }
            }
            return inputs
        }
    }
}
