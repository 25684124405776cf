import Foundation

/// `search.beam`: plain beam search with transformers' semantics (its vectorised `_beam_search` of
/// version 4.50 and later, checked by `tools/oracle/make_operator_fixtures.py` on a random Llama).
///
/// Each step every running beam is extended by every token; candidates are ranked by accumulated
/// log-probability and the best `(1 + eosCount) · numBeams` (at least `2 · numBeams`) kept. A
/// candidate that ends in EOS, or reaches `maxNewTokens`, is finished; it joins the finished pool
/// only if it ranks among the first `numBeams`, with score `logprob / generatedLength^lengthPenalty`
/// (generated length including the EOS). The best `numBeams` unfinished candidates run on. The pool
/// keeps the best `numBeams` finished hypotheses.
///
/// One deliberate difference: transformers starts with `numBeams` copies of the prompt, all but one
/// scored −10⁹, so with a vocabulary smaller than `2 · numBeams` it can pick those copies; here only
/// one beam exists before the first step.
public struct BeamSearch: SteppedBeamSearch {
    /// When the search stops (transformers' `early_stopping`).
    public enum EarlyStopping: String, Sendable, CaseIterable {
        /// `True`: stop as soon as `numBeams` hypotheses are finished.
        case whenFull = "true"
        /// `False`: stop when the best running beam, normalised at its current length, cannot beat
        /// the worst finished one (transformers' heuristic).
        case heuristic = "false"
        /// `"never"`: as `heuristic`, but a positive length penalty assumes the running beam could
        /// still grow to `maxNewTokens` — the canonical beam-search stopping rule.
        case never
    }

    /// A finished hypothesis.
    public struct Hypothesis: Sendable, Equatable {
        /// Generated tokens, ending with the EOS token when one ended it.
        public var tokens: [Int32]
        /// `logProbability / tokens.count^lengthPenalty`: what hypotheses are ranked by.
        public var score: Float
        /// Sum of the token log-probabilities.
        public var logProbability: Float
    }

    /// Beams kept per step, ≥ 1.
    public let numBeams: Int
    /// Exponent of the generated length dividing finished scores (> 0 favours longer outputs).
    public let lengthPenalty: Double
    /// The stopping rule.
    public let earlyStopping: EarlyStopping
    /// Most generated tokens per hypothesis, ≥ 1.
    public let maxNewTokens: Int
    /// Tokens that finish a hypothesis.
    public let eosTokens: Set<Int32>
    /// How many finished hypotheses the pool holds: `numBeams · patience`, rounded, at least 1
    /// (Kasai et al. 2022, "Beam Search with Controlled Patience"). With `whenFull` the search stops
    /// when the pool is full, so a patience above 1 searches on after `numBeams` hypotheses finished
    /// and one below 1 stops sooner; the heuristic rules compare against the pool's worst member.
    public let poolCapacity: Int
    /// Penalties and masks applied to each beam's log-probabilities before ranking, as transformers
    /// applies its logits processors in beam search (after `log_softmax`, without renormalising).
    public let shaping: LogitsPipeline?

    /// Creates a search.
    /// - Parameters:
    ///   - numBeams: beams kept per step, ≥ 1.
    ///   - lengthPenalty: transformers' `length_penalty` (default 1).
    ///   - earlyStopping: transformers' `early_stopping` (default `heuristic`, i.e. `False`).
    ///   - patience: Kasai et al.'s patience factor p (default 1, transformers' beam search): the
    ///     pool holds `numBeams · p` finished hypotheses.
    ///   - maxNewTokens: most generated tokens, ≥ 1.
    ///   - eosTokens: end-of-sequence tokens (may be empty).
    ///   - shaping: repetition/presence/frequency penalties and token masks; must be greedy
    ///     settings (beam sampling is not implemented).
    /// - Throws: `OperatorError.invalidParameter` for values out of range or sampling settings.
    public init(numBeams: Int, lengthPenalty: Double = 1, earlyStopping: EarlyStopping = .heuristic,
                patience: Double = 1, maxNewTokens: Int, eosTokens: Set<Int32>, shaping: LogitsPipeline? = nil) throws {
        if let shaping, !shaping.settings.isGreedy {
            throw OperatorError(.invalidParameter, at: "temperature", "beam search ranks deterministically; use temperature 0 with its penalties and masks")
        }
        self.shaping = shaping
        try OperatorError.require("num_beams", numBeams, in: 1..., "≥ 1")
        try OperatorError.require("length_penalty", lengthPenalty, in: -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude, "finite")
        try OperatorError.require("max_new_tokens", maxNewTokens, in: 1..., "≥ 1")
        try OperatorError.require("patience", patience, in: 0.01...100, "in [0.01, 100]")
        self.numBeams = numBeams
        self.poolCapacity = max(1, Int((Double(numBeams) * patience).rounded()))
        self.lengthPenalty = lengthPenalty
        self.earlyStopping = earlyStopping
        self.maxNewTokens = maxNewTokens
        self.eosTokens = eosTokens
    }

    /// The search state: the frontier of running beams and the pool of finished hypotheses.
    public struct State: BeamSearchState {
        /// The prompt every beam continues.
        public let prompt: [Int32]
        /// Running beams' generated tokens, best first.
        public internal(set) var running: [[Int32]] = [[]]
        /// Running beams' accumulated log-probabilities, parallel to `running`.
        public internal(set) var runningScores: [Float] = [0]
        /// Finished hypotheses, best first, at most `poolCapacity`.
        public internal(set) var finished: [Hypothesis] = []
        /// Whether the search has stopped.
        public internal(set) var isDone = false
        /// Tokens generated so far by every running beam.
        public internal(set) var generatedLength = 0
        /// transformers' `is_early_stop_heuristic_unsatisfied`: once false, nothing more is added.
        var improvementPossible = true
    }

    /// The state before the first step.
    /// - Parameter prompt: the prompt every beam continues.
    /// - Returns: one empty running beam.
    public func start(prompt: [Int32]) -> State { State(prompt: prompt) }

    /// Advances the search by one token.
    /// - Parameters:
    ///   - state: the state to advance.
    ///   - logits: one row of next-token logits per running beam, in `state.running` order.
    /// - Returns: for each new running beam, the index of the beam it extends.
    /// - Throws: `OperatorError.shapeMismatch` for a wrong number of rows or widths;
    ///   `OperatorError.invalidDistribution` for rows without a finite logit.
    @discardableResult
    public func step(_ state: inout State, logits: [[Float]]) throws -> [Int] {
        guard !state.isDone else { return [] }
        guard logits.count == state.running.count, let width = logits.first?.count, width > 0,
              logits.allSatisfy({ $0.count == width }) else {
            throw OperatorError(.shapeMismatch, at: "logits", "expected \(state.running.count) rows of equal, non-zero width")
        }
        let candidates = try Self.candidates(logits, beams: state.running, scores: state.runningScores, prompt: state.prompt,
                                             keep: max(2, 1 + eosTokens.count) * numBeams, shaping: shaping)

        let length = state.generatedLength + 1
        let hitsStop = candidates.map { eosTokens.contains($0.token) || length >= maxNewTokens }

        // Finished candidates among the first numBeams join the pool, unless it is closed.
        let poolWasFull = state.finished.count == poolCapacity
        let closed = (earlyStopping == .whenFull && poolWasFull) || !state.improvementPossible
        if !closed {
            let normaliser = Float(pow(Double(length), lengthPenalty))
            var pool = state.finished
            for (rank, candidate) in candidates.enumerated() where rank < numBeams && hitsStop[rank] {
                pool.append(Hypothesis(tokens: state.running[candidate.beam] + [candidate.token],
                                       score: candidate.score / normaliser, logProbability: candidate.score))
            }
            // Stable: earlier pool members win ties, as in transformers' concatenation order.
            state.finished = Array(pool.enumerated().sorted { ($0.element.score, $1.offset) > ($1.element.score, $0.offset) }
                .prefix(poolCapacity).map(\.element))
        }

        // The best unfinished candidates run on.
        let survivors = candidates.indices.filter { !hitsStop[$0] }.prefix(numBeams)
        let parents = survivors.map { candidates[$0].beam }
        state.running = survivors.map { state.running[candidates[$0].beam] + [candidates[$0].token] }
        state.runningScores = survivors.map { candidates[$0].score }
        state.generatedLength = length

        // transformers' `_check_early_stop_heuristic`: can the best running beam still beat the worst finished one?
        if let best = state.runningScores.first, state.finished.count == poolCapacity {
            let hypotheticalLength = earlyStopping == .never && lengthPenalty > 0 ? maxNewTokens : length
            let bestPossible = best / Float(pow(Double(hypotheticalLength), lengthPenalty))
            let worst = state.finished.map(\.score).min() ?? -.infinity
            state.improvementPossible = state.improvementPossible && bestPossible > worst
        }
        let poolFull = state.finished.count == poolCapacity
        state.isDone = !state.improvementPossible || (earlyStopping == .whenFull && poolFull)
            || hitsStop.allSatisfy { $0 } || state.running.isEmpty
        return parents
    }

    /// A step's candidates: the accumulated log-probability of every (beam, token), best first
    /// (ties: earlier beam, then smaller token), the first `keep` of them.
    /// - Parameters:
    ///   - logits: one row per beam.
    ///   - beams: the beams' generated tokens.
    ///   - scores: the beams' accumulated scores.
    ///   - prompt: the prompt the beams continue.
    ///   - keep: how many candidates to keep.
    ///   - shaping: penalties applied to each row's log-probabilities.
    ///   - adjust: applied to each row's log-probabilities before `shaping` (group beam search's
    ///     diversity penalty).
    /// - Returns: the candidates, best first; tokens a mask removed are never candidates.
    /// - Throws: `OperatorError.invalidDistribution` for a row without a finite logit.
    static func candidates(_ logits: [[Float]], beams: [[Int32]], scores: [Float], prompt: [Int32], keep: Int,
                           shaping: LogitsPipeline?, adjust: (@Sendable (inout [Float]) -> Void)? = nil) throws -> [Candidate] {
        try candidates(accumulated: accumulatedRows(logits, beams: beams, scores: scores, prompt: prompt, shaping: shaping, adjust: adjust),
                       keep: keep)
    }

    /// Each beam's accumulated score plus every token's shaped log-probability (`-inf` where a
    /// mask removed the token): what candidates are ranked by.
    static func accumulatedRows(_ logits: [[Float]], beams: [[Int32]], scores: [Float], prompt: [Int32],
                                shaping: LogitsPipeline?, adjust: (@Sendable (inout [Float]) -> Void)? = nil) throws -> [[Float]] {
        try ParallelRows.map(logits.count, width: logits.first?.count ?? 0) { beam in
            var logProbabilities = try Distribution.logSoftmaxVectorised(logits[beam])
            adjust?(&logProbabilities)
            shaping?.process(&logProbabilities, context: LogitsContext(tokens: prompt + beams[beam], promptCount: prompt.count))
            let score = scores[beam]
            for i in logProbabilities.indices { logProbabilities[i] += score }
            return logProbabilities
        }
    }

    /// The best `keep` candidates of accumulated rows, best first (ties: earlier beam, then smaller
    /// token). The best `keep` overall are among each beam's best `keep`: select per beam, sort
    /// only those.
    static func candidates(accumulated rows: [[Float]], keep: Int) throws -> [Candidate] {
        let best = try ParallelRows.map(rows.count, width: rows.first?.count ?? 0) { Distribution.topIndices(rows[$0], keep) }
        var candidates: [Candidate] = []
        candidates.reserveCapacity(rows.count * keep)
        for (beam, tokens) in best.enumerated() {
            for token in tokens {
                candidates.append(Candidate(score: rows[beam][token], beam: beam, token: Int32(token)))
            }
        }
        candidates.sort { ($0.score, $1.beam, $1.token) > ($1.score, $0.beam, $0.token) }
        return Array(candidates.prefix(keep))
    }

    /// One extension of one beam by one token.
    struct Candidate {
        /// The beam's accumulated score plus the token's (shaped) log-probability.
        var score: Float
        /// The beam it extends.
        var beam: Int
        /// The token.
        var token: Int32
    }
}
