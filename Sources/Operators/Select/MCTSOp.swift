import Foundation
import Graph

/// `search.mcts`: Monte Carlo tree search over tokens with a reward (PG-TD, Zhang et al. 2023). See
/// `TokenMCTS`.
public struct MCTSOp: FrontierOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "search.mcts", family: .select,
        doc: "Monte Carlo tree search over tokens (PG-TD): P-UCB selection with the model's probabilities as priors, expansion into the branch most likely tokens, a roll-out to the end (greedy, or a beam search of rollout_beams), and a reward backed up the path; parallel simulations share each batched pass. A greedy roll-out steps on through its hypothesis's drafted tree (a drafter before score: draft.lookup, draft.suffix) while the drafts are its greedy tokens: with one simulation in flight the same search in fewer passes (with more, a roll-out that ends sooner lets the next simulation start on other statistics). The reward is a reward node's judgement of each complete output (its validity under a constraint, a program's verdict) or, without one, the output's mean log-probability.",
        parameters: [simulations.spec, parallel.spec, branch.spec, exploration.spec, rolloutBeams.spec, reward.spec],
        inputs: [PortSpec("from", .scores, doc: "Each simulation's next-token logits, and with greedy roll-outs its drafted tree's rows.")],
        output: OutputSpec(.frontier, doc: "The simulations in flight."),
        needs: [CapabilityRule(.fork)],
        validate: OpValidation.checks { node, plan in
            _ = try RewardOp.named(node[reward], in: plan, at: reward.name)
            try ReopeningSearch.check(plan, search: "'\(node.name)' (search.mcts)", drafts: try node[rolloutBeams] == 1)
        })

    static let simulations = OpParameter<Int>("simulations", default: 32, range: .closed(1, 100_000), doc: "Simulations (roll-outs) over the search: its budget.")
    static let parallel = OpParameter<Int>("parallel", default: 4, range: .closed(1, 64), doc: "Simulations in flight at once, one roll-out token each per batched pass.")
    static let branch = OpParameter<Int>("branch", default: 3, range: .closed(1, 64), doc: "Children of an expanded node: its most likely tokens (PG-TD's k).")
    static let exploration = OpParameter<Double>("exploration", default: 1, range: .closed(0, 1000), doc: "P-UCB's constant: how far selection trusts priors and unvisited children over the mean reward.")
    static let rolloutBeams = OpParameter<Int>("rollout_beams", default: 1, range: .closed(1, 64),
                                               doc: "The roll-out's beam width: 1 rolls out greedily; more runs a beam search from the leaf (PG-TD's evaluation) and rewards its best complete sequence (summed log-probability over length). Each of its hypotheses is a row of the batched pass.")
    static let reward = OpParameter<String?>("reward", .nodeRef, doc: "A reward node (op: reward) that judges each complete output; without one, the output's mean log-probability (a reward node's by: loglik).")

    let settings: (simulations: Int, parallel: Int, branch: Int, exploration: Double, rolloutBeams: Int)
    let rewardFunction: @Sendable ([Int32], Double) throws -> Double

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: binds the reward node.
    /// - Throws: `OperatorError.invalidParameter` for settings out of range or a `reward` that is
    ///   not a reward node.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        settings = (try node[Self.simulations], try node[Self.parallel], try node[Self.branch], try node[Self.exploration], try node[Self.rolloutBeams])
        if let judge = try RewardOp.judge(named: node[Self.reward], environment: environment, at: Self.reward.name) {
            rewardFunction = { try judge.reward($0, meanLogProbability: $1) }
        } else {
            rewardFunction = { _, mean in mean }
        }
    }

    /// Simulations re-open nodes anywhere in the tree.
    public var reopensHypotheses: Bool { true }

    /// Greedy roll-outs step through drafted trees.
    public var readsDraftedTrees: Bool { settings.rolloutBeams == 1 }

    /// Starts a search from the prompt.
    public func start(prompt: [Int32], maxNewTokens: Int, eosTokens: Set<Int32>, seed: UInt64) throws -> any FrontierSearch {
        let search = try TokenMCTS(simulations: settings.simulations, parallel: settings.parallel, branch: settings.branch,
                                   exploration: settings.exploration, rolloutBeams: settings.rolloutBeams, maxNewTokens: maxNewTokens, eosTokens: eosTokens, reward: rewardFunction)
        return Search(search: search, state: try search.start())
    }

    struct Search: FrontierSearch {
        let search: TokenMCTS
        var state: TokenMCTS.State

        var running: [[Int32]] { state.running }
        var isDone: Bool { state.isDone }
        var best: [Int32]? { state.finished.first?.tokens }
        var candidates: [FrontierCandidate] { state.finished }

        /// Advances every simulation by a token — a greedy roll-out by as many as its drafted tree
        /// holds of its greedy continuation (the pass scored their rows).
        mutating func advance(_ inputs: [StepValue]) throws -> [Int] {
            let scored = try BeamSearchOp.ScoredTrees(inputs)
            return try search.step(&state, logits: scored.trees.indices.map { try scored.row(0, of: $0) }) { hypothesis, row, token in
                guard let below = scored.row(below: row, of: hypothesis, token: token) else { return nil }
                return (below, try scored.row(below, of: hypothesis))
            }
        }
    }
}

