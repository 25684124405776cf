/// What a verifier decided for one hypothesis: the accepted draft path plus one token of the
/// target's own.
public struct Verdict: Sendable, Equatable {
    /// Accepted node indices of the tree, root side first.
    public var acceptedNodes: [Int]
    /// The tokens of `acceptedNodes`.
    public var acceptedTokens: [Int32]
    /// The target's token after the accepted path (correction or bonus): every step commits at
    /// least this one token.
    public var nextToken: Int32
    /// The tree that was verified (its nodes carry their drafters' source tags), so the commit can
    /// tell each drafter what it proposed and what was accepted.
    public var tree: TokenTree

    /// Creates a verdict.
    /// - Parameters:
    ///   - acceptedNodes: accepted node indices, root side first.
    ///   - acceptedTokens: their tokens.
    ///   - nextToken: the target's own token after them.
    ///   - tree: the verified tree.
    public init(acceptedNodes: [Int], acceptedTokens: [Int32], nextToken: Int32, tree: TokenTree = TokenTree()) {
        self.acceptedNodes = acceptedNodes
        self.acceptedTokens = acceptedTokens
        self.nextToken = nextToken
        self.tree = tree
    }

    /// Everything the step commits: accepted tokens, then the target's own.
    public var tokens: [Int32] { acceptedTokens + [nextToken] }
}

extension TokenTree {
    /// Checks that a verifier got one row per position, each as wide as the vocabulary.
    func requireRows(_ rows: [[Float]], name: String) throws {
        guard rows.count == count + 1 else {
            throw OperatorError(.shapeMismatch, at: name, "\(rows.count) rows for a tree of \(count) nodes (expected \(count + 1))")
        }
        let width = rows[0].count
        guard width > 0, rows.allSatisfy({ $0.count == width }) else {
            throw OperatorError(.shapeMismatch, at: name, "rows must all have the vocabulary's (non-zero) width")
        }
        if let bad = nodes.firstIndex(where: { Int($0.token) >= width }) {
            throw OperatorError(.invalidTree, at: "node \(bad)", "token \(nodes[bad].token) is outside the vocabulary of \(width)")
        }
    }
}
