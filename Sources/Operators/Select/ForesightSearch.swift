import Foundation

/// φ-Decoding (Xu et al. 2025, "φ-Decoding: Adaptive Foresight Sampling for Balanced
/// Inference-Time Exploration and Exploitation"): the output is built one *step* (a line, or
/// `maxStepTokens` tokens) at a time, on `beams` step beams (the reference's `step_beam_size`).
/// For each step, every beam samples `candidates` continuations side by side; those whose mean
/// log-probability falls below the candidates' mean less one standard deviation are pruned
/// (in-width pruning; when fewer than `beams` survive, pruned ones are drawn back by
/// softmax(mean log-probability / 0.1), as the reference does); each survivor is rolled out
/// greedily for `foresightSteps` more steps (its foresight); the survivors are clustered by the
/// tokens of step + foresight (k-means on bag-of-token vectors, cosine); and `beams` steps are drawn
/// without replacement with weight softmax(advantage / τ) + cluster share. A candidate's value is
/// the mean log-probability of step + foresight, its advantage that value less its beam's (the
/// paper's A = F(aₜ) − F(aₜ₋₁)). When one cluster holds at least `consensus` of the candidates,
/// the search has converged: the best beam by value decodes the rest greedily (in-depth pruning).
/// Every phase's hypotheses share one batched pass.
public struct ForesightSearch: Sendable {
    /// Candidate steps sampled per beam per step.
    public let candidates: Int
    /// Step beams kept between steps.
    public let beams: Int
    /// Clusters of the candidates' foresight.
    public let clusters: Int
    /// Share of the candidates in one cluster that ends the exploration.
    public let consensus: Double
    /// Temperature of the advantage's softmax.
    public let temperature: Double
    /// Whether candidates below the mean less one standard deviation are dropped before foresight.
    public let prune: Bool
    /// Steps each surviving candidate is rolled out (its foresight).
    public let foresightSteps: Int
    /// Most tokens of one step.
    public let maxStepTokens: Int
    /// Tokens that end a step (a line break in their text).
    public let stepEnds: Set<Int32>
    /// Most generated tokens.
    public let maxNewTokens: Int
    /// Tokens that end the output.
    public let eosTokens: Set<Int32>

    /// The temperature the reference draws pruned candidates back with (its `temp = 0.1`).
    static let refillTemperature = 0.1

    /// Creates a search.
    /// - Throws: `OperatorError.invalidParameter` for values out of range.
    public init(candidates: Int, beams: Int = 1, clusters: Int, consensus: Double, temperature: Double, prune: Bool, foresightSteps: Int = 1,
                maxStepTokens: Int, stepEnds: Set<Int32>, maxNewTokens: Int, eosTokens: Set<Int32>) throws {
        try OperatorError.require("candidates", candidates, in: 1..., "≥ 1")
        try OperatorError.require("beams", beams, in: 1..., "≥ 1")
        try OperatorError.require("clusters", clusters, in: 1..., "≥ 1")
        try OperatorError.require("consensus", consensus, in: 0...1, "in [0, 1]")
        try OperatorError.require("temperature", temperature, in: 0.001...1000, "in [0.001, 1000]")
        try OperatorError.require("max_step_tokens", maxStepTokens, in: 1..., "≥ 1")
        try OperatorError.require("foresight_steps", foresightSteps, in: 1..., "≥ 1")
        self.foresightSteps = foresightSteps
        self.candidates = candidates
        self.beams = beams
        self.clusters = clusters
        self.consensus = consensus
        self.temperature = temperature
        self.prune = prune
        self.maxStepTokens = maxStepTokens
        self.stepEnds = stepEnds
        self.maxNewTokens = maxNewTokens
        self.eosTokens = eosTokens
    }

    /// What the running hypotheses are doing.
    public enum Phase: Sendable, Equatable {
        /// Sampling candidate steps.
        case sampling
        /// Rolling the surviving candidates out one more step.
        case foresight
        /// Converged: one hypothesis decoding greedily.
        case greedy
    }

    /// One step beam: the output committed along it.
    public struct Beam: Sendable, Equatable {
        /// Its tokens.
        public internal(set) var tokens: [Int32] = []
        /// Their summed log-probability under the distributions they were drawn from.
        public internal(set) var logProbability = 0.0
        /// The value of the candidate that made its last step (0 before the first).
        public internal(set) var value = 0.0
        /// Whether it ended (EOS or the budget).
        public internal(set) var ended = false
    }

    /// One candidate step in flight.
    struct Branch: Sendable {
        /// The beam it continues.
        var parent = 0
        /// Its step's tokens.
        var step: [Int32] = []
        /// Their summed log-probability.
        var stepLogProbability = 0.0
        /// Its foresight's tokens.
        var foresight: [Int32] = []
        /// Their summed log-probability.
        var foresightLogProbability = 0.0
        /// Foresight steps completed, and the tokens of the one in progress.
        var foresightStepsDone = 0, foresightStepLength = 0
        /// Whether its current phase is over for it.
        var finished = false
        /// Whether its step ended the output (EOS or the budget): it needs no foresight.
        var ended = false

        /// The mean log-probability of step + foresight.
        var value: Double { (stepLogProbability + foresightLogProbability) / Double(max(1, step.count + foresight.count)) }
    }

    /// The search state.
    public struct State: Sendable {
        /// The step beams, best first once the search is done.
        public internal(set) var beams: [Beam] = [Beam()]
        /// The phase.
        public internal(set) var phase = Phase.sampling
        /// The candidates of the step being chosen.
        var branches: [Branch] = []
        /// Each candidate's random stream (sampling), and the search's own (choosing the steps).
        var streams: [Xoshiro256StarStar]
        var chooser: Xoshiro256StarStar
        /// Steps chosen, and how many candidates in-width pruning dropped.
        public internal(set) var stepsChosen = 0
        public internal(set) var pruned = 0
        /// The step at which one cluster held `consensus` of the candidates, if any.
        public internal(set) var convergedAtStep: Int?
        /// Whether the search has ended.
        public internal(set) var isDone = false

        /// The output: the best beam's tokens (the only beam's, with one).
        public var committed: [Int32] { beams.first?.tokens ?? [] }
        /// Its summed log-probability.
        public var committedLogProbability: Double { beams.first?.logProbability ?? 0 }

        /// The beams still growing, each once (before the first step they are all the prompt).
        var openBeams: [[Int32]] {
            var seen = Set<[Int32]>()
            return beams.filter { !$0.ended }.map(\.tokens).filter { seen.insert($0).inserted }
        }

        /// The frontier: each open beam, or each unfinished candidate's beam plus its tokens of
        /// this phase.
        public var running: [[Int32]] {
            switch phase {
            case .greedy: return [committed]
            case .sampling:
                return branches.isEmpty ? openBeams : branches.filter { !$0.finished }.map { beams[$0.parent].tokens + $0.step }
            case .foresight: return branches.filter { !$0.finished }.map { beams[$0.parent].tokens + $0.step + $0.foresight }
            }
        }
    }

    /// The state before the first step.
    /// - Parameter seed: the run's seed.
    public func start(seed: UInt64) -> State {
        State(beams: Array(repeating: Beam(), count: beams),
              streams: (0 ..< candidates * beams).map { Xoshiro256StarStar(seed: seed &+ UInt64($0 + 1) &* 0x9E37_79B9_7F4A_7C15) },
              chooser: Xoshiro256StarStar(seed: seed ^ 0xD6E8_FEB8_6659_FD93))
    }

    /// Whether a token ends a step.
    func endsStep(_ token: Int32, length: Int) -> Bool { stepEnds.contains(token) || length >= maxStepTokens }

    /// Advances every running hypothesis by one token.
    /// - Parameters:
    ///   - state: the state.
    ///   - rows: one next-token distribution per frontier hypothesis.
    /// - Returns: for each next frontier hypothesis, the current one sharing its longest prefix.
    /// - Throws: `OperatorError.shapeMismatch` for a wrong number of rows, and the sampler's errors.
    @discardableResult
    public func step(_ state: inout State, rows: [[Float]]) throws -> [Int] {
        guard !state.isDone else { return [] }
        let before = state.running
        guard rows.count == before.count else {
            throw OperatorError(.shapeMismatch, at: "from", "expected \(before.count) distributions, got \(rows.count)")
        }
        switch state.phase {
        case .greedy:
            let token = Int32(Distribution.topIndices(rows[0], 1)[0])
            state.beams[0].tokens.append(token)
            state.beams[0].logProbability += log(Double(rows[0][Int(token)]))
            if eosTokens.contains(token) || state.beams[0].tokens.count >= maxNewTokens { state.isDone = true }
        case .sampling:
            // A step's first token is drawn from its beam's row; later ones from the candidate's own.
            let starting = state.branches.isEmpty
            if starting {
                state.branches = state.beams.indices.filter { !state.beams[$0].ended }.flatMap { b in
                    Array(repeating: Branch(parent: b), count: candidates)
                }
            }
            let open = state.branches.indices.filter { !state.branches[$0].finished }
            for (position, b) in open.enumerated() {
                let parent = state.beams[state.branches[b].parent].tokens
                let row = rows[starting ? before.firstIndex(of: parent)! : position]
                let token = Int32(try Distribution.sample(row, using: &state.streams[b]))
                state.branches[b].step.append(token)
                state.branches[b].stepLogProbability += log(Double(row[Int(token)]))
                let total = parent.count + state.branches[b].step.count
                if eosTokens.contains(token) || total >= maxNewTokens {
                    state.branches[b].finished = true
                    state.branches[b].ended = true
                } else if endsStep(token, length: state.branches[b].step.count) {
                    state.branches[b].finished = true
                }
            }
            if state.branches.allSatisfy(\.finished) { try beginForesight(&state) }
        case .foresight:
            let open = state.branches.indices.filter { !state.branches[$0].finished }
            for (position, b) in open.enumerated() {
                let row = rows[position]
                let token = Int32(Distribution.topIndices(row, 1)[0])
                state.branches[b].foresight.append(token)
                state.branches[b].foresightLogProbability += log(Double(row[Int(token)]))
                state.branches[b].foresightStepLength += 1
                let total = state.beams[state.branches[b].parent].tokens.count + state.branches[b].step.count + state.branches[b].foresight.count
                if endsStep(token, length: state.branches[b].foresightStepLength) {
                    state.branches[b].foresightStepsDone += 1
                    state.branches[b].foresightStepLength = 0
                }
                if eosTokens.contains(token) || total >= maxNewTokens || state.branches[b].foresightStepsDone == foresightSteps {
                    state.branches[b].finished = true
                }
            }
            if state.branches.allSatisfy(\.finished) { try choose(&state) }
        }
        let after = state.running
        if state.isDone { return [] }
        return ReopeningSearch.parents(of: after, in: before)
    }

    /// In-width pruning (refilled to `beams` candidates), then the survivors' foresight
    /// (candidates that ended the output need none).
    func beginForesight(_ state: inout State) throws {
        if prune, state.branches.count > 1 {
            let means = state.branches.map { $0.stepLogProbability / Double(max(1, $0.step.count)) }
            let mu = means.reduce(0, +) / Double(means.count)
            let sigma = (means.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(means.count)).squareRoot()
            var kept = state.branches.indices.filter { means[$0] >= mu - sigma }
            let dropped = state.branches.indices.filter { means[$0] < mu - sigma }
            if kept.count < beams {
                let weights = Self.softmax(dropped.map { means[$0] / Self.refillTemperature })
                kept += try Self.draw(min(beams - kept.count, dropped.count), from: weights, using: &state.chooser).map { dropped[$0] }
                kept.sort()
            }
            state.pruned += state.branches.count - kept.count
            state.branches = kept.map { state.branches[$0] }
        }
        state.phase = .foresight
        for b in state.branches.indices {
            state.branches[b].finished = state.branches[b].ended
        }
        if state.branches.allSatisfy(\.finished) { try choose(&state) }
    }

    /// Draws the next beams: weight softmax(advantage / τ) + cluster share, `beams` of them without
    /// replacement; then either the next step's sampling or, on consensus, the best beam's greedy
    /// decoding.
    func choose(_ state: inout State) throws {
        let branches = state.branches
        let advantages = branches.map { $0.value - state.beams[$0.parent].value }
        let assignment = Self.cluster(branches.map { $0.step + $0.foresight }, into: clusters)
        let sizes = Dictionary(assignment.map { ($0, 1) }, uniquingKeysWith: +)
        let shares = assignment.map { Double(sizes[$0]!) / Double(branches.count) }
        let weights = zip(Self.softmax(advantages.map { $0 / temperature }), shares).map { $0 + $1 }
        // The ended beams stay as they are; the open ones are replaced by the drawn steps.
        let finished = state.beams.filter(\.ended)
        let drawn = try Self.draw(min(beams - finished.count, branches.count), from: weights, using: &state.chooser)
        var next = finished
        for chosen in drawn {
            let branch = branches[chosen], parent = state.beams[branch.parent]
            let tokens = parent.tokens + branch.step
            next.append(Beam(tokens: tokens, logProbability: parent.logProbability + branch.stepLogProbability, value: branch.value,
                             ended: branch.ended || tokens.count >= maxNewTokens))
        }
        state.beams = next.enumerated().sorted { ($0.element.value, -$0.offset) > ($1.element.value, -$1.offset) }.map(\.element)
        state.stepsChosen += 1
        state.branches = []
        if state.beams.allSatisfy(\.ended) {
            state.isDone = true
            return
        }
        if branches.count > 1, Double(sizes.values.max() ?? 0) / Double(branches.count) >= consensus {
            state.convergedAtStep = state.stepsChosen
            // The best beam decodes the rest; if it has ended, it is the answer.
            state.beams = [state.beams[0]]
            if state.beams[0].ended {
                state.isDone = true
            } else {
                state.phase = .greedy
            }
        } else {
            state.phase = .sampling
        }
    }

    /// Softmax of scores (the largest subtracted first).
    static func softmax(_ scores: [Double]) -> [Double] {
        let top = scores.max() ?? 0
        let exps = scores.map { exp($0 - top) }
        let total = exps.reduce(0, +)
        return exps.map { $0 / total }
    }

    /// `count` indices drawn without replacement, each in proportion to its weight among those left.
    static func draw(_ count: Int, from weights: [Double], using rng: inout Xoshiro256StarStar) throws -> [Int] {
        var left = Array(weights.indices), chosen: [Int] = []
        while chosen.count < count, !left.isEmpty {
            let pick = try Distribution.sample(left.map { weights[$0] }, using: &rng)
            chosen.append(left.remove(at: pick))
        }
        return chosen
    }

    /// k-means over bag-of-token vectors with cosine similarity: deterministic (farthest-first
    /// seeding from the first sequence, ten rounds of assignment by the most similar centroid).
    /// - Returns: each sequence's cluster.
    static func cluster(_ sequences: [[Int32]], into k: Int) -> [Int] {
        let vectors: [[Int32: Double]] = sequences.map { tokens in
            let counts = Dictionary(tokens.map { ($0, 1.0) }, uniquingKeysWith: +)
            let norm = counts.values.map { $0 * $0 }.reduce(0, +).squareRoot()
            return counts.mapValues { $0 / max(norm, 1e-12) }
        }
        func similarity(_ a: [Int32: Double], _ b: [Int32: Double]) -> Double {
            a.reduce(0) { $0 + $1.value * (b[$1.key] ?? 0) }
        }
        guard !vectors.isEmpty else { return [] }
        var centroids = [vectors[0]]
        while centroids.count < min(k, vectors.count) {
            // The vector least like every centroid so far (the earlier among equals).
            let next = vectors.indices.min { a, b in
                (centroids.map { similarity(vectors[a], $0) }.max()!, a) < (centroids.map { similarity(vectors[b], $0) }.max()!, b)
            }!
            centroids.append(vectors[next])
        }
        var assignment = Array(repeating: 0, count: vectors.count)
        for _ in 0 ..< 10 {
            assignment = vectors.map { v in centroids.indices.max { (similarity(v, centroids[$0]), -$0) < (similarity(v, centroids[$1]), -$1) }! }
            centroids = centroids.indices.map { c in
                var sum: [Int32: Double] = [:]
                for (v, a) in zip(vectors, assignment) where a == c { for (key, value) in v { sum[key, default: 0] += value } }
                let norm = sum.values.map { $0 * $0 }.reduce(0, +).squareRoot()
                return norm > 0 ? sum.mapValues { $0 / norm } : centroids[c]
            }
        }
        return assignment
    }
}
