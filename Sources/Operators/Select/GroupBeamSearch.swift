import Foundation

/// Diverse beam search (Vijayakumar et al. 2018, "Diverse Beam Search: Decoding Diverse Solutions
/// from Neural Sequence Models") with transformers' semantics: `generate(num_beam_groups=,
/// diversity_penalty=)` of version 4.56, its `_group_beam_search` with `BeamSearchScorer`, checked
/// token for token by `tools/oracle/make_group_beam_fixtures.py`.
///
/// The `numBeams` beams are split into `groups` groups of `numBeams / groups`. Each step the groups
/// are advanced in order; group g ranks its own beams' candidates after subtracting
/// `diversityPenalty × n(t)` from every token t's log-probability, where n(t) counts the earlier
/// groups' beams that chose t at this step (Hamming diversity). The penalty stays in the beams'
/// accumulated scores, so the returned scores include it, as transformers' `sequences_scores` do.
/// Each group keeps its own pool of finished hypotheses (an EOS candidate joins it when it ranks
/// among the group's first `groupSize`) and closes on transformers' `early_stopping` rule, judged
/// with the group's best candidate; a closed group's beams stop running but still vote for the pad
/// token (the first EOS token) in later groups' counts, as transformers pads them. When the budget
/// runs out, the open groups' running beams join their pools. The result is every group's pool,
/// best first.
///
/// Like `BeamSearch`, each group starts from one beam, not transformers' copies scored −10⁹; the
/// groups' first beams are all the prompt, so the first step scores it once.
public struct GroupBeamSearch: SteppedBeamSearch {
    /// Total beams, a multiple of `groups`.
    public let numBeams: Int
    /// Number of groups, ≥ 2.
    public let groups: Int
    /// Subtracted from a token's log-probability once per earlier group's beam that chose it this step.
    public let diversityPenalty: Double
    /// Exponent of the generated length dividing finished scores.
    public let lengthPenalty: Double
    /// The stopping rule, applied per group.
    public let earlyStopping: BeamSearch.EarlyStopping
    /// Finished hypotheses each group keeps: `groupSize · patience`, rounded, at least 1.
    public let poolCapacity: Int
    /// Most generated tokens per hypothesis.
    public let maxNewTokens: Int
    /// Tokens that finish a hypothesis.
    public let eosTokens: Set<Int32>
    /// Penalties applied after the diversity penalty (transformers' processor order).
    public let shaping: LogitsPipeline?
    /// What a closed group's beams count as in the diversity penalty: the first EOS token, which
    /// transformers pads finished groups with.
    let padToken: Int32?

    /// Beams per group.
    public var groupSize: Int { numBeams / groups }

    /// Creates a search.
    /// - Parameters:
    ///   - numBeams: total beams, a multiple of `groups`.
    ///   - groups: number of groups, 2 ... `numBeams`.
    ///   - diversityPenalty: transformers' `diversity_penalty`, > 0.
    ///   - lengthPenalty: transformers' `length_penalty`.
    ///   - earlyStopping: transformers' `early_stopping`.
    ///   - patience: Kasai et al.'s patience factor, scaling each group's pool.
    ///   - maxNewTokens: most generated tokens, ≥ 1.
    ///   - eosTokens: end-of-sequence tokens, in the tokenizer's order (the first pads closed groups).
    ///   - shaping: greedy penalties and masks.
    /// - Throws: `OperatorError.invalidParameter` for values out of range.
    public init(numBeams: Int, groups: Int, diversityPenalty: Double, lengthPenalty: Double = 1,
                earlyStopping: BeamSearch.EarlyStopping = .heuristic, patience: Double = 1, maxNewTokens: Int,
                eosTokens: [Int32], shaping: LogitsPipeline? = nil) throws {
        // The single-group search validates what the two share.
        let plain = try BeamSearch(numBeams: numBeams, lengthPenalty: lengthPenalty, earlyStopping: earlyStopping,
                                   patience: patience, maxNewTokens: maxNewTokens, eosTokens: Set(eosTokens), shaping: shaping)
        try OperatorError.require("groups", groups, in: 2...max(2, numBeams), "2 ... width (\(numBeams))")
        guard numBeams % groups == 0 else {
            throw OperatorError(.invalidParameter, at: "groups", "width \(numBeams) must be a multiple of groups (\(groups))")
        }
        guard diversityPenalty > 0, diversityPenalty.isFinite else {
            throw OperatorError(.invalidParameter, at: "diversity_penalty", "must be > 0 with groups, or the groups are identical")
        }
        self.numBeams = numBeams
        self.groups = groups
        self.diversityPenalty = diversityPenalty
        self.lengthPenalty = lengthPenalty
        self.earlyStopping = earlyStopping
        self.poolCapacity = max(1, Int((Double(numBeams / groups) * patience).rounded()))
        self.maxNewTokens = maxNewTokens
        self.eosTokens = plain.eosTokens
        self.shaping = plain.shaping
        self.padToken = eosTokens.first
    }

    /// One group's beams and pool.
    public struct Group: Sendable {
        /// Running beams' generated tokens.
        public internal(set) var running: [[Int32]] = [[]]
        /// Running beams' accumulated scores (diversity penalties included).
        public internal(set) var runningScores: [Float] = [0]
        /// Finished hypotheses in the order they joined.
        public var finished: [BeamSearch.Hypothesis] { pool.hypotheses }
        /// Finished hypotheses.
        var pool: BeamPool
        /// Whether the group is closed.
        public internal(set) var isDone = false
    }

    /// The search state.
    public struct State: BeamSearchState {
        /// The prompt every beam continues.
        public let prompt: [Int32]
        /// The groups, in order.
        public internal(set) var groups: [Group]
        /// Tokens generated so far by every running beam.
        public internal(set) var generatedLength = 0
        /// Whether the search has stopped.
        public internal(set) var isDone = false

        /// The running beams of the open groups, group by group: the frontier. Before the first step
        /// every group's one empty beam is the same prompt, so the frontier is that one beam.
        public var running: [[Int32]] { generatedLength == 0 ? [[]] : groups.filter { !$0.isDone }.flatMap(\.running) }

        /// Every group's finished hypotheses, best first.
        public var finished: [BeamSearch.Hypothesis] { BeamPool.ranked(groups.flatMap(\.finished)) }
    }

    /// The state before the first step: one empty beam per group.
    /// - Parameter prompt: the prompt every beam continues.
    /// - Returns: the state.
    public func start(prompt: [Int32]) -> State {
        let pool = BeamPool(capacity: poolCapacity, lengthPenalty: lengthPenalty, earlyStopping: earlyStopping, maxNewTokens: maxNewTokens)
        return State(prompt: prompt, groups: Array(repeating: Group(pool: pool), count: groups))
    }

    /// Advances every open group by one token.
    /// - Parameters:
    ///   - state: the state to advance.
    ///   - logits: one row per frontier beam (`state.running`, group by group).
    /// - Returns: for each new frontier beam, the index in the old frontier of the beam it extends.
    /// - Throws: `OperatorError.shapeMismatch` for a wrong number of rows or widths;
    ///   `OperatorError.invalidDistribution` for rows without a finite logit.
    @discardableResult
    public func step(_ state: inout State, logits: [[Float]]) throws -> [Int] {
        guard !state.isDone else { return [] }
        let frontier = state.running.count
        guard logits.count == frontier, let width = logits.first?.count, width > 0, logits.allSatisfy({ $0.count == width }) else {
            throw OperatorError(.shapeMismatch, at: "logits", "expected \(frontier) rows of equal, non-zero width")
        }
        let length = state.generatedLength + 1
        var chosen: [Int32] = []  // this step's tokens of the groups done so far (transformers' current_tokens)
        var rowStart = 0
        var parents: [[Int]] = []  // per group, the old frontier index of each new beam
        for g in state.groups.indices {
            var group = state.groups[g]
            guard !group.isDone else {
                if let padToken { chosen += Array(repeating: padToken, count: groupSize) }
                parents.append([])
                continue
            }
            // The first step's groups all continue the prompt: one row serves them all.
            let first = state.generatedLength == 0
            let rows = first ? [logits[0]] : Array(logits[rowStart ..< rowStart + group.running.count])
            let counts = Dictionary(chosen.map { ($0, 1) }, uniquingKeysWith: +)
            let penalty = Float(diversityPenalty)
            let diversity: (@Sendable (inout [Float]) -> Void)?
            if counts.isEmpty {
                diversity = nil
            } else {
                diversity = { (row: inout [Float]) in
                    for (token, n) in counts where Int(token) < row.count { row[Int(token)] -= penalty * Float(n) }
                }
            }
            let candidates = try BeamSearch.candidates(rows, beams: group.running, scores: group.runningScores, prompt: state.prompt,
                                                       keep: max(2, 1 + eosTokens.count) * groupSize, shaping: shaping, adjust: diversity)
            var running: [[Int32]] = []
            var scores: [Float] = []
            var from: [Int] = []
            for (rank, candidate) in candidates.enumerated() {
                if eosTokens.contains(candidate.token) {
                    guard rank < groupSize else { continue }
                    group.pool.add(group.running[candidate.beam] + [candidate.token], logProbability: candidate.score, generatedLength: length)
                } else {
                    running.append(group.running[candidate.beam] + [candidate.token])
                    scores.append(candidate.score)
                    from.append(first ? 0 : rowStart + candidate.beam)
                    if running.count == groupSize { break }
                }
            }
            chosen += running.map { $0.last! }
            if let best = candidates.first?.score {
                group.isDone = group.pool.isDone(bestScore: best, length: length)
            }
            if !first { rowStart += group.running.count }
            group.running = running
            group.runningScores = scores
            // A group whose every candidate was masked or finished has nothing left to run.
            if running.isEmpty { group.isDone = true }
            parents.append(group.isDone ? [] : from)
            state.groups[g] = group
        }
        state.generatedLength = length
        if length >= maxNewTokens {
            // transformers' `finalize`: the open groups' running beams join their pools.
            for g in state.groups.indices where !state.groups[g].isDone {
                var group = state.groups[g]
                for (tokens, score) in zip(group.running, group.runningScores) {
                    group.pool.add(tokens, logProbability: score, generatedLength: length)
                }
                state.groups[g] = group
            }
            state.isDone = true
        } else {
            state.isDone = state.groups.allSatisfy(\.isDone)
        }
        return state.isDone ? [] : parents.flatMap { $0 }
    }
}
