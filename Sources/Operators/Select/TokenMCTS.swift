import Foundation

/// Monte Carlo tree search over tokens, as PG-TD plans code generation (Zhang et al. 2023,
/// "Planning with Large Language Models for Code Generation"): the model proposes each node's
/// children (its `branch` most likely tokens, with their probabilities as priors), selection
/// follows P-UCB — `Q + exploration · P · √N(parent) / (1 + N)` — a roll-out from the new leaf
/// completes the sequence, and its reward is backed up the path (each node keeps the mean and the
/// best reward below it; Q is the mean). The roll-out is greedy, or with `rolloutBeams` > 1 a beam
/// search of that width, as PG-TD evaluates a node: the best complete beam (summed
/// log-probability over length) is the sequence rewarded.
///
/// `parallel` simulations run at once, one roll-out token each per step (each of a beam roll-out's
/// hypotheses a row), all scored in one batched pass; a simulation still in flight holds a virtual
/// visit on its path so the others spread out.
/// A simulation that selects a sequence already complete (EOS or the budget) takes its cached
/// reward without calling the model. The search ends after `simulations` simulations; the answer
/// is the complete sequence with the highest reward (ties: the higher mean log-probability, then
/// the earlier found), and every complete sequence found is a candidate.
public struct TokenMCTS: Sendable {
    /// Simulations (roll-outs) over the search.
    public let simulations: Int
    /// Simulations in flight at once (rows per batched pass).
    public let parallel: Int
    /// Children per expanded node.
    public let branch: Int
    /// P-UCB's exploration constant.
    public let exploration: Double
    /// Hypotheses of a roll-out's beam search (1: greedy).
    public let rolloutBeams: Int
    /// Most generated tokens.
    public let maxNewTokens: Int
    /// Tokens that end a sequence.
    public let eosTokens: Set<Int32>
    /// The reward of a complete sequence: its generated tokens and their mean log-probability.
    public let reward: @Sendable (_ tokens: [Int32], _ meanLogProbability: Double) throws -> Double

    /// Creates a search.
    /// - Throws: `OperatorError.invalidParameter` for values out of range.
    public init(simulations: Int, parallel: Int, branch: Int, exploration: Double, rolloutBeams: Int = 1, maxNewTokens: Int, eosTokens: Set<Int32>,
                reward: @escaping @Sendable ([Int32], Double) throws -> Double) throws {
        try OperatorError.require("rollout_beams", rolloutBeams, in: 1...64, "in 1...64")
        self.rolloutBeams = rolloutBeams
        try OperatorError.require("simulations", simulations, in: 1..., "≥ 1")
        try OperatorError.require("parallel", parallel, in: 1..., "≥ 1")
        try OperatorError.require("branch", branch, in: 1..., "≥ 1")
        try OperatorError.require("exploration", exploration, in: 0...1_000, "in [0, 1000]")
        try OperatorError.require("max_new_tokens", maxNewTokens, in: 1..., "≥ 1")
        self.simulations = simulations
        self.parallel = parallel
        self.branch = branch
        self.exploration = exploration
        self.maxNewTokens = maxNewTokens
        self.eosTokens = eosTokens
        self.reward = reward
    }

    /// A node of the tree: a prefix of generated tokens.
    public struct Node: Sendable {
        /// The prefix.
        public var tokens: [Int32]
        /// The parent's probability of the last token (the prior).
        public var prior: Double
        /// Log-probability of the prefix.
        public var logProbability: Double
        /// Completed visits.
        public var visits = 0
        /// Visits of simulations still in flight (virtual loss: counted as reward 0).
        var pending = 0
        /// Sum of the rewards backed up through the node.
        public var totalReward = 0.0
        /// The best reward backed up through the node.
        public var bestReward = -Double.infinity
        /// Children, once the node was expanded.
        public var children: [Int] = []
        /// Whether the prefix is complete (ends with EOS or holds `maxNewTokens` tokens).
        public var terminal: Bool
        /// A complete prefix's reward, once computed.
        var terminalReward: Double?
    }

    /// One sequence of a roll-out.
    struct Rollout: Sendable, Equatable {
        /// Its tokens (the leaf's prefix, then roll-out tokens).
        var tokens: [Int32]
        /// Their log-probability.
        var logProbability: Double
        /// Summed log-probability over length: how a beam roll-out ranks its complete sequences.
        var normalized: Double { logProbability / Double(max(1, tokens.count)) }
    }

    /// A simulation in flight: its path down the tree and, once past the leaf, its roll-out.
    struct Simulation: Sendable {
        /// Nodes from the root to the leaf it expands.
        var path: [Int]
        /// The roll-out's running hypotheses (one for a greedy roll-out), a frontier row each.
        var beams: [Rollout]
        /// A beam roll-out's complete hypotheses.
        var done: [Rollout] = []
        /// Whether the leaf still waits for its own row (to be expanded).
        var expanding: Bool
    }

    /// The search state.
    public struct State: Sendable {
        /// The tree; node 0 is the root (the prompt).
        public internal(set) var nodes: [Node] = [Node(tokens: [], prior: 1, logProbability: 0, terminal: false)]
        /// Simulations in flight, in frontier order.
        var inFlight: [Simulation] = []
        /// Simulations started.
        public internal(set) var started = 0
        /// Complete sequences found, with reward and mean log-probability, in the order found.
        public internal(set) var complete: [(tokens: [Int32], reward: Double, meanLogProbability: Double)] = []
        /// Whether the search has ended.
        public internal(set) var isDone = false

        /// The frontier: each simulation's roll-out hypotheses, in order.
        public var running: [[Int32]] { inFlight.flatMap { $0.beams.map(\.tokens) } }

        /// Complete sequences best first: reward, then mean log-probability, then the earlier found.
        public var finished: [FrontierCandidate] {
            complete.enumerated().sorted {
                ($0.element.reward, $0.element.meanLogProbability, -$0.offset) > ($1.element.reward, $1.element.meanLogProbability, -$1.offset)
            }.map { FrontierCandidate(tokens: $0.element.tokens, score: Float($0.element.reward),
                                      logProbability: Float($0.element.meanLogProbability * Double($0.element.tokens.count))) }
        }
    }

    /// The state before the first step: the first simulations all start at the root.
    public func start() throws -> State {
        var state = State()
        try launch(&state)
        return state
    }

    /// P-UCB of a child under its parent, pending visits counted with reward 0.
    func score(_ child: Node, parentVisits: Int) -> Double {
        let n = child.visits + child.pending
        let q = n == 0 ? 0 : child.totalReward / Double(n)
        return q + exploration * child.prior * (Double(parentVisits).squareRoot()) / Double(1 + n)
    }

    /// Starts simulations until `parallel` are in flight or the budget is spent; a simulation that
    /// reaches a complete node ends at once with its cached reward.
    func launch(_ state: inout State) throws {
        while state.inFlight.count < parallel, state.started < simulations {
            state.started += 1
            var path = [0]
            var node = 0
            while !state.nodes[node].children.isEmpty, !state.nodes[node].terminal {
                let parentVisits = state.nodes[node].visits + state.nodes[node].pending
                let children = state.nodes[node].children
                node = children.indices.max { a, b in
                    (score(state.nodes[children[a]], parentVisits: parentVisits), -a) < (score(state.nodes[children[b]], parentVisits: parentVisits), -b)
                }.map { children[$0] }!
                path.append(node)
            }
            if state.nodes[node].terminal, let cached = state.nodes[node].terminalReward {
                backUp(&state, path: path, reward: cached, pending: false)
                continue
            }
            if state.nodes[node].children.isEmpty, state.nodes[node].pending > 0 {
                // Another simulation is expanding this leaf: wait for its children rather than repeat its roll-out.
                state.started -= 1
                break
            }
            for n in path { state.nodes[n].pending += 1 }
            state.inFlight.append(Simulation(path: path, beams: [Rollout(tokens: state.nodes[node].tokens, logProbability: state.nodes[node].logProbability)],
                                             expanding: state.nodes[node].children.isEmpty))
        }
        state.isDone = state.inFlight.isEmpty
    }

    /// Adds a reward to every node of a path.
    func backUp(_ state: inout State, path: [Int], reward: Double, pending: Bool) {
        for n in path {
            if pending { state.nodes[n].pending -= 1 }
            state.nodes[n].visits += 1
            state.nodes[n].totalReward += reward
            state.nodes[n].bestReward = max(state.nodes[n].bestReward, reward)
        }
    }

    /// Records a complete sequence and returns its reward.
    func finish(_ state: inout State, tokens: [Int32], logProbability: Double) throws -> Double {
        let mean = logProbability / Double(max(1, tokens.count))
        if let known = state.complete.first(where: { $0.tokens == tokens }) { return known.reward }
        let value = try reward(tokens, mean)
        state.complete.append((tokens, value, mean))
        return value
    }

    /// Where a hypothesis's scored rows continue: for (hypothesis, row, token), the row of the
    /// drafted tree node below `row` (0 the root) holding `token` and its logits, or nil.
    public typealias DraftedRows = (_ hypothesis: Int, _ row: Int, _ token: Int32) throws -> (row: Int, logits: [Float])?

    /// Advances every simulation by one token — a greedy roll-out by more when `drafted` gives the
    /// rows that follow its greedy tokens (its hypothesis's drafted tree scored them in the same
    /// pass): the roll-out steps on from those rows exactly as it would have a pass later, so the
    /// search is the same, in fewer passes (speculative greedy decoding inside the roll-outs).
    /// - Parameters:
    ///   - state: the state.
    ///   - logits: one row per frontier hypothesis (each roll-out hypothesis of each simulation).
    ///   - drafted: the rows of the hypotheses' drafted trees, when they were scored.
    /// - Returns: for each hypothesis in flight next, the index of the current one whose tokens
    ///   share the longest prefix with it.
    /// - Throws: `OperatorError.shapeMismatch` for a wrong number of rows, and the reward's errors.
    @discardableResult
    public func step(_ state: inout State, logits: [[Float]], drafted: DraftedRows? = nil) throws -> [Int] {
        guard !state.isDone else { return [] }
        let before = state.running
        guard logits.count == before.count else {
            throw OperatorError(.shapeMismatch, at: "logits", "expected \(before.count) rows, got \(logits.count)")
        }
        var still: [Simulation] = []
        var offset = 0
        for var simulation in state.inFlight {
            let first = offset
            let rows = try logits[offset ..< offset + simulation.beams.count].map { try Distribution.logSoftmax($0) }
            offset += simulation.beams.count
            if simulation.expanding, state.nodes[simulation.path.last!].children.isEmpty {
                // Expand the leaf (the roll-out's one hypothesis so far): its best tokens become
                // children, priors their probabilities.
                let leaf = simulation.path.last!, logProbabilities = rows[0]
                for token in Distribution.topIndices(logProbabilities, branch) {
                    let tokens = state.nodes[leaf].tokens + [Int32(token)]
                    let lp = state.nodes[leaf].logProbability + Double(logProbabilities[token])
                    let terminal = eosTokens.contains(Int32(token)) || tokens.count >= maxNewTokens
                    var child = Node(tokens: tokens, prior: exp(Double(logProbabilities[token])), logProbability: lp, terminal: terminal)
                    if terminal { child.terminalReward = try finish(&state, tokens: tokens, logProbability: lp) }
                    state.nodes.append(child)
                    state.nodes[leaf].children.append(state.nodes.count - 1)
                }
                simulation.expanding = false
            }
            advance(&simulation, rows: rows)
            if rolloutBeams == 1, let drafted {
                var row = 0
                while let running = simulation.beams.first, let next = try drafted(first, row, running.tokens.last!) {
                    advance(&simulation, rows: [try Distribution.logSoftmax(next.logits)])
                    row = next.row
                }
            }
            // The best complete sequence (the earlier among equals) once the width is spent.
            if simulation.beams.isEmpty,
               let best = simulation.done.enumerated().max(by: { ($0.element.normalized, -$0.offset) < ($1.element.normalized, -$1.offset) })?.element {
                let value = try finish(&state, tokens: best.tokens, logProbability: best.logProbability)
                backUp(&state, path: simulation.path, reward: value, pending: true)
            } else {
                still.append(simulation)
            }
        }
        state.inFlight = still
        try launch(&state)
        return ReopeningSearch.parents(of: state.running, in: before)
    }

    /// One roll-out token: greedy, or a beam-search step over the roll-out's hypotheses: the best
    /// extensions by summed log-probability fill what is left of the width; a complete one among
    /// them (EOS or the budget) joins `done` and keeps its place, so the roll-out ends once every
    /// place holds a complete sequence.
    func advance(_ simulation: inout Simulation, rows: [[Float]]) {
        var extensions: [Rollout] = []
        for (hypothesis, logProbabilities) in zip(simulation.beams, rows) {
            for token in Distribution.topIndices(logProbabilities, rolloutBeams) {
                extensions.append(Rollout(tokens: hypothesis.tokens + [Int32(token)],
                                          logProbability: hypothesis.logProbability + Double(logProbabilities[token])))
            }
        }
        // Stable: among equal log-probabilities the earlier hypothesis and the likelier token first.
        let ranked = extensions.enumerated().sorted { ($0.element.logProbability, -$0.offset) > ($1.element.logProbability, -$1.offset) }.map(\.element)
        simulation.beams = []
        for candidate in ranked.prefix(rolloutBeams - simulation.done.count) {
            if eosTokens.contains(candidate.tokens.last!) || candidate.tokens.count >= maxNewTokens {
                simulation.done.append(candidate)
            } else {
                simulation.beams.append(candidate)
            }
        }
    }
}
