import Graph

/// What a search that re-opens hypotheses from earlier steps (`search.lattice`, `search.mcts`)
/// asks of its graph. The engine forks a re-opened hypothesis from the running one that shares the
/// longest prefix and the scorer refills the KV cache from there. A constraint's parser follows
/// (it syncs with each step's history, rolling back to the common prefix), and so do the drafters
/// that read the whole context each step (`draft.lookup`, `draft.suffix`: their one state, the
/// length policy, is not tied to a path); other per-hypothesis state (a draft model's cache,
/// contrastive search's context states) or a previous-step value could not follow that jump, so
/// such graphs are refused — by the compiler, through the search op's validation, and by the
/// session, both with this check.
public enum ReopeningSearch {
    /// For each next hypothesis, the current one sharing the longest prefix with it (the first
    /// among equals): the one the engine forks it from, so the KV cache keeps that prefix.
    /// - Parameters:
    ///   - next: the next frontier's tokens.
    ///   - current: the current frontier's tokens.
    /// - Returns: indices into `current`.
    static func parents(of next: [[Int32]], in current: [[Int32]]) -> [Int] {
        func shared(_ a: [Int32], _ b: [Int32]) -> Int { zip(a, b).prefix { $0 == $1 }.count }
        return next.map { tokens in current.indices.max { shared(current[$0], tokens) < shared(current[$1], tokens) } ?? 0 }
    }

    /// Refuses a graph whose nodes keep per-hypothesis state that cannot follow a jump or read the
    /// previous step.
    /// - Parameters:
    ///   - plan: the plan.
    ///   - search: the name and op of the re-opening search node.
    ///   - drafts: whether the search steps through drafted trees (`search.mcts`'s greedy
    ///     roll-outs); other re-opening searches read root rows only and refuse drafters.
    /// - Throws: `OperatorError.invalidParameter` naming the first such node.
    public static func check(_ plan: Plan, search: String, drafts: Bool = false) throws {
        if !drafts { try requireRootRows(plan, search: search) }
        for node in plan.nodes {
            let reason: String
            if node.inputs.contains(where: { $0.timing == .previousStep }) {
                reason = "reads the previous step"
            } else if let type = OperatorRegistry.operatorType(named: node.op) as? any HypothesisOperator.Type,
                      type.keepsHypothesisState, !type.stateFollowsHistory {
                reason = "keeps per-hypothesis state"
            } else {
                continue
            }
            throw OperatorError(.invalidParameter, at: "from",
                                "node '\(node.name)' (\(node.op)) \(reason), which \(search) cannot carry when it re-opens a hypothesis from an earlier step")
        }
    }

    /// Refuses drafters in a graph whose search reads only each hypothesis's root row (every search
    /// but `search.beam` and `search.sample`'s verified steps): the target would score their trees
    /// for nothing.
    /// - Parameters:
    ///   - plan: the plan.
    ///   - search: the name and op of the search node.
    /// - Throws: `OperatorError.invalidParameter` naming the first drafter.
    public static func requireRootRows(_ plan: Plan, search: String) throws {
        guard let drafter = plan.nodes.first(where: { OperatorRegistry.operatorType(named: $0.op)?.spec.family == .propose }) else { return }
        throw OperatorError(.invalidParameter, at: "from",
                            "node '\(drafter.name)' (\(drafter.op)) drafts a tree, and \(search) reads only each hypothesis's root row, so the target would score the tree for nothing; drafts compose with search.beam (several beam steps per pass), search.sample's verified steps and search.mcts's greedy roll-outs")
    }
}
