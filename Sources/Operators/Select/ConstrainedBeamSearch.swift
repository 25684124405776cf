import Foundation

/// Lexically constrained beam search as transformers 4.56 runs it (`generate(force_words_ids=)`,
/// `_constrained_beam_search` with `ConstrainedBeamSearchScorer`), a form of Dynamic Beam
/// Allocation (Post & Vilar 2018, "Fast Lexically Constrained Decoding with Dynamic Beam
/// Allocation for Neural Machine Translation"), checked token for token by
/// `tools/oracle/make_constrained_beam_fixtures.py`.
///
/// Each step takes the usual candidates (the best `max(2, 1 + #eos) · width` of every beam × token,
/// the first `width` that are not EOS kept), adds for every beam the tokens that advance its
/// constraints (the next token of the phrase in progress, or the first token of every pending
/// phrase) when that sequence is not already a candidate, and fills the beam round-robin from
/// *banks* of equal constraint progress (`PhraseProgress.bank`): the best of each bank, then the
/// second best of each, …, banks in order of `bank · 100 + score`. An EOS candidate among the first
/// `width` finishes only when every phrase has appeared. At the budget, the running beams that met
/// every phrase join the pool; while fewer than `fallbackCount` did, the others join too.
public struct ConstrainedBeamSearch: SteppedBeamSearch {
    /// Beams kept per step.
    public let numBeams: Int
    /// The phrases, as token ids, each non-empty.
    public let phrases: [[Int32]]
    /// Finished hypotheses kept: `numBeams · patience`, rounded, at least 1.
    public let poolCapacity: Int
    /// Exponent of the generated length dividing finished scores.
    public let lengthPenalty: Double
    /// The stopping rule.
    public let earlyStopping: BeamSearch.EarlyStopping
    /// Most generated tokens.
    public let maxNewTokens: Int
    /// Tokens that finish a hypothesis.
    public let eosTokens: Set<Int32>
    /// Penalties applied to each beam's log-probabilities.
    public let shaping: LogitsPipeline?
    /// transformers' `num_return_sequences`: at the budget, beams that miss a phrase join the pool
    /// while fewer than this many met every phrase.
    public let fallbackCount: Int
    /// Whether the prompt's tokens count toward the phrases, as transformers counts them (it tracks
    /// progress over the whole `input_ids`); `false` holds the output itself to the phrases.
    public let promptCounts: Bool

    /// Creates a search.
    /// - Parameters:
    ///   - numBeams: beams kept per step, ≥ 1.
    ///   - phrases: token ids of each phrase that must appear (at least one, none empty).
    ///   - lengthPenalty: transformers' `length_penalty`.
    ///   - earlyStopping: transformers' `early_stopping`.
    ///   - patience: Kasai et al.'s patience factor.
    ///   - maxNewTokens: most generated tokens, ≥ 1.
    ///   - eosTokens: end-of-sequence tokens.
    ///   - shaping: greedy penalties.
    ///   - fallbackCount: transformers' `num_return_sequences` (1 by default).
    ///   - promptCounts: whether the prompt's tokens count toward the phrases.
    /// - Throws: `OperatorError.invalidParameter` for values out of range.
    public init(numBeams: Int, phrases: [[Int32]], lengthPenalty: Double = 1, earlyStopping: BeamSearch.EarlyStopping = .heuristic,
                patience: Double = 1, maxNewTokens: Int, eosTokens: Set<Int32>, shaping: LogitsPipeline? = nil,
                fallbackCount: Int = 1, promptCounts: Bool = false) throws {
        let plain = try BeamSearch(numBeams: numBeams, lengthPenalty: lengthPenalty, earlyStopping: earlyStopping,
                                   patience: patience, maxNewTokens: maxNewTokens, eosTokens: eosTokens, shaping: shaping)
        guard !phrases.isEmpty, phrases.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= 0 } }) else {
            throw OperatorError(.invalidParameter, at: "phrases", "give at least one phrase, each of at least one token")
        }
        if let bad = phrases.first(where: { $0.contains(where: eosTokens.contains) }) {
            throw OperatorError(.invalidParameter, at: "phrases", "phrase \(bad) holds an end-of-sequence token, which ends the output")
        }
        self.numBeams = numBeams
        self.phrases = phrases
        self.poolCapacity = plain.poolCapacity
        self.lengthPenalty = lengthPenalty
        self.earlyStopping = earlyStopping
        self.maxNewTokens = maxNewTokens
        self.eosTokens = eosTokens
        self.shaping = plain.shaping
        self.fallbackCount = max(1, fallbackCount)
        self.promptCounts = promptCounts
    }

    /// The search state.
    public struct State: BeamSearchState {
        /// The prompt every beam continues.
        public let prompt: [Int32]
        /// Running beams' generated tokens.
        public internal(set) var running: [[Int32]] = [[]]
        /// Running beams' accumulated scores.
        public internal(set) var runningScores: [Float] = [0]
        /// Finished hypotheses.
        var pool: BeamPool
        /// Tokens generated so far by every running beam.
        public internal(set) var generatedLength = 0
        /// Whether the search has stopped.
        public internal(set) var isDone = false
        /// Whether the pool is closed (transformers' `_done`).
        var closed = false

        /// The finished hypotheses, best first.
        public var finished: [BeamSearch.Hypothesis] { BeamPool.ranked(pool.hypotheses) }
    }

    /// The state before the first step.
    /// - Parameter prompt: the prompt.
    /// - Returns: one empty beam.
    public func start(prompt: [Int32]) -> State {
        State(prompt: prompt, pool: BeamPool(capacity: poolCapacity, lengthPenalty: lengthPenalty, earlyStopping: earlyStopping,
                                             maxNewTokens: maxNewTokens))
    }

    /// The phrases' progress over a beam's tokens (and the prompt's, when they count).
    func progress(_ state: State, _ generated: [Int32]) -> PhraseProgress {
        PhraseProgress(phrases: phrases, tokens: promptCounts ? state.prompt + generated : generated)
    }

    /// Advances the search by one token.
    /// - Parameters:
    ///   - state: the state.
    ///   - logits: one row per running beam.
    /// - Returns: for each new running beam, the index of the beam it extends.
    /// - Throws: `OperatorError.shapeMismatch` for a wrong number of rows or widths.
    @discardableResult
    public func step(_ state: inout State, logits: [[Float]]) throws -> [Int] {
        guard !state.isDone else { return [] }
        guard logits.count == state.running.count, let width = logits.first?.count, width > 0, logits.allSatisfy({ $0.count == width }) else {
            throw OperatorError(.shapeMismatch, at: "logits", "expected \(state.running.count) rows of equal, non-zero width")
        }
        if state.generatedLength == 0, let outside = phrases.joined().first(where: { Int($0) >= width }) {
            throw OperatorError(.invalidParameter, at: "phrases", "phrase token \(outside) is outside the vocabulary of \(width)")
        }
        let length = state.generatedLength + 1
        let rows = try BeamSearch.accumulatedRows(logits, beams: state.running, scores: state.runningScores, prompt: state.prompt, shaping: shaping)
        let candidates = try BeamSearch.candidates(accumulated: rows, keep: max(2, 1 + eosTokens.count) * numBeams)
        var chosen: [BeamSearch.Candidate] = []
        for (rank, candidate) in candidates.enumerated() {
            if eosTokens.contains(candidate.token) {
                guard rank < numBeams, !state.closed else { continue }
                let tokens = state.running[candidate.beam]
                if progress(state, tokens).completed {
                    state.pool.add(tokens + [candidate.token], logProbability: candidate.score, generatedLength: length)
                }
            } else {
                chosen.append(candidate)
                if chosen.count == numBeams { break }
            }
        }
        // Tokens that advance each beam's phrases join the candidates, then banks share the beam.
        var sequences = Set(chosen.map { state.running[$0.beam] + [$0.token] })
        var all = chosen
        for (beam, tokens) in state.running.enumerated() {
            let current = progress(state, tokens)
            guard !current.completed else { continue }
            for token in current.advancing where Int(token) < width && rows[beam][Int(token)] > -.infinity {
                let sequence = tokens + [token]
                guard sequences.insert(sequence).inserted else { continue }
                all.append(BeamSearch.Candidate(score: rows[beam][Int(token)], beam: beam, token: token))
            }
        }
        let banks = all.map { progress(state, state.running[$0.beam] + [$0.token]).bank }
        // transformers sorts by bank · 100 + score (float32), then takes round-robin across runs of equal bank.
        let keys = zip(banks, all).map { Float($0 * 100) + $1.score }
        let order = all.indices.sorted { (keys[$0], -$0) > (keys[$1], -$1) }
        var rankInRun: [Int] = []
        var previous: Int?
        var counter = -1
        for index in order {
            counter = banks[index] == previous ? counter + 1 : 0
            previous = banks[index]
            rankInRun.append(counter)
        }
        let selected = order.indices.sorted { (rankInRun[$0], $0) < (rankInRun[$1], $1) }.prefix(chosen.count).map { all[order[$0]] }

        if !state.closed, let best = candidates.first?.score {
            state.closed = state.pool.isDone(bestScore: best, length: length)
        }
        let before = state.running
        state.running = selected.map { before[$0.beam] + [$0.token] }
        state.runningScores = selected.map(\.score)
        state.generatedLength = length
        if state.closed || state.running.isEmpty {
            state.isDone = true
        } else if length >= maxNewTokens {
            finalize(&state)
            state.isDone = true
        }
        return state.isDone ? [] : selected.map(\.beam)
    }

    /// transformers' `finalize` for an open pool at the budget: beams that met every phrase join,
    /// and the rest too while fewer than `fallbackCount` did.
    func finalize(_ state: inout State) {
        var met: [Int] = []
        for (beam, tokens) in state.running.enumerated() where progress(state, tokens).completed {
            state.pool.add(tokens, logProbability: state.runningScores[beam], generatedLength: state.generatedLength)
            met.append(beam)
        }
        guard met.count < fallbackCount else { return }
        for (beam, tokens) in state.running.enumerated() where !met.contains(beam) {
            state.pool.add(tokens, logProbability: state.runningScores[beam], generatedLength: state.generatedLength)
        }
    }
}

/// How far a token sequence is through a list of phrases, as transformers' `ConstraintListState`
/// with `PhrasalConstraint`s tracks it: at most one phrase in progress; a token that breaks it
/// sends the phrase back to the end of the pending list (and is not tried as the start of
/// another); a pending phrase starts when the token is its first.
public struct PhraseProgress: Sendable, Equatable {
    /// The phrases.
    let phrases: [[Int32]]
    /// Phrases completed.
    public private(set) var completedCount = 0
    /// The phrase in progress and how many of its tokens have appeared.
    var inProgress: (phrase: Int, matched: Int)?
    /// Phrases not started, in transformers' order.
    var pending: [Int]
    /// Whether every phrase has appeared.
    public private(set) var completed = false

    /// The progress after `tokens`.
    /// - Parameters:
    ///   - phrases: the phrases.
    ///   - tokens: the sequence so far.
    public init(phrases: [[Int32]], tokens: [Int32]) {
        self.phrases = phrases
        pending = Array(phrases.indices)
        for token in tokens {
            if completed { break }
            add(token)
        }
    }

    /// `ConstraintListState.add`.
    mutating func add(_ token: Int32) {
        guard !completed else { return }
        if let (phrase, matched) = inProgress {
            if phrases[phrase][matched] == token {
                if matched + 1 == phrases[phrase].count {
                    completedCount += 1
                    inProgress = nil
                    if pending.isEmpty { completed = true }
                } else {
                    inProgress = (phrase, matched + 1)
                }
            } else {
                pending.append(phrase)
                inProgress = nil
            }
        } else if let position = pending.firstIndex(where: { phrases[$0][0] == token }) {
            let phrase = pending.remove(at: position)
            if phrases[phrase].count == 1 {
                completedCount += 1
            } else {
                inProgress = (phrase, 1)
            }
            if pending.isEmpty, inProgress == nil { completed = true }
        }
    }

    /// The tokens that advance: the next of the phrase in progress, else the first of each pending one.
    public var advancing: [Int32] {
        if let (phrase, matched) = inProgress { return [phrases[phrase][matched]] }
        return pending.map { phrases[$0][0] }
    }

    /// transformers' `get_bank`: completed phrases × the longest phrase's length, plus, for the one
    /// in progress, the longest length less its tokens still to come.
    public var bank: Int {
        let longest = phrases.map(\.count).max() ?? 0
        let partial = inProgress.map { longest - (phrases[$0.phrase].count - $0.matched) } ?? 0
        return completedCount * longest + partial
    }

    public static func == (a: PhraseProgress, b: PhraseProgress) -> Bool {
        a.phrases == b.phrases && a.completedCount == b.completedCount && a.inProgress?.phrase == b.inProgress?.phrase
            && a.inProgress?.matched == b.inProgress?.matched && a.pending == b.pending && a.completed == b.completed
    }
}
