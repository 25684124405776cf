import Constraints
import Graph

/// `search.beam`: plain beam search with transformers' semantics (length penalty, EOS handling,
/// early stopping). See `BeamSearch`.
public struct BeamSearchOp: FrontierOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "search.beam", family: .select,
        doc: "Beam search as transformers runs it: every beam extended by every token, the best width kept, finished hypotheses scored logprob / length^length_penalty.",
        parameters: [width.spec, lengthPenalty.spec, earlyStopping.spec, repetitionPenalty.spec],
        inputs: [PortSpec("from", .scores, doc: "Each running beam's next-token logits (a root-only score).")],
        output: OutputSpec(.frontier, doc: "The next beams."),
        needs: [CapabilityRule(.fork)],
        validate: OpValidation.checks { node, _ in _ = try BeamSearchOp.shaping(node) })

    static let width = OpParameter<Int>("width", default: 4, range: .closed(1, 64), doc: "Beams kept per step (transformers' num_beams).")
    static let lengthPenalty = OpParameter<Double>("length_penalty", default: 1, range: .closed(-10, 10),
                                                   doc: "Exponent of the generated length dividing finished scores (transformers' default 1; > 0 favours longer outputs).")
    static let earlyStopping = OpParameter<BeamSearch.EarlyStopping>("early_stopping", default: .heuristic,
                                                                     doc: "transformers' early_stopping: true stops when width hypotheses are finished, false uses its heuristic, never the canonical rule.")
    static let repetitionPenalty = SamplingParameters.repetitionPenalty.documented(
        "CTRL repetition penalty applied to each beam's log-probabilities, as transformers does; 1 is off.")

    let width: Int
    let lengthPenalty: Double
    let earlyStopping: BeamSearch.EarlyStopping
    let shaping: LogitsPipeline?

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the op binds no shared resource).
    /// - Throws: `OperatorError.invalidParameter` for settings out of range.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        width = try node[Self.width]
        lengthPenalty = try node[Self.lengthPenalty]
        earlyStopping = try node[Self.earlyStopping]
        shaping = try Self.shaping(node)
    }

    /// The node's shaping of each beam's log-probabilities, `nil` when none is on (its validation
    /// when the graph is compiled).
    static func shaping(_ node: Plan.Node) throws -> LogitsPipeline? {
        let penalty = try node[repetitionPenalty]
        guard penalty != 1 else { return nil }
        var settings = SamplingSettings.greedy
        settings.repetitionPenalty = penalty
        return try LogitsPipeline(settings)
    }

    /// Starts a search from the prompt.
    /// - Parameters:
    ///   - prompt: the prompt.
    ///   - maxNewTokens: the run's budget.
    ///   - eosTokens: tokens finishing a hypothesis.
    /// - Returns: the search.
    /// - Throws: `OperatorError.invalidParameter` for settings out of range.
    public func start(prompt: [Int32], maxNewTokens: Int, eosTokens: Set<Int32>) throws -> any FrontierSearch {
        let search = try BeamSearch(numBeams: width, lengthPenalty: lengthPenalty, earlyStopping: earlyStopping,
                                    maxNewTokens: maxNewTokens, eosTokens: eosTokens, shaping: shaping)
        return Search(search: search, state: search.start(prompt: prompt))
    }

    struct Search: FrontierSearch {
        let search: BeamSearch
        var state: BeamSearch.State

        var running: [[Int32]] { state.running }
        var isDone: Bool { state.isDone }
        var best: [Int32]? { state.finished.first?.tokens ?? state.running.first }

        mutating func advance(_ inputs: [StepValue]) throws -> [Int] {
            let rows: [[Float]] = try inputs.map {
                guard case .scores(let tree, let logits) = $0, var root = logits.first else { throw StepInput.wrongKind("from", "scores") }
                // A constrain.* node before `score`: its root mask applies to the beam's candidates.
                if let mask = tree.allowedNext?.first, let mask { mask.forbidOthers(in: &root) }
                return root
            }
            let before = state.running
            try search.step(&state, logits: rows)
            // Each surviving beam extends exactly one earlier beam by one token: find it by prefix.
            return state.running.map { beam in
                before.firstIndex { $0.count + 1 == beam.count && beam.starts(with: $0) } ?? 0
            }
        }
    }
}

/// `early_stopping:` names a rule by transformers' value (`true`, `false`, `never`).
extension BeamSearch.EarlyStopping: ParameterEnumeration {}
