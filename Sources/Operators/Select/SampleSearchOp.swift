import Constraints
import Foundation
import Graph

/// `search.sample`: N independent samples decoded side by side, every step's samples scored in one
/// batched forward pass. `finish: first` is First Finish Search (Agarwal et al. 2025, "First Finish
/// Search: Efficient Test-Time Scaling in Large Language Models"): the search ends as soon as one
/// sample ends with EOS, and that sample is the answer. `finish: all` is best-of-N: each sample runs
/// to its own end (EOS or the budget; a finished sample leaves the frontier, so the pass shrinks)
/// and the one with the highest mean log-probability wins. See `SampleSearch`.
public struct SampleSearchOp: FrontierOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "search.sample", family: .select,
        doc: "N samples decoded side by side in batched passes, each drawing from its own hypothesis's distribution with its own seed stream; finish: first ends at the first sample to reach EOS (First Finish Search), finish: all runs every sample to its end and keeps the highest mean log-probability (best-of-N). Every finished sample is a candidate (run --n-best).",
        parameters: [samples.spec, finish.spec],
        inputs: [PortSpec("from", .distribution, optional: true, doc: "Each running sample's next-token distribution (a sample node over a root-only score): the search draws one token per sample per step."),
                 PortSpec("steps", .selection, optional: true, doc: "Instead of from: each sample's verified step (a verify node after drafts), one or more tokens per sample per step — speculative sampling inside every sample.")],
        output: OutputSpec(.frontier, doc: "The running samples."),
        needs: [CapabilityRule(.fork)],
        validate: OpValidation.checks { node, plan in try SampleSearchOp.validate(node, plan: plan) })

    static let samples = OpParameter<Int>("samples", default: 8, range: .closed(1, 64), doc: "How many samples run side by side (N).")
    static let finish = OpParameter<SampleSearch.Finish>("finish", default: .first,
                                                         doc: "first: stop when the first sample ends with EOS and answer with it (First Finish Search); all: run every sample to its end and answer with the highest mean log-probability (best-of-N).")

    let count: Int
    let finishRule: SampleSearch.Finish
    /// Whether the samples take verified steps (`steps`) rather than drawing from `from`.
    let speculative: Bool

    /// Exactly one of `from` and `steps`; best-of-N over verified steps needs a rerank to rank it
    /// (a verdict carries no probabilities to rank by).
    static func validate(_ node: Plan.Node, plan: Plan) throws {
        let ports = Set(node.inputs.map(\.port))
        guard ports.count == 1 else {
            throw OperatorError(.invalidParameter, at: "from", "connect exactly one of 'from' (a distribution) and 'steps' (a verify node's selection)")
        }
        if ports.contains("from") {
            try ReopeningSearch.requireRootRows(plan, search: "'\(node.name)' (search.sample) over 'from'")
        }
        if ports.contains("steps"), try node[finish] == .all {
            let output = plan.nodes[plan.output]
            guard output.op == RerankOp.spec.name, output.inputs.first?.sources == [node.index] else {
                throw OperatorError(.invalidParameter, at: finish.name, "best-of-N over verified steps has no probabilities to rank the samples by: make a rerank node (by: logprob or mbr) over this one the output")
            }
        }
    }

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused.
    /// - Throws: `OperatorError.invalidParameter` for settings out of range.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        count = try node[Self.samples]
        finishRule = try node[Self.finish]
        speculative = node.inputs.contains { $0.port == "steps" }
    }

    /// Starts the samples from the prompt.
    /// - Parameters:
    ///   - prompt: the prompt.
    ///   - maxNewTokens: the run's budget.
    ///   - eosTokens: tokens finishing a sample.
    ///   - seed: the run's seed; sample i draws from its own stream derived from it.
    /// - Returns: the search.
    public func start(prompt: [Int32], maxNewTokens: Int, eosTokens: Set<Int32>, seed: UInt64) throws -> any FrontierSearch {
        Search(state: SampleSearch(samples: count, finish: finishRule, maxNewTokens: maxNewTokens, eosTokens: eosTokens, seed: seed,
                                   speculative: speculative))
    }

    struct Search: FrontierSearch {
        var state: SampleSearch

        var running: [[Int32]] { state.running }
        var isDone: Bool { state.isDone }
        var best: [Int32]? { state.finished.first?.tokens }
        var candidates: [FrontierCandidate] { state.finished }

        mutating func advance(_ inputs: [StepValue]) throws -> [Int] {
            if state.speculative {
                let steps: [[Int32]] = try inputs.map {
                    guard case .selection(let verdict) = $0 else { throw StepInput.wrongKind("steps", "a selection") }
                    return verdict.tokens
                }
                return try state.extend(steps)
            }
            let rows: [[Float]] = try inputs.map {
                guard case .distributions(_, let rows, _) = $0, let root = rows.first else { throw StepInput.wrongKind("from", "distribution") }
                return root
            }
            return try state.step(rows)
        }
    }
}

/// The state of `search.sample`: which samples run, what each drew, and which finished.
public struct SampleSearch: Sendable {
    /// When the search ends.
    public enum Finish: String, Sendable, CaseIterable, ParameterEnumeration {
        /// At the first sample to end with EOS (First Finish Search).
        case first
        /// When every sample has ended (best-of-N).
        case all
    }

    /// The rule.
    public let finish: Finish
    /// Whether each sample takes verified steps from its own verify node (tokens come in, no
    /// probabilities) instead of drawing here.
    public let speculative: Bool
    /// Most generated tokens per sample.
    public let maxNewTokens: Int
    /// Tokens that end a sample.
    public let eosTokens: Set<Int32>
    /// Each sample's random stream.
    var streams: [Xoshiro256StarStar]
    /// Each sample's generated tokens; a sample is running until it is in `finished`.
    var tokens: [[Int32]]
    /// Each sample's sum of log-probabilities of its drawn tokens under the distributions it drew from.
    var logProbabilities: [Float]
    /// Indices of the running samples, in frontier order.
    var runningIndices: [Int] = []
    /// Finished samples, best first (highest mean log-probability; the earlier sample among equals).
    public private(set) var finished: [FrontierCandidate] = []
    /// Whether the search has ended.
    public private(set) var isDone = false
    /// Tokens drawn over all samples (the decoding work the answer cost).
    public private(set) var drawnTokens = 0

    /// Creates the search.
    /// - Parameters:
    ///   - samples: N, ≥ 1.
    ///   - finish: the rule.
    ///   - maxNewTokens: the budget per sample.
    ///   - eosTokens: tokens ending a sample.
    ///   - seed: the run's seed.
    ///   - speculative: whether samples take verified steps (`extend`) instead of drawing (`step`).
    public init(samples: Int, finish: Finish, maxNewTokens: Int, eosTokens: Set<Int32>, seed: UInt64, speculative: Bool = false) {
        self.finish = finish
        self.speculative = speculative
        if speculative { runningIndices = Array(0 ..< samples) }
        self.maxNewTokens = maxNewTokens
        self.eosTokens = eosTokens
        streams = (0 ..< samples).map { Xoshiro256StarStar(seed: seed &+ UInt64($0 + 1) &* 0xD1B5_4A32_D192_ED03) }
        tokens = Array(repeating: [], count: samples)
        logProbabilities = Array(repeating: 0, count: samples)
    }

    /// The running samples' tokens, in frontier order. Before the first draw all samples share the
    /// prompt, so the frontier is that one hypothesis — unless they verify steps of their own, when
    /// each is a hypothesis from the start.
    public var running: [[Int32]] { drawnTokens == 0 && !speculative ? [[]] : runningIndices.map { tokens[$0] } }

    /// Draws one token for every running sample.
    /// - Parameter rows: one distribution per frontier hypothesis.
    /// - Returns: for each new frontier hypothesis, the index of the one it extends.
    /// - Throws: `OperatorError.shapeMismatch` for a wrong number of rows;
    ///   `OperatorError.invalidDistribution` for a row that cannot be sampled.
    @discardableResult
    public mutating func step(_ rows: [[Float]]) throws -> [Int] {
        guard !isDone else { return [] }
        let first = drawnTokens == 0
        let drawing = first ? Array(tokens.indices) : runningIndices
        guard rows.count == (first ? 1 : drawing.count) else {
            throw OperatorError(.shapeMismatch, at: "from", "expected \(first ? 1 : drawing.count) distributions, got \(rows.count)")
        }
        var outcome = Outcome()
        for (position, sample) in drawing.enumerated() {
            let row = rows[first ? 0 : position]
            let token = try Distribution.sample(row, using: &streams[sample])
            logProbabilities[sample] += Float(log(Double(row[token])))
            append([Int32(token)], to: sample, parent: first ? 0 : position, &outcome)
        }
        return conclude(outcome)
    }

    /// Appends each running sample's verified step (speculative mode).
    /// - Parameter steps: one step of one or more tokens per frontier hypothesis.
    /// - Returns: for each new frontier hypothesis, the index of the one it extends.
    /// - Throws: `OperatorError.shapeMismatch` for a wrong number of steps or an empty one.
    @discardableResult
    public mutating func extend(_ steps: [[Int32]]) throws -> [Int] {
        guard !isDone else { return [] }
        guard steps.count == runningIndices.count, steps.allSatisfy({ !$0.isEmpty }) else {
            throw OperatorError(.shapeMismatch, at: "steps", "expected \(runningIndices.count) non-empty steps, got \(steps.map(\.count))")
        }
        var outcome = Outcome()
        for (position, sample) in runningIndices.enumerated() {
            append(steps[position], to: sample, parent: position, &outcome)
        }
        return conclude(outcome)
    }

    /// What one step did to the running samples.
    struct Outcome {
        var next: [Int] = []
        var parents: [Int] = []
        var endedByEOS: [Int] = []
    }

    /// Appends tokens to a sample up to the first EOS or the budget, and files it as running,
    /// ended by EOS, or finished by the budget.
    mutating func append(_ step: [Int32], to sample: Int, parent: Int, _ outcome: inout Outcome) {
        for token in step {
            tokens[sample].append(token)
            drawnTokens += 1
            if eosTokens.contains(token) {
                outcome.endedByEOS.append(sample)
                return
            }
            if tokens[sample].count >= maxNewTokens {
                finished.append(candidate(sample))
                return
            }
        }
        outcome.next.append(sample)
        outcome.parents.append(parent)
    }

    /// Files the step's finishers, applies the finishing rule, and returns the parents.
    mutating func conclude(_ outcome: Outcome) -> [Int] {
        let (next, parents, endedByEOS) = (outcome.next, outcome.parents, outcome.endedByEOS)
        finished += endedByEOS.map(candidate)
        finished = FrontierCandidate.bestFirst(finished)
        runningIndices = next
        switch finish {
        case .first:
            isDone = !endedByEOS.isEmpty || next.isEmpty
            if isDone, !endedByEOS.isEmpty {
                // The answer is a sample that ended with EOS: the first to finish, not one the budget cut.
                let winners = finished.filter { eosTokens.contains($0.tokens.last ?? -1) }
                finished = winners + finished.filter { !eosTokens.contains($0.tokens.last ?? -1) }
            }
        case .all:
            isDone = next.isEmpty
        }
        return isDone ? [] : parents
    }

    /// Sample `i` as a finished candidate, scored by its mean log-probability.
    func candidate(_ sample: Int) -> FrontierCandidate {
        FrontierCandidate(tokens: tokens[sample], score: logProbabilities[sample] / Float(max(1, tokens[sample].count)),
                          logProbability: logProbabilities[sample])
    }
}
