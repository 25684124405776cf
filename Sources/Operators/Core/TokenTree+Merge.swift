extension TokenTree {
    /// How `merged(_:budget:rule:)` deduplicates, chosen so that speculative sampling over the result
    /// stays exact.
    ///
    /// Exactness argument (recursive rejection sampling, Miao et al. 2024, SpecInfer §4): at each
    /// sibling slot the verifier needs the proposed token to be a draw from the node's draft
    /// distribution *conditional on everything that decided the node is in the tree*. A
    /// deterministic proposal (no draft distribution) is fixed given the drafts, so any rule may
    /// merge or drop it. A sampled node may be kept or dropped only by a rule that does not look at
    /// its own token — otherwise "kept" would select some tokens more than others.
    public enum MergeRule: String, Sendable, CaseIterable {
        /// Deterministic nodes with the same parent and token merge (their support adds up);
        /// sampled nodes never merge and are ranked by their parent's score, never their own
        /// probability. Sampled tokens keep their draft distributions, so acceptance stays
        /// `Σ min(p, q)` per slot. The default.
        case preserveSamples = "preserve-samples"
        /// Every node with the same parent and token merges, and all nodes become deterministic
        /// (draft distributions dropped, probabilities kept for ranking). Exact under any
        /// verifier, because given the drafts the tree is fixed; sampled drafts then accept at the
        /// lower one-hot rate `Σ q·p`. The natural choice when the verifier is greedy.
        case deduplicateAll = "deduplicate-all"
    }

    /// Merges several drafters' trees into one deduplicated tree of at most `budget` nodes.
    ///
    /// Ranking rule, applied after deduplication: a node's *support* is the number of input trees
    /// that proposed its path (only merged nodes exceed 1); its *path score* is the product of
    /// `draftProbability` along its path (a missing probability counts as 1: a retrieval match is
    /// as sure as its drafter says). Nodes are kept in order of support (descending), then score
    /// (descending), then depth (ascending), then first arrival (input tree order, then node
    /// order). Under `.preserveSamples` a sampled node's score is its parent's path score (see
    /// `MergeRule`). Each key is non-increasing from parent to child and ties fall to the shallower
    /// node, so the first `budget` nodes always include every kept node's parent: the result is a
    /// tree without repair.
    /// - Parameters:
    ///   - trees: the proposals, in priority order (earlier trees win ties).
    ///   - budget: the most nodes the target may score in one pass.
    ///   - rule: the deduplication rule.
    /// - Returns: the merged tree, nodes in topological order.
    /// - Throws: `OperatorError.invalidParameter` for a negative budget.
    public static func merged(_ trees: [TokenTree], budget: Int, rule: MergeRule = .preserveSamples) throws -> TokenTree {
        try OperatorError.require("budget", budget, in: 0..., "≥ 0")
        struct Key: Hashable { var parent: Int; var token: Int32 }
        var merged: [Node] = []
        var support: [Int] = []
        var lastContributor: [Int] = []  // support counts trees, not duplicate siblings within one tree
        var index: [Key: Int] = [:]
        for (treeIndex, tree) in trees.enumerated() {
            var mapped = [Int](repeating: TokenTree.root, count: tree.count)
            for (i, node) in tree.nodes.enumerated() {
                let parent = node.parent == TokenTree.root ? TokenTree.root : mapped[node.parent]
                let key = Key(parent: parent, token: node.token)
                let mergeable = rule == .deduplicateAll || !node.isSampled
                if mergeable, let existing = index[key] {
                    if lastContributor[existing] != treeIndex {
                        support[existing] += 1
                        lastContributor[existing] = treeIndex
                    }
                    if let p = node.draftProbability {
                        merged[existing].draftProbability = max(merged[existing].draftProbability ?? 0, p)
                    }
                    mapped[i] = existing
                    continue
                }
                var copy = node
                copy.parent = parent
                if rule == .deduplicateAll { copy.draftDistribution = nil }
                mapped[i] = merged.count
                if mergeable { index[key] = merged.count }
                merged.append(copy)
                support.append(1)
                lastContributor.append(treeIndex)
            }
        }
        if merged.count <= budget { return TokenTree(trusted: merged) }

        // Path scores after all merges: a parent's probability may have risen after its children arrived.
        var pathScore = [Double](repeating: 1, count: merged.count)
        var rankScore = pathScore
        for (i, node) in merged.enumerated() {
            let parentScore = node.parent == TokenTree.root ? 1 : pathScore[node.parent]
            pathScore[i] = parentScore * Double(node.draftProbability ?? 1)
            rankScore[i] = node.isSampled ? parentScore : pathScore[i]
        }
        let order = merged.indices.sorted { a, b in
            if support[a] != support[b] { return support[a] > support[b] }
            if rankScore[a] != rankScore[b] { return rankScore[a] > rankScore[b] }
            if merged[a].depth != merged[b].depth { return merged[a].depth < merged[b].depth }
            return a < b
        }
        let kept = Set(order.prefix(budget))
        var newIndex = [Int](repeating: TokenTree.root, count: merged.count)
        var result: [Node] = []
        for (i, node) in merged.enumerated() where kept.contains(i) {
            var copy = node
            copy.parent = node.parent == TokenTree.root ? TokenTree.root : newIndex[node.parent]
            newIndex[i] = result.count
            result.append(copy)
        }
        return TokenTree(trusted: result)
    }
}
