import Graph
import ModelRuntime

/// `draft.model`: a chain of up to `tokens` tokens from a draft model, each with the distribution it
/// was drawn from (Leviathan et al. 2023; Chen et al. 2023). See `ModelDrafter`.
public struct DraftModelOp: FrontierBatchedOperator, CommitObserver {
    /// The declaration.
    public static let spec = OpSpec(
        "draft.model", family: .propose,
        doc: "A chain of up to `tokens` tokens from a draft model (Leviathan et al. 2023, Chen et al. 2023), or with `nodes` a tree chosen each step (OPT-Tree); sampled tokens carry their draft distributions, greedy ones are deterministic.",
        parameters: [model.spec, tokens.spec, minProbability.spec, layers.spec, skipLayers.spec, skipRatio.spec, searchSteps.spec,
                     searchWindow.spec, bayesInterval.spec, skipSearch.spec, searchEvery.spec, treeNodes.spec, acceptance.spec, expand.spec, expandBelow.spec] + DraftLength.parameters + DraftStopping.parameters + sampling.specs,
        output: OutputSpec(.tokenTree, provides: [
            PropertyRule(.draftProbabilities, when: .greaterThan(sampling.temperature.name, 0)),
            PropertyRule(.deterministic, when: .equals(sampling.temperature.name, .float(0))),
            PropertyRule(.exactDraft),
        ], doc: "A chain of proposed tokens, or a tree with `nodes`."),
        needs: [CapabilityRule(.rollback)],
        validate: OpValidation.checks { node, _ in _ = try DraftModelOp.drafter(node) })

    static let model = OpParameter<String>("model", .modelRef, doc: "The draft model (same vocabulary as the target).")
    static let tokens = OpParameter<Int>("tokens", default: 4, range: .closed(1, 64),
                                         doc: "Most tokens proposed per step; 4–5 is where Leviathan et al. (2023) measure the best speedups for small drafters.")
    static let minProbability = OpParameter<Float>("min_prob", default: 0, range: .closed(0, 1),
                                                   doc: "Stop drafting before a position whose most likely token is below this probability (0 = never); looks at the distribution, never the drawn token, so sampling stays exact.")
    static let layers = OpParameter<Int?>("layers", range: .atLeast(1),
                                          doc: "Draft from the model's first `layers` layers and its final norm and LM head (LayerSkip, Elhoushi et al. 2024; Kangaroo's shallow sub-network, Liu et al. 2024): with the target as `model`, self-speculation without a second model, reading the target's KV cache of the committed context. Absent: every layer.")
    static let skipLayers = OpParameter<[Int]?>("skip_layers", range: .atLeast(0),
                                                doc: "Draft with these layers skipped (Draft & Verify, Zhang et al. 2024; SWIFT's skip sets, Xia et al. 2025): each is the identity on the residual stream. Absent: none.")
    static let skipRatio = OpParameter<Double?>("skip_ratio", range: .open(0, 1),
                                                doc: "Draft with this share of the model's layers skipped, the set searched during the run (`skip_search`: SWIFT by default, each search step scoring the current set and a neighbour by how many of the last `search_window` committed tokens they predict greedily and keeping the better; or CLaSp). Absent: no search.")
    static let searchSteps = OpParameter<Int>("search_steps", default: 32, range: .closed(0, 100_000),
                                              doc: "Search steps before the skip set is fixed (a SWIFT step costs two partial passes over `search_window` tokens); SWIFT searches during the first steps of a generation, CLaSp all along (give it a large number).")
    static let searchWindow = OpParameter<Int>("search_window", default: 32, range: .closed(1, 4096),
                                               doc: "Committed tokens each candidate skip set is scored on.")
    static let treeNodes = OpParameter<Int?>("nodes", range: .closed(1, 512),
                                             doc: "Draft a tree of at most this many nodes instead of a chain (OPT-Tree, Wang et al. 2024): each step the tree of largest expected accepted length — the sum over nodes of the product of draft probabilities on the path — up to `tokens` deep, one draft pass per layer. Greedy drafting only (temperature 0). Absent: a chain.")
    static let skipSearch = OpParameter<SkipSetSearch.Method>("skip_search", default: .swift,
                                                              doc: "How `skip_ratio`'s set is searched: `swift` (Xia et al. 2025) scores the current set and a candidate on recent committed text and keeps the better, for `search_steps` steps; `clasp` (Chen et al. 2025) re-chooses it by dynamic programming over the layers, the last committed token's full-model states as the objective, about one pass of (skipped + 1) rows each time.")
    static let searchEvery = OpParameter<Int>("search_every", default: 1, range: .closed(1, 100_000),
                                              doc: "A search step every this many drafting steps (SWIFT's reference searches every step; CLaSp's sparse persistence keeps a set for several).")
    static let bayesInterval = OpParameter<Int>("bayes_interval", default: 4, range: .closed(0, 100_000),
                                                doc: "Every this many search steps the candidate is SWIFT's Bayesian proposal (a Gaussian process over the sets scored so far, upper confidence bound) instead of a random neighbour; 0 never. The reference alternates every 25 of up to 1000 steps; a CPU run searches far fewer.")
    /// Greedy by default: a greedy draft is deterministic, so either verifier accepts it without q.
    static let sampling = SamplingParameters(temperatureDefault: 0, penalties: false)

    let drafter: ModelDrafter
    static let acceptance = OpParameter<[Double]?>("acceptance", range: .closed(0, 1),
                                                   doc: "With `nodes`, Sequoia's static tree (Chen et al. 2024) instead of OPT-Tree's: q_k, the share of positions where the target's token is the draft's k-th most probable (k = 1, 2, …; they sum to at most 1), as `decograph bench acceptance` measures it. The tree of `nodes` nodes with the largest Σ over nodes of ∏ q along the path, the same every step; the draft model fills in each node's ranked children.")

    static let expand = OpParameter<Int>("expand", default: 0, range: .closed(0, 16),
                                         doc: "Confidence-aware proposal expansion (CaPE, Du et al. 2024, \"GliDe with a CaPE\"): at a position whose chosen token has less than `expand_below` probability, also propose the next `expand` most probable tokens there, as leaves verified in the same pass; the chain continues from the chosen token, so no draft pass is added. Greedy drafting only. 0: a plain chain.")
    static let expandBelow = OpParameter<Float>("expand_below", default: 0.5, range: .closed(0, 1),
                                                doc: "The confidence under which `expand` adds siblings; at 0.5 the chosen token is as likely wrong as right.")

    /// The tree a step drafts (`nodes`), `nil` for a chain.
    let shape: DraftTreeShape?
    /// The layers drafts run (`layers`, `skip_layers` or a searched set).
    let depth: DraftDepth
    /// How many tokens to propose each step.
    let length: DraftLength

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` for settings out of range.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        drafter = try Self.drafter(node)
        shape = try Self.shape(node)
        depth = try Self.depth(node)
        length = try DraftLength.of(node, tokens: node[Self.tokens])
    }

    /// The model a node drafts with and the layers it runs, for reading the draft outside a run
    /// (`decograph bench acceptance`).
    /// - Parameters:
    ///   - node: a `draft.model` node.
    ///   - layerCount: the named model's layer count.
    /// - Returns: the model's name and the layers (`nil`: every layer).
    /// - Throws: `OperatorError.invalidParameter` for a skip set searched during the run (no fixed
    ///   layers to read) or layers the model lacks.
    public static func drafting(_ node: Plan.Node, layerCount: (String) throws -> Int) throws -> (model: String, layers: LayerSelection?) {
        let name = try node[model]
        switch try depth(node) {
        case .all: return (name, nil)
        case .first(let n): return (name, try LayerSelection(depth: n, of: layerCount(name)))
        case .skipping(let set): return (name, try LayerSelection(skipping: set, of: layerCount(name)))
        case .searched: throw OperatorError(.invalidParameter, at: skipRatio.name, "the skip set is searched during the run; give a fixed `layers` or `skip_layers` to read the draft outside it")
        }
    }

    /// The node's drafter (its validation when the graph is compiled).
    static func drafter(_ node: Plan.Node) throws -> ModelDrafter {
        _ = try depth(node)
        _ = try shape(node)
        var drafter = try ModelDrafter(tokens: node[tokens], minProbability: node[minProbability],
                                       settings: sampling.settings(of: node), source: node.name)
        drafter.stopping = try DraftStopping.of(node)
        let siblings = try node[expand]
        if siblings > 0 {
            guard try sampling.settings(of: node).isGreedy else {
                throw OperatorError(.invalidParameter, at: expand.name, "siblings are the most probable alternatives, which only greedy drafting (temperature: 0) proposes; sampled drafts would need multi-draft verification")
            }
            guard try node[treeNodes] == nil else {
                throw OperatorError(.invalidParameter, at: expand.name, "a tree with `nodes` already proposes alternatives; give one of `nodes` and `expand`")
            }
        }
        drafter.expansion = (siblings, try node[expandBelow])
        return drafter
    }

    /// The node's tree shape (`nodes`), which needs greedy drafting: a sampled tree would need
    /// multi-draft verification of its siblings.
    static func shape(_ node: Plan.Node) throws -> DraftTreeShape? {
        let q = try node[acceptance]
        guard let budget = try node[treeNodes] else {
            if q != nil { throw OperatorError(.invalidParameter, at: acceptance.name, "shapes a tree: give `nodes` too") }
            return nil
        }
        if let q {
            guard !q.isEmpty, q.reduce(0, +) <= 1 + 1e-9 else {
                throw OperatorError(.invalidParameter, at: acceptance.name, "must list at least one share, summing to at most 1 (each is the chance of a different rank), got \(q.reduce(0, +))")
            }
        }
        guard try sampling.settings(of: node).isGreedy else {
            throw OperatorError(.invalidParameter, at: treeNodes.name, "a drafted tree needs greedy drafting (temperature: 0): its siblings are the most probable tokens, not draws")
        }
        return DraftTreeShape(budget: budget, depth: try node[tokens], rowCost: try node[DraftLength.rowCost], acceptance: q)
    }

    /// The node's layer choice: `layers`, `skip_layers` and `skip_ratio` exclude each other.
    static func depth(_ node: Plan.Node) throws -> DraftDepth {
        let ratio: Double? = try node[skipRatio]
        var search: SkipSetSearch?
        if let ratio { search = try SkipSetSearch(ratio: ratio, steps: node[searchSteps], window: node[searchWindow], bayesInterval: node[bayesInterval],
                                                 method: node[skipSearch], every: node[searchEvery]) }
        let first: Int? = try node[layers]
        let skipped: [Int]? = try node[skipLayers]
        switch (DraftDepth.fixed(first: first, skipping: skipped), search) {
        case (let fixed?, nil): return fixed
        case (.all?, let search?) where first == nil && skipped == nil: return .searched(search)
        default:
            throw OperatorError(.invalidParameter, at: ratio == nil ? skipLayers.name : skipRatio.name,
                                "give one of `layers` (the first n), `skip_layers` or `skip_ratio` (a searched set)")
        }
    }

    /// A hypothesis's adaptive state: its draft length and its skip-set search.
    final class State: HypothesisState, @unchecked Sendable {
        let length: DraftLength.State
        let search: SkipSetSearch.State
        init(length: DraftLength.State, search: SkipSetSearch.State) {
            self.length = length
            self.search = search
        }
        func fork() -> any HypothesisState {
            State(length: length.fork() as! DraftLength.State, search: search.fork() as! SkipSetSearch.State)
        }
    }

    /// A fresh hypothesis's length and search.
    /// - Returns: the state.
    public func makeState() throws -> (any HypothesisState)? { State(length: length.makeState(), search: SkipSetSearch.State()) }
    /// It keeps per-hypothesis state.
    public static var keepsHypothesisState: Bool { true }

    /// Moves the draft length after a commit (`schedule: heuristic`).
    /// - Parameters:
    ///   - commit: the step's commit.
    ///   - state: the hypothesis's state.
    public func committed(_ commit: StepCommit, state: (any HypothesisState)?) {
        length.update(commit, source: drafter.source, state: (state as? State)?.length)
    }

    /// Drafts a chain after the history with the bound draft model.
    /// - Parameters:
    ///   - input: the history and the draft model.
    ///   - rng: the node's generator.
    /// - Returns: `.tree`.
    /// - Throws: the model's error, or `OperatorError`.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let model = try input.model(Self.model.name)
        let state = input.state as? State
        let layers = try depth.selection(of: model, search: state?.search)
        let tree = try shape.map { try drafter.draftTree(model: model, context: input.history, layers: layers, shape: $0) }
            ?? drafter.draft(model: model, context: input.history, layers: layers, limit: state?.length.length, using: &rng)
        // SWIFT: after drafting (the target's last tree is settled by now), one search step on the
        // committed text picks the set the next step drafts with.
        if case .searched(let search) = depth, let state, let scorer = model as? ModelSequenceScorer {
            try search.step(state.search, scorer: scorer, context: input.history.tokens, using: &rng)
        }
        return .tree(tree)
    }

    /// Drafts every hypothesis's chain in lockstep, one draft-model pass per position for all of
    /// them (a search's samples); a searched layer set (SWIFT), which differs per hypothesis, or a
    /// model without a KV cache of its own drafts one hypothesis at a time.
    /// - Parameters:
    ///   - inputs: each hypothesis's history and draft model.
    ///   - rngs: each hypothesis's generator.
    /// - Returns: `.tree` per hypothesis.
    /// - Throws: the model's error, or `OperatorError`.
    public func run(batch inputs: [StepInput], rngs: inout [Xoshiro256StarStar]) throws -> [StepValue] {
        let models = try inputs.map { try $0.model(Self.model.name) as? ModelSequenceScorer }
        if case .searched = depth { return try runEach(inputs, rngs: &rngs) }
        if shape != nil { return try runEach(inputs, rngs: &rngs) }
        let scorers = models.compactMap { $0 }
        guard scorers.count == inputs.count, let first = scorers.first,
              scorers.allSatisfy({ $0.service.model === first.service.model }) else { return try runEach(inputs, rngs: &rngs) }
        let trees = try drafter.draftTogether(models: scorers, contexts: inputs.map(\.history), layers: try depth.selection(of: first),
                                              limits: inputs.map { ($0.state as? State)?.length.length }, using: &rngs)
        return trees.map { .tree($0) }
    }

    /// One hypothesis at a time.
    private func runEach(_ inputs: [StepInput], rngs: inout [Xoshiro256StarStar]) throws -> [StepValue] {
        try inputs.indices.map { try run(inputs[$0], rng: &rngs[$0]) }
    }
}

/// Which layers of its model a drafter runs.
enum DraftDepth: Sendable, Equatable {
    /// Every layer.
    case all
    /// The first `n`.
    case first(Int)
    /// All but these.
    case skipping(Set<Int>)
    /// All but a set searched during the run.
    case searched(SkipSetSearch)

    /// A fixed choice from a node's `layers` (the first n) and `skip_layers` parameters, which
    /// exclude each other: `nil` when both are given.
    static func fixed(first: Int?, skipping skipped: [Int]?) -> DraftDepth? {
        switch (first, skipped) {
        case (nil, nil): .all
        case (let n?, nil): .first(n)
        case (nil, let set?): set.isEmpty ? .all : .skipping(Set(set))
        default: nil
        }
    }

    /// The selection for a model, checked against its layer count (known once the model is bound).
    /// - Parameters:
    ///   - model: the bound model.
    ///   - search: the hypothesis's search state (a searched set starts from its initial set).
    ///   - name: the parameter errors are located at, when the node's is not `draft.model`'s
    ///     (`layers`, `skip_layers`, `skip_ratio`).
    /// - Returns: the layers to run; `nil` for every layer.
    /// - Throws: `OperatorError.invalidParameter` at the parameter when the model has fewer
    ///   layers, or no layers to select.
    func selection(of model: any TreeScorer, search: SkipSetSearch.State? = nil, at name: String? = nil) throws -> LayerSelection? {
        if self == .all { return nil }
        let own: String = switch self {
        case .first: DraftModelOp.layers.name
        case .searched: DraftModelOp.skipRatio.name
        default: DraftModelOp.skipLayers.name
        }
        let parameter = name ?? own
        guard let total = model.layerCount else {
            throw OperatorError(.invalidParameter, at: parameter, "the model has no layers to select")
        }
        do {
            switch self {
            case .all: return nil
            case .first(let n): return try LayerSelection(depth: n, of: total)
            case .skipping(let set): return try LayerSelection(skipping: set, of: total)
            case .searched(let policy):
                let set = search?.skipped ?? policy.initialSet(layers: total)
                search?.skipped = set
                return try LayerSelection(skipping: set, of: total)
            }
        } catch let error as RuntimeError {
            throw OperatorError(.invalidParameter, at: parameter, "\(error.message) (the model has \(total) layers)")
        }
    }
}
