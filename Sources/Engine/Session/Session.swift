import ChatTemplates
import Dispatch
import Foundation
import Graph
import Kernels
import ModelRuntime
import Operators
import Synchronization
import Tokenization

/// What a caller decides while a run goes on (`Session.run(control:)`), asked before each step:
/// whether to stop there (a server's client that went away, a shutdown past its deadline), and
/// whether this step may draft (a server whose batch alone saturates the machine turns speculation
/// off, as vLLM's `speculative_disable_by_batch_size` does: the propose stage's nodes then give
/// empty trees and the step scores one token, which changes no committed token).
public struct RunControl {
    /// `true` ends the run before the next step.
    public let isCancelled: () -> Bool
    /// `false` skips the next step's drafters.
    public let allowsDrafting: () -> Bool

    /// Wraps the questions.
    public init(isCancelled: @escaping () -> Bool = { false }, allowsDrafting: @escaping () -> Bool = { true }) {
        self.isCancelled = isCancelled
        self.allowsDrafting = allowsDrafting
    }
}

/// Runs a `Plan` on prompts: the step loop of DESIGN.md (propose → filter → score → shape →
/// select → commit) over a frontier of hypotheses.
///
/// Each step runs the plan's stages in order; within a stage every (hypothesis, node) pair is
/// independent and runs concurrently on Dispatch (`concurrentPerform`, whose caller takes part, so
/// nothing waits on queued work). Model calls go through the shared `BatchingForwardService`s,
/// which merge the concurrent calls of beams and of other sessions into one forward pass. The
/// commit applies the output node's selection (one hypothesis) or frontier (a search).
///
/// A session is driven by one thread at a time; it may run many prompts one after another.
public final class Session {
    /// The plan.
    public let plan: Plan
    /// The target model's tokenizer (the model of `targetScoreNode(of:)`), if its directory has one.
    public let tokenizer: Tokenizer?
    /// Reads the target's chat templates (once per process, `ResourceRegistry`), `nil` when it has none.
    let chatTemplates: @Sendable () throws -> ChatTemplateSet?
    /// End-of-sequence tokens (config.json's and the tokenizer's) unless the plan ignores them, plus
    /// the plan's stop token ids.
    public let eosTokens: Set<Int32>
    /// What the run takes from the model rather than the graph: each shaping node's parameters
    /// filled from the target's generation defaults (`GenerationDefaults`), one line per node.
    public let notes: [String]

    enum NodeOp: Sendable {
        case hypothesis(any HypothesisOperator)
        case frontier(any FrontierOperator)
        case ranker(any CandidateRanker)
        /// A judge the nodes naming it call themselves (they bind their own instance): never run
        /// by the step.
        case reward
    }

    /// One model parameter of a node and the handle slot it is bound to.
    struct ModelBinding: Sendable {
        /// The parameter (`model`).
        let parameter: String
        /// The model it names.
        let model: String
        /// Index into `slots`.
        let slot: Int
    }

    let ops: [NodeOp]
    /// Whether the output is a search (a frontier op, or a ranker of one): its runs report
    /// `RunResult.candidates`.
    public var outputIsSearch: Bool { searchNode != nil }
    /// The frontier op: the output, or the search a ranking output orders.
    let searchNode: Int?
    /// Per node, its model parameters' bindings (from its op's spec: every `model` reference).
    let bindings: [[ModelBinding]]
    /// The model handles each hypothesis holds, one KV sequence each. Nodes naming the same model
    /// share one slot — a self-speculative draft then reads the target's cache of the committed
    /// context — unless they run in the same stage, where their calls are concurrent and each
    /// gets its own, or a node reads its model on a context of its own (`hasOwnContext`).
    let slots: [(model: String, service: BatchingForwardService)]
    /// The model the run decodes for: the model of the `score`-family node the output derives
    /// from (`targetScoreNode`). Its tokenizer, vocabulary and end-of-sequence tokens are the
    /// run's, and its full-depth calls are the run's target calls — every call when that node
    /// approximates its model (an early exit or a depth schedule scores each step at the depth it
    /// chooses; its calls are still the steps' scoring, not drafts).
    public let targetModel: String
    /// Whether the target's score node approximates its model (see `targetModel`).
    let targetApproximates: Bool
    /// Whether any node has a previous-step port, so a step's values must outlive it.
    let readsPreviousStep: Bool
    /// Tokens the target's vocabulary holds (prompt ids must be below it).
    public let vocabularySize: Int
    /// Each model entry the plan runs, once: its name, declaration and service (limits and messages).
    let modelUses: [(name: String, location: SourceLocation, service: BatchingForwardService)]
    /// The sessions of the graphs nodes run inside themselves (`draft.graph`), whose models decode
    /// the same context: `admit` holds the run's budget to their caches too.
    let innerSessions: [Session]

    /// Runtime features this engine provides.
    public static let capabilities: Set<RuntimeCapability> = [.tokenTrees, .fork, .rollback, .partialDepth]

    /// Binds a plan to loaded models and builds its nodes.
    /// - Parameters:
    ///   - plan: a compiled plan.
    ///   - resources: where models and tokenizers are loaded and shared.
    /// - Throws: `EngineError` located at the node or model at fault (an unknown op, a model that
    ///   fails to load, vocabularies that differ, an output that is not a selection or frontier).
    public init(plan: Plan, resources: ResourceRegistry = .shared) throws {
        self.plan = plan
        if let missing = plan.capabilities.first(where: { !Self.capabilities.contains($0) }) {
            throw EngineError("the plan needs the runtime capability '\(missing)', which this engine lacks")
        }
        var uses: [(name: String, location: SourceLocation, service: BatchingForwardService)] = []
        var slots: [(model: String, service: BatchingForwardService, stages: Set<Int>, private: Bool)] = []
        var bindings: [[ModelBinding]] = []
        for node in plan.nodes {
            guard let type = OperatorRegistry.operatorType(named: node.op) else {
                throw EngineError(at: node.location, "node '\(node.name)': op '\(node.op)' has no implementation in this engine")
            }
            var nodeBindings: [ModelBinding] = []
            for parameter in type.spec.parameters where parameter.type == .modelRef {
                guard let name = node.reference(parameter.name) else { continue }
                let service: BatchingForwardService
                if let use = uses.first(where: { $0.name == name }) {
                    service = use.service
                } else {
                    guard let entry = plan.models.first(where: { $0.name == name }), let path = entry.path else {
                        throw EngineError(at: node.location, "node '\(node.name)': model '\(name)' has no path")
                    }
                    service = try Self.load(entry, path: path, resources: resources)
                    uses.append((name, entry.location, service))
                }
                let slot: Int
                if !type.hasOwnContext(node), let free = slots.firstIndex(where: { $0.model == name && !$0.stages.contains(node.stage) && !$0.private }) {
                    slot = free
                    slots[free].stages.insert(node.stage)
                } else {
                    slot = slots.count
                    slots.append((name, service, [node.stage], type.hasOwnContext(node)))
                }
                nodeBindings.append(ModelBinding(parameter: parameter.name, model: name, slot: slot))
            }
            bindings.append(nodeBindings)
        }
        self.bindings = bindings
        self.slots = slots.map { ($0.model, $0.service) }
        modelUses = uses
        guard let targetNode = Self.targetScoreNode(of: plan), !bindings[targetNode.index].isEmpty,
              let target = uses.first(where: { $0.name == bindings[targetNode.index][0].model })?.service else {
            throw EngineError(at: plan.nodes.first?.location, "the graph has no 'score' node, so nothing runs the target model")
        }
        let targetModel = bindings[targetNode.index][0].model
        self.targetModel = targetModel
        targetApproximates = plan.approximations.contains { $0.node == targetNode.index }
        readsPreviousStep = plan.nodes.contains { $0.inputs.contains { $0.timing == .previousStep } }
        vocabularySize = target.model.config.vocabularySize
        for (node, nodeBindings) in zip(plan.nodes, bindings) {
            for binding in nodeBindings {
                let size = self.slots[binding.slot].service.model.config.vocabularySize
                if size != vocabularySize {
                    throw EngineError(at: node.location, "node '\(node.name)': its model has a vocabulary of \(size) tokens, the target's has \(vocabularySize)")
                }
            }
        }
        let output = plan.nodes[plan.output]
        guard output.outputType == .selection || output.outputType == .frontier else {
            throw EngineError(at: output.location, "output node '\(output.name)' produces \(output.outputType); a run commits a selection (verify) or a frontier (search)")
        }
        let targetPath = plan.models.first { $0.name == targetModel }?.path
        do {
            tokenizer = try targetPath.flatMap { try resources.tokenizer(at: $0) }
        } catch {
            throw EngineError(at: targetNode.location, "the target's tokenizer cannot be loaded: \(error)")
        }
        let tokenizer = self.tokenizer
        // Read when a chat is first rendered: a template this engine cannot parse must not stop
        // plain-text runs of the model.
        chatTemplates = { [resources] in try targetPath.flatMap { try resources.chatTemplates(at: $0, tokenizer: tokenizer) } }
        if !plan.limits.stop.isEmpty, tokenizer == nil {
            throw EngineError("limits.stop needs the target's tokenizer.json to match text, and its directory has none")
        }
        var eos = Set(plan.limits.stopTokenIDs.map { Int32(clamping: $0) })
        if !plan.limits.ignoreEOS {
            // config.json may list several (Llama 3); the tokenizer's own is added for models whose config omits it.
            eos.formUnion(target.model.config.eosTokenIDs)
            eos.formUnion(target.model.config.generation.eosTokenIDs)
            if let id = tokenizer?.eosTokenID { eos.insert(id) }
        }
        eosTokens = eos
        let generation = target.model.config.generation
        notes = plan.nodes.compactMap { node in
            // Shaping nodes take the model's sampling defaults for what the graph leaves unwritten.
            guard node.family == .shape, let source = generation.source else { return nil }
            let taken = generation.sampling.keys.sorted().filter { !node.written.contains($0) && node.parameters[$0] != nil }
            guard !taken.isEmpty else { return nil }
            let values = taken.map { name in "\(name) \(generation.sampling[name]!)" }.joined(separator: ", ")
            return "\(node.location): note: node '\(node.name)' samples with \(values) from \(source) (write them on the node to override)"
        }

        let environment = SessionEnvironment(plan: plan, resources: resources, tokenizer: tokenizer,
                                             targetPath: targetPath, endOfSequence: eos,
                                             samplingDefaults: target.model.config.generation.sampling,
                                             vocabularySize: vocabularySize)
        var ops: [NodeOp] = []
        for node in plan.nodes {
            let type = OperatorRegistry.operatorType(named: node.op)!
            let instance: any StepOperator
            do {
                instance = try type.init(node: node, environment: environment)
            } catch let error as EngineError {
                throw error
            } catch {
                throw EngineError(at: node.location, "node '\(node.name)': \(error)")
            }
            if let op = instance as? any HypothesisOperator {
                ops.append(.hypothesis(op))
            } else if let op = instance as? any FrontierOperator {
                ops.append(.frontier(op))
            } else if let op = instance as? any CandidateRanker {
                ops.append(.ranker(op))
            } else if instance is any RewardOperator {
                ops.append(.reward)
            } else {
                throw EngineError(at: node.location, "node '\(node.name)': op '\(node.op)' has no step behaviour")
            }
        }
        self.ops = ops
        innerSessions = environment.innerSessions.bound
        // The compiler holds a frontier op to the output or the `from` of a ranking output.
        switch ops[plan.output] {
        case .frontier: searchNode = plan.output
        case .ranker: searchNode = plan.nodes[plan.output].inputs.first?.sources.first
        case .hypothesis, .reward: searchNode = nil
        }
        for (node, op) in zip(plan.nodes, ops) {
            if case .frontier = op, node.index != searchNode {
                throw EngineError(at: node.location, "node '\(node.name)' chooses the frontier, so it must be the graph's output or the 'from' of a rerank output")
            }
            if case .ranker = op, node.index != plan.output {
                throw EngineError(at: node.location, "node '\(node.name)' ranks a search's results, so it must be the graph's output")
            }
        }
        if let searchNode {
            guard case .frontier(let search) = ops[searchNode] else {
                throw EngineError(at: plan.nodes[plan.output].location, "node '\(plan.nodes[plan.output].name)' ranks a search, but its 'from' is not a search.* node")
            }
            if search.reopensHypotheses {
                // The compiler refused these already (the search op's validation); plans built by hand get the same check.
                let node = plan.nodes[searchNode]
                do {
                    try ReopeningSearch.check(plan, search: "'\(node.name)' (\(node.op))", drafts: search.readsDraftedTrees)
                } catch {
                    throw EngineError(at: node.location, "node '\(node.name)': \(error)")
                }
            }
        }
    }

    /// Commit-time effects that need the whole output: stores learn, the dynamic tier remembers,
    /// inner graphs pass it on to their own observers.
    /// - Parameters:
    ///   - prompt: the run's prompt.
    ///   - output: what it emitted.
    /// - Throws: `EngineError` at the node whose effect failed.
    func finishRun(prompt: [Int32], output: [Int32]) throws {
        for (node, op) in zip(plan.nodes, ops) {
            guard case .hypothesis(let hypothesisOp) = op, let observer = hypothesisOp as? any RunObserver else { continue }
            do {
                try observer.runFinished(prompt: prompt, output: output)
            } catch {
                throw EngineError(at: node.location, "node '\(node.name)' (\(node.op)) could not act on the finished run: \(error)")
            }
        }
    }

    /// Each model entry's calls in a run, in the order the plan binds them.
    /// - Parameter usage: the run's counters by model name.
    /// - Returns: one entry per model.
    func modelMetrics(usage: [String: ModelUsage]) -> [RunMetrics.ModelMetrics] {
        modelUses.map { use in
            let counts = usage[use.name] ?? ModelUsage()
            return RunMetrics.ModelMetrics(name: use.name, fullCalls: counts.fullCalls, partialCalls: counts.partialCalls,
                                           layerEquivalents: counts.layerEquivalents)
        }
    }

    /// The run's target calls (see `targetModel`).
    /// - Parameter usage: the run's counters by model name.
    /// - Returns: full-depth calls, and partial ones when the target's score node approximates it.
    func targetCalls(usage: [String: ModelUsage]) -> Int {
        let target = usage[targetModel]
        return (target?.fullCalls ?? 0) + (targetApproximates ? target?.partialCalls ?? 0 : 0)
    }

    /// Orders a finished search's candidates with the ranking output, its models bound to fresh
    /// KV sequences (their calls counted with the run's).
    private func rank(_ candidates: [FrontierCandidate], by ranker: any CandidateRanker, prompt: [Int32],
                      run: RunState) throws -> [FrontierCandidate] {
        let node = plan.nodes[plan.output]
        let clock = ContinuousClock.now
        var models: [String: any TreeScorer] = [:]
        for binding in bindings[plan.output] {
            models[binding.parameter] = ModelSequenceScorer(service: slots[binding.slot].service, usage: run.usage[binding.model] ?? ModelUsage())
        }
        do {
            let ranked = try ranker.rank(prompt: prompt, candidates: candidates, models: models)
            run.nodeTimes.record(plan.output, since: clock)
            return ranked
        } catch {
            throw EngineError(at: node.location, "node '\(node.name)' (\(node.op)): \(error)")
        }
    }

    /// Loads a model entry (once per process: `ResourceRegistry`) with its declared activation
    /// precision and KV cache size.
    private static func load(_ entry: Plan.Resource, path: String, resources: ResourceRegistry) throws -> BatchingForwardService {
        var activations = ActivationPrecision.auto
        if case .string(let text)? = entry.fields["activations"], let mode = ActivationPrecision(rawValue: text) {
            activations = mode
        }
        var cacheMiB = GraphLanguage.defaultKVCacheMiB
        if case .int(let mib)? = entry.fields["kv_cache_mb"] { cacheMiB = mib }
        do {
            return try resources.model(at: path, activations: activations,
                                       kvCacheBytes: cacheMiB.multipliedReportingOverflow(by: 1 << 20).partialValue)
        } catch {
            throw EngineError(at: entry.location, "model '\(entry.name)' cannot be loaded: \(error)")
        }
    }

    /// The prompt's token ids.
    /// - Parameter text: the prompt.
    /// - Returns: its tokens, special tokens added as the tokenizer's post-processor says.
    /// - Throws: `EngineError` when the target has no tokenizer.
    public func encode(_ text: String) throws -> [Int32] {
        guard let tokenizer else { throw EngineError("the target model's directory has no tokenizer.json; give prompt ids instead of text") }
        return tokenizer.encode(text)
    }

    /// Checks a prompt against the limits of the plan's models before anything runs.
    ///
    /// Refused: a prompt whose tokens plus the output budget do not fit a model's KV cache (the
    /// message names the cache, the graph field and the option that raise it). Warned about: a
    /// run that reaches positions past a model's trained context (`max_position_embeddings`),
    /// where RoPE still computes angles but the model never saw them.
    /// - Parameters:
    ///   - promptTokens: the prompt's length in tokens.
    ///   - maxNewTokens: the output budget (the plan's `limits.max_new_tokens` when nil).
    /// - Returns: warnings to show the user.
    /// - Throws: `EngineError` located at the model entry whose limit the run exceeds.
    public func admit(promptTokens: Int, maxNewTokens: Int? = nil) throws -> [String] {
        let budget = maxNewTokens ?? plan.limits.maxNewTokens
        let needed = promptTokens + budget
        var warnings: [String] = []
        for use in modelUses {
            let model = use.service.model
            let capacity = model.cache.tokenCapacity
            if needed > capacity {
                let mib = (needed.multipliedReportingOverflow(by: model.cache.bytesPerToken).partialValue >> 20) + 1
                throw EngineError(at: use.location, "the prompt's \(promptTokens) tokens and up to \(budget) new ones need \(needed) KV-cache slots of model '\(use.name)', whose cache holds \(capacity) (\(Self.cacheMiB(model)) MiB); raise `kv_cache_mb` on the model (at least \(mib)) or pass --kv-cache-mb \(mib)")
            }
            let trained = model.config.maxPositionEmbeddings
            if needed > trained {
                warnings.append("\(use.location): warning: the prompt's \(promptTokens) tokens and up to \(budget) new ones reach position \(needed - 1), past the \(trained) positions model '\(use.name)' was trained on (max_position_embeddings); past it the model meets positions it never saw")
            }
        }
        // An inner graph's context is the outer one plus at most one draft and one inner step,
        // so the outer budget is what its caches must hold first.
        for inner in innerSessions { warnings += try inner.admit(promptTokens: promptTokens, maxNewTokens: budget) }
        return warnings
    }

    static func cacheMiB(_ model: Model) -> Int { model.cache.tokenCapacity * model.cache.bytesPerToken >> 20 }

    /// Runs the plan on a prompt.
    /// - Parameters:
    ///   - prompt: the prompt's token ids (at least one).
    ///   - maxNewTokens: overrides the plan's `limits.max_new_tokens`.
    ///   - seed: seeds every sampling node (each node its own stream, so the schedule never
    ///     changes the output).
    ///   - trace: receives a span per node run and per step.
    ///   - stop: stop strings in place of the plan's `limits.stop` (a server request's `stop`).
    ///   - control: asked before each step: whether to end the run there, with finish reason
    ///     `cancelled` (its drafters and stores told of what was committed as at any other end),
    ///     and whether the step may draft.
    ///   - logProbabilities: when set, every emitted token's log-probability under the target
    ///     (`TokenLogProbability`) with this many alternatives, on the events and the result. Not
    ///     available when the output is a search (its hypotheses' scores are the search's own).
    ///   - onEvent: called after each step that emitted tokens, on the calling thread.
    /// - Returns: the tokens, text, finish reason and metrics.
    /// - Throws: `EngineError` for an invalid prompt or a node that fails (located at the node).
    public func run(prompt: [Int32], maxNewTokens: Int? = nil, seed: UInt64 = 0, trace: TraceRecorder? = nil,
                    stop stopStrings: [String]? = nil, control: RunControl? = nil, logProbabilities top: Int? = nil,
                    onEvent: (SessionEvent) -> Void = { _ in }) throws -> RunResult {
        guard !prompt.isEmpty else { throw EngineError("the prompt is empty; the target needs at least one token to continue") }
        if top != nil, outputIsSearch {
            throw EngineError("log-probabilities are not available when the output is a search: its hypotheses are ranked by the search's own scores")
        }
        let scoreNode = top == nil ? nil : Self.targetScoreNode(of: plan)?.index
        if let bad = prompt.first(where: { $0 < 0 || Int($0) >= vocabularySize }) {
            throw EngineError("prompt token \(bad) is outside the target's vocabulary of \(vocabularySize)")
        }
        let budget = maxNewTokens ?? plan.limits.maxNewTokens
        _ = try admit(promptTokens: prompt.count, maxNewTokens: budget)
        var stop: StopCondition
        do {
            stop = try StopCondition(maxNewTokens: budget, eosTokens: eosTokens, stopStrings: stopStrings ?? plan.limits.stop)
        } catch {
            throw EngineError("\(error)")
        }
        let started = Date()
        var run = try RunState(prompt: prompt, session: self, seed: seed, trace: trace)
        var search: (any FrontierSearch)?
        if let searchNode, case .frontier(let op) = ops[searchNode] {
            do {
                search = try op.start(prompt: prompt, maxNewTokens: budget, eosTokens: eosTokens, seed: seed)
            } catch {
                throw EngineError(at: plan.nodes[searchNode].location, "node '\(plan.nodes[searchNode].name)': \(error)")
            }
            // A search may start from several copies of the prompt (samples that each verify their own
            // drafts): the prompt is fed once first, so the copies share its cache.
            if let running = search?.running, running.count != 1 {
                do {
                    for handle in run.hypotheses[0].handles { try handle.prime(context: prompt) }
                } catch {
                    throw EngineError("the prompt could not be fed before the search's hypotheses fork: \(error)")
                }
                run.advanceFrontier(parents: Array(repeating: 0, count: running.count), running: running)
            }
        }
        var text = TextStream(tokenizer: tokenizer, matchesStopStrings: !(stopStrings ?? plan.limits.stop).isEmpty)
        var emitted: [Int32] = []
        var emittedLogProbabilities: [TokenLogProbability] = []
        var candidates: [FrontierCandidate] = []
        var lattice: SearchLattice?
        var reason: String?
        while reason == nil {
            if let control, control.isCancelled() {
                reason = "cancelled"
                if search == nil { run.metrics.singleChoiceTokens = try run.singleChoiceTokens(output: emitted) }
                let chunk = text.finish()
                onEvent(SessionEvent(step: run.metrics.steps, tokens: [], text: chunk, accepted: 0, proposed: 0,
                                     finishReason: reason, closingTokens: nil))
                break
            }
            let stepStart = trace?.now()
            run.draftingOff = !(control?.allowsDrafting() ?? true)
            let values = try run.step()
            run.remember(values)
            run.metrics.steps += 1
            run.metrics.frontierTokens += values.count
            run.metrics.widestFrontier = max(run.metrics.widestFrontier, values.count)
            var committed: [Int32] = []
            var selected: Verdict?
            if var current = search, let searchNode {
                // A frontier op reads one input: each running hypothesis's value on it.
                let node = plan.nodes[searchNode]
                let from = node.inputs[0].sources[0]
                let parents: [Int]
                let clock = ContinuousClock.now
                let spanStart = trace?.now() ?? 0
                // Hypotheses that verified drafts: their drafters learn from their own commit.
                for (h, value) in values.enumerated() {
                    guard case .selection(let verdict)? = value[from] else { continue }
                    run.metrics.recordAcceptance(depth: verdict.tree.depth, accepted: verdict.acceptedTokens.count)
                    run.tellObservers(StepCommit(tree: verdict.tree, acceptedNodes: verdict.acceptedNodes, tokens: verdict.tokens), hypothesis: h)
                }
                do {
                    parents = try current.advance(values.map { $0[from]! })
                    run.nodeTimes.record(searchNode, since: clock)
                    trace?.record(node.name, category: node.op, since: spanStart, arguments: ["hypotheses": values.count])
                } catch {
                    throw EngineError(at: node.location, "node '\(node.name)' at step \(run.metrics.steps - 1): \(error)")
                }
                search = current
                if current.isDone {
                    committed = current.best ?? []
                    candidates = current.candidates
                    lattice = current.lattice
                    if case .ranker(let ranker) = ops[plan.output] {
                        candidates = try rank(candidates, by: ranker, prompt: prompt, run: run)
                        committed = candidates.first?.tokens ?? committed
                    }
                    reason = "search"
                } else {
                    let origins = run.hypotheses.map(\.tokens)
                    run.advanceFrontier(parents: parents, running: current.running)
                    // A search that stepped through its hypotheses' scored trees (drafted beams):
                    // each new hypothesis's drafters learn which of their nodes it took.
                    for (h, parent) in parents.enumerated() {
                        guard case .scores(let tree, _)? = values[parent][from], !tree.isEmpty,
                              run.hypotheses[h].tokens.starts(with: origins[parent]) else { continue }
                        let added = Array(run.hypotheses[h].tokens[origins[parent].count...])
                        let path = tree.path(following: added)
                        run.metrics.recordAcceptance(depth: tree.depth, accepted: path.count)
                        run.tellObservers(StepCommit(tree: tree, acceptedNodes: path, tokens: added), hypothesis: h)
                    }
                }
            } else {
                guard case .selection(let verdict)? = values[0][plan.output] else {
                    throw EngineError(at: plan.nodes[plan.output].location, "output node produced no selection")
                }
                committed = verdict.tokens
                run.metrics.recordAcceptance(depth: verdict.tree.depth, accepted: verdict.acceptedTokens.count)
                selected = verdict
            }
            let outcome = stop.commit(committed) { tokenizer?.tokenBytes($0) ?? [] }
            var kept = Array(committed.prefix(outcome.keptTokens))
            // Only the kept tokens' entries: a stop string may cut the step's commit.
            var stepLogProbabilities: [TokenLogProbability]?
            if let top, let scoreNode {
                stepLogProbabilities = try logProbabilities(of: kept, in: values[0][scoreNode], top: top)
            }
            var keptBytes = outcome.text
            if search == nil { run.hypotheses[0].tokens += kept }
            emitted += kept
            if let selected {
                run.tellObservers(StepCommit(tree: selected.tree, acceptedNodes: selected.acceptedNodes, tokens: kept))
            }
            if let r = outcome.reason {
                switch r {
                case .endOfSequence: reason = "eos"
                case .maxTokens: reason = reason ?? "max_tokens"
                case .stopString: reason = "stop"
                }
            }
            if reason != nil, search == nil {
                run.metrics.singleChoiceTokens = try run.singleChoiceTokens(output: emitted)
            }
            // The budget cut the output before a constraint was complete: close it.
            if reason == "max_tokens", search == nil, let closing = try run.closingTokens(output: emitted), !closing.isEmpty {
                // The constraint chose these without the target scoring them: the target reads them now.
                if let top {
                    let rows = try fullDepthRows(of: closing, after: prompt + emitted)
                    stepLogProbabilities = (stepLogProbabilities ?? []) + (try zip(closing, rows).map { try TokenLogProbability.reading($0, logits: $1, top: top) })
                }
                run.hypotheses[0].tokens += closing
                emitted += closing
                kept += closing
                for token in closing { keptBytes += tokenizer?.tokenBytes(token) ?? [] }
                run.metrics.closingTokens = closing.count
                reason = "closed"
            }
            var chunk = text.append(kept, bytes: keptBytes)
            if reason != nil { chunk += text.finish() }
            if let stepStart { trace?.record("step \(run.metrics.steps - 1)", category: "step", since: stepStart, arguments: ["tokens": kept.count]) }
            emittedLogProbabilities += stepLogProbabilities ?? []
            if !kept.isEmpty || reason != nil {
                onEvent(SessionEvent(step: run.metrics.steps - 1, tokens: kept, text: chunk, accepted: selected?.acceptedTokens.count ?? 0,
                                     proposed: selected?.tree.count ?? 0, finishReason: reason,
                                     closingTokens: reason == "closed" ? run.metrics.closingTokens : nil,
                                     logProbabilities: stepLogProbabilities))
            }
        }
        try finishRun(prompt: prompt, output: emitted)
        var metrics = run.metrics
        metrics.tokens = emitted.count
        metrics.models = modelMetrics(usage: run.usage)
        metrics.targetCalls = targetCalls(usage: run.usage)
        // Graphs run inside nodes (`draft.graph`): their models' calls and their own MAT.
        for (node, state) in zip(plan.nodes, run.hypotheses[0].nodes) {
            guard let holder = state.opState as? any InnerGraphHolding, let inner = holder.innerRun as? InnerGraphRunState else { continue }
            let (models, innerRun) = inner.metrics(node: node.name)
            metrics.models += models
            metrics.innerRuns.append(innerRun)
        }
        metrics.seconds = Date().timeIntervalSince(started)
        metrics.nodes = zip(plan.nodes, run.nodeTimes.times.withLock { $0 }).map {
            RunMetrics.NodeMetrics(name: $0.name, op: $0.op, calls: $1.calls, seconds: $1.seconds)
        }
        return RunResult(tokens: emitted, text: text.all, finishReason: reason ?? "max_tokens", metrics: metrics, candidates: candidates, lattice: lattice,
                         logProbabilities: top == nil ? nil : emittedLogProbabilities)
    }
}
