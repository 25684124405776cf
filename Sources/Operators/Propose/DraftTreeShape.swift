/// A draft model's tree of candidates chosen each step by OPT-Tree (Wang et al. 2024, "OPT-Tree:
/// Speculative Decoding with Adaptive Draft Tree Structure"): the tree of at most `budget` nodes
/// that maximises the expected number of accepted tokens, estimated as the sum over nodes of the
/// product of draft probabilities along the node's path.
///
/// The tree grows a layer per draft pass: every node of the newest layer proposes its `budget` most
/// probable children, and the `budget` best nodes of the tree and the candidates together are kept
/// (a child's value never exceeds its parent's, so the kept set is a tree). Growth stops when no
/// candidate makes the cut, when the sum stops growing, or at `depth` layers. The kept set is then
/// the global optimum over trees of that depth: every node of the best `budget` has its parent
/// among them, so the layer expansion reaches it.
///
/// On a CPU every node is a row of the verification pass, so `rowCost` (the cost of one more row
/// relative to a one-row step, e.g. 0.05 when verifying 8 tokens costs 1.4 single steps) trims the
/// tree to the prefix, in value order, that maximises (1 + Σ values) / (1 + rowCost · nodes):
/// expected tokens per unit of verification cost. 0 keeps the paper's fixed budget.
///
/// With an `acceptance` vector the tree is Sequoia's instead (Chen et al. 2024, "Sequoia:
/// Scalable, Robust, and Hardware-aware Speculative Decoding"): under its positional-acceptance
/// assumption the chance that a node's k-th most probable child is the target's token is q_k,
/// whatever the context, so a node's value is the product of q over the ranks on its path and the
/// best tree of `budget` nodes is the same every step — the static tree Sequoia's dynamic
/// programme finds, reached here by the same best-first growth (values depend on ranks only). Each
/// step the draft model fills it in: the rank-k child of a node is its k-th most probable token.
struct DraftTreeShape: Sendable, Equatable {
    /// Most nodes.
    let budget: Int
    /// Most layers.
    let depth: Int
    /// One more verification row's cost against a one-row step.
    let rowCost: Double
    /// Sequoia's q_k, the share of positions where the target's token is the draft's k-th most
    /// probable (k = 1…): the node values of a static tree; `nil` for OPT-Tree's draft probabilities.
    var acceptance: [Double]? = nil

    /// One candidate node: its parent (an index into the candidate list, −1 the root), token,
    /// conditional draft probability and path value.
    struct Node: Equatable {
        var parent: Int
        var token: Int32
        var probability: Float
        var value: Double
        var depth: Int
    }

    /// The kept nodes' indices into `nodes`: the `limit` best by value, parents before children
    /// (a parent's value is at least its child's; among equals the shallower, then the earlier).
    static func best(_ nodes: [Node], _ limit: Int) -> [Int] {
        let order = nodes.indices.sorted {
            (nodes[$0].value, -nodes[$0].depth, -$0) > (nodes[$1].value, -nodes[$1].depth, -$1)
        }
        return Array(order.prefix(limit))
    }

    /// Grows the tree.
    /// - Parameter next: the drafter's distributions: given the candidate nodes so far and the
    ///   indices of the newest layer, the (shaped) next-token probabilities after each of those
    ///   nodes (index −1: after the context).
    /// - Returns: the candidate list and the kept indices, in value order.
    /// - Throws: what `next` throws.
    func grow(_ next: (_ nodes: [Node], _ layer: [Int]) throws -> [[Float]]) throws -> (nodes: [Node], kept: [Int]) {
        var nodes: [Node] = []
        var kept: [Int] = []
        var layer = [-1]
        for d in 1...depth {
            let distributions = try next(nodes, layer)
            let start = nodes.count
            for (parent, probabilities) in zip(layer, distributions) {
                let base = parent < 0 ? 1 : nodes[parent].value
                let ranked = Distribution.topIndices(probabilities, min(budget, acceptance?.count ?? budget))
                for (rank, token) in ranked.enumerated() where probabilities[token] > 0 {
                    let weight = acceptance.map { $0[rank] } ?? Double(probabilities[token])
                    nodes.append(Node(parent: parent, token: Int32(token), probability: probabilities[token],
                                      value: base * weight, depth: d))
                }
            }
            let candidates = kept + Array(start..<nodes.count)
            let chosen = Self.best(candidates.map { nodes[$0] }, budget).map { candidates[$0] }
            let total = { (set: [Int]) in set.reduce(0.0) { $0 + nodes[$1].value } }
            layer = chosen.filter { $0 >= start }
            guard !layer.isEmpty, total(chosen) > total(kept) else { break }
            kept = chosen
        }
        kept = Self.best(kept.map { nodes[$0] }, kept.count).map { kept[$0] }
        return (nodes, kept)
    }

    /// How many of the kept nodes (in value order) to propose under `rowCost`.
    func trimmed(_ values: [Double]) -> Int {
        guard rowCost > 0, !values.isEmpty else { return values.count }
        var best = (ratio: 1.0, count: 0), sum = 0.0
        for (i, v) in values.enumerated() {
            sum += v
            let ratio = (1 + sum) / (1 + rowCost * Double(i + 1))
            if ratio > best.ratio { best = (ratio, i + 1) }
        }
        return best.count
    }

    /// The tree to propose: the kept nodes, trimmed, parents first.
    /// - Parameters:
    ///   - nodes: the candidate list.
    ///   - kept: the kept indices in value order.
    ///   - source: the drafter's tag.
    /// - Returns: the token tree (each node's draft probability its conditional probability).
    /// - Throws: `OperatorError.invalidTree` never for a kept set (parents are kept before children).
    func tree(_ nodes: [Node], kept: [Int], source: String) throws -> TokenTree {
        let chosen = Array(kept.prefix(trimmed(kept.map { nodes[$0].value })))
        var index: [Int: Int] = [:]
        var tree = TokenTree()
        for n in chosen.sorted(by: { (nodes[$0].depth, $0) < (nodes[$1].depth, $1) }) {
            let parent = nodes[n].parent < 0 ? TokenTree.root : index[nodes[n].parent]!
            index[n] = try tree.append(nodes[n].token, parent: parent, draftProbability: nodes[n].probability, source: source)
        }
        return tree
    }
}

/// Sequoia's static tree, read without a model: its expected tokens per step for a measured
/// acceptance vector (what `decograph bench acceptance` prints per node budget).
public enum SequoiaTree {
    /// The expected tokens one step commits with the static tree of at most `nodes` nodes and
    /// `depth` layers: 1 (the target's own token) + Σ over the tree's nodes of ∏ q along the path.
    /// - Parameters:
    ///   - acceptance: q_k for ranks k = 1….
    ///   - nodes: the node budget.
    ///   - depth: most layers.
    /// - Returns: the expectation and the tree's node count.
    public static func expectedTokens(acceptance: [Double], nodes: Int, depth: Int) -> (tokens: Double, nodes: Int) {
        guard !acceptance.isEmpty, nodes > 0, depth > 0 else { return (1, 0) }
        let shape = DraftTreeShape(budget: nodes, depth: depth, rowCost: 0, acceptance: acceptance)
        // Any distribution whose ranks are its order: the values depend on ranks only.
        let ranked = acceptance.indices.map { Float(acceptance.count - $0) }
        guard let grown = try? shape.grow({ _, layer in layer.map { _ in ranked } }) else { return (1, 0) }
        return (1 + grown.kept.reduce(0.0) { $0 + grown.nodes[$1].value }, grown.kept.count)
    }
}
