/// Greedy tree verification: accept the longest root-to-node path whose every token is the
/// target's argmax at the position before it, then append the target's argmax after the path.
///
/// The committed tokens are exactly those plain greedy decoding would produce, whatever the tree
/// holds: the lossless guarantee every speculative graph relies on.
public enum GreedyVerifier {
    /// Verifies a scored tree.
    ///
    /// When several siblings carry the target's token (a tree merged without deduplication), the
    /// one whose subtree accepts the most tokens wins, earliest index first on ties.
    /// - Parameters:
    ///   - tree: the proposed tree.
    ///   - rows: `tree.count + 1` rows of logits, processed logits or distributions (argmax is
    ///     taken per row; row 0 is the root).
    /// - Returns: the accepted path and the target's next token.
    /// - Throws: `OperatorError.shapeMismatch` when `rows` does not match the tree;
    ///   `OperatorError.invalidDistribution` naming the position of a row with a NaN or `+inf`
    ///   entry or no allowed token.
    public static func verify(tree: TokenTree, rows: [[Float]]) throws -> Verdict {
        try tree.requireRows(rows, name: "rows")
        let choice = try rows.enumerated().map { position, row in
            do {
                return Int32(try Distribution.argmax(row))
            } catch var error as OperatorError {
                error.location = "position \(position)"
                throw error
            }
        }
        let children = tree.childLists()
        // Longest accepted chain below each position, computed leaves-first (children follow parents).
        var best = [Int](repeating: TokenTree.root, count: tree.count + 1)  // best accepted child per position
        var length = [Int](repeating: 0, count: tree.count + 1)
        for position in stride(from: tree.count, through: 0, by: -1) {
            for child in children[position] where tree.nodes[child].token == choice[position] {
                if best[position] == TokenTree.root || length[child + 1] + 1 > length[position] {
                    best[position] = child
                    length[position] = length[child + 1] + 1
                }
            }
        }
        var accepted: [Int] = []
        var position = 0
        while best[position] != TokenTree.root {
            accepted.append(best[position])
            position = best[position] + 1
        }
        return Verdict(acceptedNodes: accepted, acceptedTokens: accepted.map { tree.nodes[$0].token },
                       nextToken: choice[position], tree: tree)
    }
}
