extension TokenTree {
    /// Appends token sequences below `parent` as a trie: sequences that share a prefix share its
    /// nodes (among those this call appends), as pool drafters propose them (Lookahead's
    /// verification branch, Ouroboros's phrases, ADED's searched paths). The nodes are
    /// deterministic.
    /// - Parameters:
    ///   - sequences: the continuations, in priority order.
    ///   - probabilities: per sequence, the drafter's probability of each token after the one
    ///     before it (how `tree.merge` ranks deterministic nodes); a shared prefix keeps the first
    ///     sequence's.
    ///   - parent: the node they continue, or `TokenTree.root`.
    ///   - source: the drafter's tag.
    ///   - budget: the most nodes to append, less what this call appends; a sequence is cut where
    ///     it runs out.
    /// - Throws: `OperatorError.invalidTree` for a parent that does not exist or a negative token.
    mutating func appendTrie(_ sequences: [[Int32]], probabilities: [[Float]]? = nil, below parent: Int, source: String,
                             budget: inout Int) throws {
        var children: [Int: [Int32: Int]] = [:]
        for (s, sequence) in sequences.enumerated() {
            var at = parent
            for (position, token) in sequence.enumerated() {
                if let existing = children[at]?[token] {
                    at = existing
                    continue
                }
                guard budget > 0 else { break }
                let node = try append(token, parent: at, draftProbability: probabilities?[s][position], source: source)
                children[at, default: [:]][token] = node
                budget -= 1
                at = node
            }
        }
    }
}
