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
        inputs: [PortSpec("from", .distribution, doc: "Each running sample's next-token distribution (a sample node over a root-only score).")],
        output: OutputSpec(.frontier, doc: "The running samples."),
        needs: [CapabilityRule(.fork)])

    static let samples = OpParameter<Int>("samples", default: 8, range: .closed(1, 64), doc: "How many samples run side by side (N).")
    static let finish = OpParameter<SampleSearch.Finish>("finish", default: .first,
                                                         doc: "first: stop when the first sample ends with EOS and answer with it (First Finish Search); all: run every sample to its end and answer with the highest mean log-probability (best-of-N).")

    let count: Int
    let finishRule: SampleSearch.Finish

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused.
    /// - Throws: `OperatorError.invalidParameter` for settings out of range.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        count = try node[Self.samples]
        finishRule = try node[Self.finish]
    }

    /// Starts the samples from the prompt.
    /// - Parameters:
    ///   - prompt: the prompt.
    ///   - maxNewTokens: the run's budget.
    ///   - eosTokens: tokens finishing a sample.
    ///   - seed: the run's seed; sample i draws from its own stream derived from it.
    /// - Returns: the search.
    public func start(prompt: [Int32], maxNewTokens: Int, eosTokens: Set<Int32>, seed: UInt64) throws -> any FrontierSearch {
        Search(state: SampleSearch(samples: count, finish: finishRule, maxNewTokens: maxNewTokens, eosTokens: eosTokens, seed: seed))
    }

    struct Search: FrontierSearch {
        var state: SampleSearch

        var running: [[Int32]] { state.running }
        var isDone: Bool { state.isDone }
        var best: [Int32]? { state.finished.first?.tokens }
        var candidates: [FrontierCandidate] { state.finished }

        mutating func advance(_ inputs: [StepValue]) throws -> [Int] {
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
    public init(samples: Int, finish: Finish, maxNewTokens: Int, eosTokens: Set<Int32>, seed: UInt64) {
        self.finish = finish
        self.maxNewTokens = maxNewTokens
        self.eosTokens = eosTokens
        streams = (0 ..< samples).map { Xoshiro256StarStar(seed: seed &+ UInt64($0 + 1) &* 0xD1B5_4A32_D192_ED03) }
        tokens = Array(repeating: [], count: samples)
        logProbabilities = Array(repeating: 0, count: samples)
    }

    /// The running samples' tokens, in frontier order. Before the first draw all samples share the
    /// prompt, so the frontier is that one hypothesis.
    public var running: [[Int32]] { drawnTokens == 0 ? [[]] : runningIndices.map { tokens[$0] } }

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
        var next: [Int] = []
        var parents: [Int] = []
        var endedByEOS: [Int] = []
        for (position, sample) in drawing.enumerated() {
            let row = rows[first ? 0 : position]
            let token = try Distribution.sample(row, using: &streams[sample])
            tokens[sample].append(Int32(token))
            logProbabilities[sample] += Float(log(Double(row[token])))
            drawnTokens += 1
            if eosTokens.contains(Int32(token)) {
                endedByEOS.append(sample)
            } else if tokens[sample].count >= maxNewTokens {
                finished.append(candidate(sample))
            } else {
                next.append(sample)
                parents.append(first ? 0 : position)
            }
        }
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
