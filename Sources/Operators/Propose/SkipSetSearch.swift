import ModelRuntime

/// SWIFT's on-the-fly layer-set optimisation (Xia et al. 2025, "SWIFT: On-the-Fly Self-Speculative
/// Decoding for LLM Inference Acceleration"), without training: the skip set a self-speculative
/// drafter uses is searched during the run, scored by *matchness* — how many of the last `window`
/// committed tokens the target with that set skipped predicts greedily, replayed in one partial
/// pass over text the model actually produced.
///
/// Each search step mutates the incumbent set (one skipped layer swapped for one that runs, so the
/// share of skipped layers stays `ratio`), scores incumbent and candidate on the same window, and
/// keeps the better — SWIFT's random-search phase. Every `bayesInterval`-th step the candidate comes
/// from SWIFT's Bayesian optimisation instead (`SkipSetBayes`: a Gaussian process over every set
/// scored so far proposes the set of largest upper confidence bound). After `steps` search steps
/// the set stays fixed.
public struct SkipSetSearch: Sendable, Equatable {
    /// How a search step picks the set.
    enum Method: String, ParameterEnumeration, Sendable {
        /// SWIFT: score the incumbent and a candidate (a random neighbour or the Bayesian
        /// proposal) on the last window of committed text, keep the better.
        case swift
        /// CLaSp: re-choose the set from the last committed token by dynamic programming over
        /// the layers (`LayerSkipProgramme`).
        case clasp
    }

    /// How a step picks the set.
    let method: Method
    /// A search step runs every this many drafting steps.
    let every: Int
    /// Share of the layers skipped.
    public let ratio: Double
    /// Search steps before the set is fixed.
    public let steps: Int
    /// Committed tokens each candidate is scored on.
    public let window: Int
    /// Every how many search steps the candidate is the Bayesian proposal (0: never).
    public let bayesInterval: Int

    /// Creates a search.
    /// - Parameters:
    ///   - ratio: share of layers skipped, in (0, 1).
    ///   - steps: search steps, ≥ 0.
    ///   - window: tokens scored per candidate, ≥ 1.
    ///   - bayesInterval: every how many steps the candidate is the Bayesian proposal, ≥ 0 (0: never).
    ///   - method: how a step picks the set.
    ///   - every: a search step every this many drafting steps, ≥ 1.
    /// - Throws: `OperatorError.invalidParameter` for values out of range.
    init(ratio: Double, steps: Int, window: Int, bayesInterval: Int = 0, method: Method = .swift, every: Int = 1) throws {
        guard ratio > 0 && ratio < 1 else { throw OperatorError(.invalidParameter, at: "skip_ratio", "\(ratio) must be in (0, 1)") }
        try OperatorError.require("search_steps", steps, in: 0..., "≥ 0")
        try OperatorError.require("search_window", window, in: 1..., "≥ 1")
        try OperatorError.require("bayes_interval", bayesInterval, in: 0..., "≥ 0")
        try OperatorError.require("search_every", every, in: 1..., "≥ 1")
        self.method = method
        self.every = every
        self.bayesInterval = bayesInterval
        self.ratio = ratio
        self.steps = steps
        self.window = window
    }

    /// The initial set for a model: `ratio` of its layers (at least one, never all), spread evenly.
    /// - Parameter total: the model's layer count (≥ 2, so one layer can run).
    /// - Returns: the skipped layers.
    public func initialSet(layers total: Int) -> Set<Int> {
        let count = min(total - 1, max(1, Int((Double(total) * ratio).rounded())))
        guard count > 0 else { return [] }
        return Set((0..<count).map { ($0 * total) / count + (total / count) / 2 })
    }

    /// A neighbour: one skipped layer swapped for a running one.
    /// - Parameters:
    ///   - set: the incumbent.
    ///   - total: the model's layer count.
    ///   - rng: the generator.
    /// - Returns: the candidate (the incumbent when no swap exists).
    public func mutate<R: RandomNumberGenerator>(_ set: Set<Int>, layers total: Int, using rng: inout R) -> Set<Int> {
        let skipped = set.sorted()
        let running = (0..<total).filter { !set.contains($0) }
        guard !skipped.isEmpty, !running.isEmpty else { return set }
        var next = set
        next.remove(skipped[Int.random(in: 0..<skipped.count, using: &rng)])
        next.insert(running[Int.random(in: 0..<running.count, using: &rng)])
        return next
    }

    /// Greedy matches of replayed rows against the tokens they predict.
    /// - Parameter replay: `ModelSequenceScorer.replay`'s result.
    /// - Returns: the number of rows whose argmax is their target.
    /// - Throws: `OperatorError.invalidDistribution` for a row with NaN.
    static func matches(_ replay: (rows: [[Float]], targets: [Int32])) throws -> Int {
        try zip(replay.rows, replay.targets).count { row, target in Int32(try Distribution.argmax(row)) == target }
    }

    /// One hypothesis's search: the incumbent set and the steps taken.
    public final class State: HypothesisState, @unchecked Sendable {
        /// The skip set drafts use now; `nil` until the model's layer count is known.
        public var skipped: Set<Int>?
        /// Search steps taken.
        public var taken = 0
        /// Drafting steps seen (the search runs every `every` of them).
        var calls = 0
        /// Candidates adopted (for the run's report).
        public var adopted = 0
        /// Every set scored so far, for the Bayesian proposals.
        var bayes = SkipSetBayes()
        init() {}
        /// A copy for a forked hypothesis.
        public func fork() -> any HypothesisState {
            let copy = State()
            copy.skipped = skipped
            copy.taken = taken
            copy.calls = calls
            copy.adopted = adopted
            copy.bayes = bayes
            return copy
        }
    }

    /// One search step on a hypothesis, every `every` drafting steps. SWIFT scores the incumbent
    /// and a candidate on the last window of committed text and keeps the better (the incumbent on
    /// ties); CLaSp re-chooses the set from the last committed token.
    /// - Parameters:
    ///   - state: the hypothesis's search.
    ///   - scorer: the model, at its shared sequence.
    ///   - context: the committed tokens.
    ///   - rng: the generator.
    /// - Throws: the model's error.
    func step<R: RandomNumberGenerator>(_ state: State, scorer: ModelSequenceScorer, context: [Int32], using rng: inout R) throws {
        guard let total = scorer.layerCount, let incumbent = state.skipped, state.taken < steps else { return }
        state.calls += 1
        guard (state.calls - 1) % every == 0 else { return }
        if method == .clasp {
            state.taken += 1
            guard let found = try LayerSkipProgramme.search(scorer, context: context, count: incumbent.count) else { return }
            if found.skipped != incumbent { state.adopted += 1 }
            state.skipped = found.skipped
            return
        }
        let bayesian = bayesInterval > 0 && (state.taken + 1) % bayesInterval == 0
        let proposal = bayesian ? state.bayes.propose(count: incumbent.count, layers: total, using: &rng) : nil
        let candidate = proposal?.skipped ?? mutate(incumbent, layers: total, using: &rng)
        state.taken += 1
        guard candidate != incumbent else { return }
        // Matchness: the share of the window each set predicts (SWIFT's score, what the GP models).
        func score(_ set: Set<Int>) throws -> (matches: Int, share: Double) {
            let replay = try scorer.replay(context: context, window: window, layers: try LayerSelection(skipping: set, of: total))
            let matches = try Self.matches(replay)
            return (matches, replay.rows.isEmpty ? 0 : Double(matches) / Double(replay.rows.count))
        }
        let mine = try score(incumbent), theirs = try score(candidate)
        state.bayes.observe(SkipSetBayes.point(of: incumbent, layers: total), score: mine.share)
        state.bayes.observe(proposal?.point ?? SkipSetBayes.point(of: candidate, layers: total), score: theirs.share)
        if theirs.matches > mine.matches {
            state.skipped = candidate
            state.adopted += 1
        }
    }
}
