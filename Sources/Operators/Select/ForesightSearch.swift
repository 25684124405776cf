import Foundation

/// φ-Decoding (Xu et al. 2025, "φ-Decoding: Adaptive Foresight Sampling for Balanced
/// Inference-Time Exploration and Exploitation"): the output is built one *step* (a line, or
/// `maxStepTokens` tokens) at a time. For each step, `candidates` continuations are sampled side by
/// side; those whose mean log-probability falls below the candidates' mean less one standard
/// deviation are pruned (in-width pruning); each survivor is rolled out greedily for
/// `foresightSteps` more steps (its foresight); the survivors are clustered by the tokens of step + foresight (k-means on
/// bag-of-token vectors, cosine); and the step is drawn with weight softmax(advantage / τ) + cluster
/// share, where the advantage is the mean log-probability of step + foresight. When one cluster
/// holds at least `consensus` of the candidates, the search has converged and the rest of the
/// output is decoded greedily (in-depth pruning). Every phase's hypotheses share one batched pass.
public struct ForesightSearch: Sendable {
    /// Candidate steps sampled per step.
    public let candidates: Int
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

    /// Creates a search.
    /// - Throws: `OperatorError.invalidParameter` for values out of range.
    public init(candidates: Int, clusters: Int, consensus: Double, temperature: Double, prune: Bool, foresightSteps: Int = 1,
                maxStepTokens: Int, stepEnds: Set<Int32>, maxNewTokens: Int, eosTokens: Set<Int32>) throws {
        try OperatorError.require("candidates", candidates, in: 1..., "≥ 1")
        try OperatorError.require("clusters", clusters, in: 1..., "≥ 1")
        try OperatorError.require("consensus", consensus, in: 0...1, "in [0, 1]")
        try OperatorError.require("temperature", temperature, in: 0.001...1000, "in [0.001, 1000]")
        try OperatorError.require("max_step_tokens", maxStepTokens, in: 1..., "≥ 1")
        try OperatorError.require("foresight_steps", foresightSteps, in: 1..., "≥ 1")
        self.foresightSteps = foresightSteps
        self.candidates = candidates
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

    /// One candidate step in flight.
    struct Branch: Sendable {
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
    }

    /// The search state.
    public struct State: Sendable {
        /// The output committed so far.
        public internal(set) var committed: [Int32] = []
        /// Its summed log-probability under the distributions it was drawn from.
        public internal(set) var committedLogProbability = 0.0
        /// The phase.
        public internal(set) var phase = Phase.sampling
        /// The candidates of the step being chosen.
        var branches: [Branch] = []
        /// Each candidate's random stream (sampling), and the search's own (choosing a step).
        var streams: [Xoshiro256StarStar]
        var chooser: Xoshiro256StarStar
        /// Steps chosen, and how many candidates in-width pruning dropped.
        public internal(set) var stepsChosen = 0
        public internal(set) var pruned = 0
        /// The step at which one cluster held `consensus` of the candidates, if any.
        public internal(set) var convergedAtStep: Int?
        /// Whether the search has ended.
        public internal(set) var isDone = false

        /// The frontier: the committed output plus each unfinished candidate's tokens of this phase.
        public var running: [[Int32]] {
            switch phase {
            case .greedy: return [committed]
            case .sampling: return branches.isEmpty ? [committed] : branches.filter { !$0.finished }.map { committed + $0.step }
            case .foresight: return branches.filter { !$0.finished }.map { committed + $0.step + $0.foresight }
            }
        }
    }

    /// The state before the first step.
    /// - Parameter seed: the run's seed.
    public func start(seed: UInt64) -> State {
        State(streams: (0 ..< candidates).map { Xoshiro256StarStar(seed: seed &+ UInt64($0 + 1) &* 0x9E37_79B9_7F4A_7C15) },
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
            state.committed.append(token)
            state.committedLogProbability += log(Double(rows[0][Int(token)]))
            if eosTokens.contains(token) || state.committed.count >= maxNewTokens { state.isDone = true }
        case .sampling:
            if state.branches.isEmpty { state.branches = Array(repeating: Branch(), count: candidates) }
            let open = state.branches.indices.filter { !state.branches[$0].finished }
            for (position, b) in open.enumerated() {
                let row = rows[before.count == 1 ? 0 : position]
                let token = Int32(try Distribution.sample(row, using: &state.streams[b]))
                state.branches[b].step.append(token)
                state.branches[b].stepLogProbability += log(Double(row[Int(token)]))
                let total = state.committed.count + state.branches[b].step.count
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
                let total = state.committed.count + state.branches[b].step.count + state.branches[b].foresight.count
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

    /// In-width pruning, then the survivors' foresight (candidates that ended the output need none).
    func beginForesight(_ state: inout State) throws {
        if prune, state.branches.count > 1 {
            let means = state.branches.map { $0.stepLogProbability / Double(max(1, $0.step.count)) }
            let mu = means.reduce(0, +) / Double(means.count)
            let sigma = (means.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(means.count)).squareRoot()
            let kept = state.branches.indices.filter { means[$0] >= mu - sigma }
            state.pruned += state.branches.count - kept.count
            state.branches = kept.map { state.branches[$0] }
        }
        state.phase = .foresight
        for b in state.branches.indices {
            state.branches[b].finished = state.branches[b].ended
        }
        if state.branches.allSatisfy(\.finished) { try choose(&state) }
    }

    /// Chooses the step: weight softmax(advantage / τ) + cluster share; then either the next
    /// step's sampling or, on consensus, greedy decoding.
    func choose(_ state: inout State) throws {
        let branches = state.branches
        let advantages = branches.map { ($0.stepLogProbability + $0.foresightLogProbability) / Double(max(1, $0.step.count + $0.foresight.count)) }
        let top = advantages.max() ?? 0
        let exps = advantages.map { exp(($0 - top) / temperature) }
        let total = exps.reduce(0, +)
        let assignment = Self.cluster(branches.map { $0.step + $0.foresight }, into: clusters)
        let sizes = Dictionary(assignment.map { ($0, 1) }, uniquingKeysWith: +)
        let shares = assignment.map { Double(sizes[$0]!) / Double(branches.count) }
        let weights = zip(exps, shares).map { $0 / total + $1 }
        let chosen = try Distribution.sample(weights, using: &state.chooser)
        state.committed += branches[chosen].step
        state.committedLogProbability += branches[chosen].stepLogProbability
        state.stepsChosen += 1
        state.branches = []
        if branches[chosen].ended || state.committed.count >= maxNewTokens {
            state.isDone = true
            return
        }
        if branches.count > 1, Double(sizes.values.max() ?? 0) / Double(branches.count) >= consensus {
            state.convergedAtStep = state.stepsChosen
            state.phase = .greedy
        } else {
            state.phase = .sampling
        }
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
