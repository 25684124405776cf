import Graph

/// `search.foresight`: φ-Decoding (Xu et al. 2025). See `ForesightSearch`.
public struct ForesightSearchOp: FrontierOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "search.foresight", family: .select,
        doc: "φ-Decoding: the output is built a step (a line) at a time; each step samples candidates side by side, prunes those below the mean less one standard deviation, rolls each survivor out foresight_steps more steps greedily (foresight), clusters them, and draws the step with weight softmax(advantage / temperature) + cluster share; once one cluster holds consensus of the candidates, the rest is decoded greedily.",
        parameters: [candidates.spec, beams.spec, clusters.spec, consensus.spec, temperature.spec, prune.spec, foresightSteps.spec, stepEnd.spec, maxStepTokens.spec],
        inputs: [PortSpec("from", .distribution, doc: "Each hypothesis's next-token distribution (a sample node over a root-only score).")],
        output: OutputSpec(.frontier, doc: "The candidates in flight."),
        needs: [CapabilityRule(.fork)],
        validate: OpValidation.checks { node, plan in try ReopeningSearch.check(plan, search: "'\(node.name)' (search.foresight)") })

    static let candidates = OpParameter<Int>("candidates", default: 4, range: .closed(1, 64), doc: "Candidate steps sampled per beam per step (the rollout width; the reference's num_rollout).")
    static let beams = OpParameter<Int>("beams", default: 1, range: .closed(1, 16), doc: "Step beams kept between steps (the reference's step_beam_size, 4 on its GPUs): each samples `candidates` steps, and this many are drawn from all of them without replacement. Each beam's candidates are rows of the same pass, so on a CPU the default keeps one.")
    static let clusters = OpParameter<Int>("clusters", default: 2, range: .closed(1, 64), doc: "Clusters of the candidates' step + foresight (k-means on bag-of-token vectors).")
    static let consensus = OpParameter<Double>("consensus", default: 0.75, range: .closed(0, 1),
                                               doc: "When one cluster holds this share of the candidates, exploration stops and the rest is greedy (in-depth pruning); 1 keeps exploring unless all agree.")
    static let temperature = OpParameter<Double>("temperature", default: 0.6, range: .closed(0.001, 1000), doc: "Temperature of the advantage's softmax.")
    static let prune = OpParameter<Bool>("prune", default: true, doc: "In-width pruning: drop candidates whose mean log-probability is below the mean less one standard deviation before their foresight.")
    static let foresightSteps = OpParameter<Int>("foresight_steps", default: 1, range: .closed(1, 64), doc: "Steps each surviving candidate is rolled out greedily (its foresight) before the step is drawn.")
    static let stepEnd = OpParameter<String>("step_end", default: "\n", doc: "A step ends after a token whose text contains this (a line break by default).")
    static let maxStepTokens = OpParameter<Int>("max_step_tokens", default: 48, range: .closed(1, 4096), doc: "A step also ends after this many tokens.")

    let settings: (candidates: Int, beams: Int, clusters: Int, consensus: Double, temperature: Double, prune: Bool, foresightSteps: Int, maxStepTokens: Int)
    let stepEnds: Set<Int32>

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: the target's tokenizer (which tokens end a step).
    /// - Throws: `OperatorError.invalidParameter` for settings out of range.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        settings = (try node[Self.candidates], try node[Self.beams], try node[Self.clusters], try node[Self.consensus], try node[Self.temperature],
                    try node[Self.prune], try node[Self.foresightSteps], try node[Self.maxStepTokens])
        let end = Array(try node[Self.stepEnd].utf8)
        guard !end.isEmpty else { throw OperatorError(.invalidParameter, at: Self.stepEnd.name, "must not be empty") }
        if let tokenizer = environment.tokenizer {
            stepEnds = Set((0 ..< Int32(tokenizer.vocabularySize)).filter { id in
                let bytes = tokenizer.tokenBytes(id)
                return bytes.count >= end.count && (0 ... bytes.count - end.count).contains { Array(bytes[$0 ..< $0 + end.count]) == end }
            })
        } else {
            stepEnds = []
        }
    }

    /// Steps restart from the committed output, a prefix of the candidates in flight.
    public var reopensHypotheses: Bool { true }

    /// Starts a search from the prompt.
    public func start(prompt: [Int32], maxNewTokens: Int, eosTokens: Set<Int32>, seed: UInt64) throws -> any FrontierSearch {
        let search = try ForesightSearch(candidates: settings.candidates, beams: settings.beams, clusters: settings.clusters, consensus: settings.consensus,
                                         temperature: settings.temperature, prune: settings.prune, foresightSteps: settings.foresightSteps,
                                         maxStepTokens: settings.maxStepTokens,
                                         stepEnds: stepEnds, maxNewTokens: maxNewTokens, eosTokens: eosTokens)
        return Search(search: search, state: search.start(seed: seed))
    }

    struct Search: FrontierSearch {
        let search: ForesightSearch
        var state: ForesightSearch.State

        var running: [[Int32]] { state.running }
        var isDone: Bool { state.isDone }
        var best: [Int32]? { state.committed }
        /// The beams, best first: the output's mean log-probability for one beam (as before beams
        /// existed), the value of their last chosen step for several.
        var candidates: [FrontierCandidate] {
            guard state.isDone else { return [] }
            return state.beams.map { beam in
                let sum = Float(beam.logProbability)
                let score = state.beams.count == 1 ? sum / Float(max(1, beam.tokens.count)) : Float(beam.value)
                return FrontierCandidate(tokens: beam.tokens, score: score, logProbability: sum)
            }
        }

        mutating func advance(_ inputs: [StepValue]) throws -> [Int] {
            let rows: [[Float]] = try inputs.map {
                guard case .distributions(_, let rows, _) = $0, let root = rows.first else { throw StepInput.wrongKind("from", "distribution") }
                return root
            }
            return try search.step(&state, rows: rows)
        }
    }
}
