/// Lossless speculative sampling over a token tree: the tokens it commits are distributed exactly as
/// if sampled one by one from the target.
///
/// Chains are speculative sampling (Leviathan et al. 2023, Algorithm 1; Chen et al. 2023): the draft
/// token x ~ q is accepted with probability min(1, p(x)/q(x)); on rejection the target's token is
/// drawn from the residual norm(max(0, p − q)). Trees use recursive rejection sampling over
/// siblings (SpecInfer, Miao et al. 2024, Algorithm 2): siblings are tried in turn against a
/// residual that each rejection updates, and an accepted sibling moves verification one level
/// down with that node's target distribution.
///
/// A node without a draft distribution is a deterministic proposal (prompt lookup, retrieval) and
/// is treated as a one-hot draft: accepted with probability r(x), and on rejection r(x) is zeroed
/// and r renormalised. Within each sibling group sampled nodes are tried first, then deterministic
/// ones, each in index order; the order depends only on node kinds, never on sampled tokens, which
/// the exactness argument needs (see `TokenTree.MergeRule`).
public enum SpeculativeVerifier {
    /// Verifies a scored tree.
    /// - Parameters:
    ///   - tree: the proposed tree; sampled nodes carry the distribution they were drawn from.
    ///   - targetDistributions: `tree.count + 1` target distributions after shaping (row 0 is the
    ///     root), e.g. from `LogitsPipeline.distributions(treeLogits:context:tree:)`.
    ///   - rng: the seeded generator.
    /// - Returns: the accepted path and the target's next token.
    /// - Throws: `OperatorError.shapeMismatch` for rows that do not match the tree or a draft
    ///   distribution of the wrong width; `OperatorError.invalidDistribution` for a target row
    ///   without mass.
    public static func verify<R: RandomNumberGenerator>(tree: TokenTree, targetDistributions: [[Float]],
                                                        using rng: inout R) throws -> Verdict {
        try tree.requireRows(targetDistributions, name: "targetDistributions")
        let width = targetDistributions[0].count
        let children = tree.childLists()
        var accepted: [Int] = []
        var position = 0
        var residual = try normalised(targetDistributions[0].map(Double.init), at: 0)
        descent: while true {
            let group = children[position]
            for child in group.filter({ tree.nodes[$0].isSampled }) + group.filter({ !tree.nodes[$0].isSampled }) {
                let node = tree.nodes[child]
                let x = Int(node.token)
                let u = Distribution.unitDouble(using: &rng)
                if let q = node.draftDistribution {
                    guard q.count == width else {
                        throw OperatorError(.shapeMismatch, at: "node \(child)", "draft distribution has \(q.count) entries for a vocabulary of \(width)")
                    }
                    let draft = q.map(Double.init)
                    let total = draft.reduce(0, +)
                    let qx = draft[x] / total  // > 0: TokenTree checks sampled tokens had mass.
                    if u * qx < residual[x] {
                        try accept(child)
                        continue descent
                    }
                    subtract(draft.map { $0 / total }, from: &residual)
                } else {
                    if u < residual[x] {
                        try accept(child)
                        continue descent
                    }
                    var oneHot = [Double](repeating: 0, count: width)
                    oneHot[x] = 1
                    subtract(oneHot, from: &residual)
                }
            }
            break
        }
        let next = Int32(try Distribution.sample(residual, using: &rng))
        return Verdict(acceptedNodes: accepted, acceptedTokens: accepted.map { tree.nodes[$0].token }, nextToken: next, tree: tree)

        func accept(_ child: Int) throws {
            accepted.append(child)
            position = child + 1
            residual = try normalised(targetDistributions[position].map(Double.init), at: position)
        }
    }

    /// r ← norm(max(0, r − q)). When rounding leaves no mass — possible only when r ≤ q
    /// everywhere, i.e. r = q up to rounding, where a rejection had probability zero — r is kept.
    private static func subtract(_ q: [Double], from residual: inout [Double]) {
        var updated = residual
        var total = 0.0
        for i in updated.indices {
            updated[i] = max(0, residual[i] - q[i])
            total += updated[i]
        }
        guard total > 0 else { return }
        for i in updated.indices { updated[i] /= total }
        residual = updated
    }

    private static func normalised(_ p: [Double], at position: Int) throws -> [Double] {
        let total = p.reduce(0, +)
        guard total > 0, total.isFinite, p.allSatisfy({ $0 >= 0 }) else {
            throw OperatorError(.invalidDistribution, at: "position \(position)", "target distribution has no mass or negative entries")
        }
        return p.map { $0 / total }
    }
}
