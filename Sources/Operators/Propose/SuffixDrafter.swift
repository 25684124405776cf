/// SuffixDecoding's drafting (Oliaro et al. 2025, "SuffixDecoding: Extreme Speculative Decoding for
/// Emerging AI Applications"), over token sequences rather than a materialised suffix tree: the
/// longest suffix of the context (up to `maxDepth` tokens) that occurs earlier in the context or
/// in an earlier output, the continuations of every such occurrence merged into a tree whose nodes
/// count how many occurrences continue through them, and the tree grown best-first by empirical
/// path probability (count / count of the match) up to a budget proportional to the match length —
/// a long match earns a long speculation, a short one a short one.
struct SuffixDrafter: Sendable {
    /// Longest suffix matched.
    let maxDepth: Int
    /// Shortest match that drafts.
    let minMatch: Int
    /// Draft tokens per matched token (the budget is `factor × match length`, capped by `maxTokens`).
    let factor: Double
    /// Most draft tokens.
    let maxTokens: Int
    /// Continuations whose empirical probability is below this are not proposed.
    let minProbability: Double
    /// Source tag of the proposals.
    let source: String

    /// Where the context's suffix matches a corpus, and how long the match is.
    struct Match {
        var length = 0
        /// Per corpus, the positions just after each occurrence of the longest match.
        var continuations: [(corpus: Int, start: Int)] = []
    }

    /// The longest suffix of `context` (at most `maxDepth`) that ends before the context's own end
    /// in `corpora[0]` (the context itself) or anywhere in the others, with every occurrence of it.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - corpora: the sequences searched; the first is the context, searched before its last token.
    /// - Returns: the match (length 0 when the last token never occurred).
    func longestMatch(of context: [Int32], in corpora: [[Int32]]) -> Match {
        guard let last = context.last else { return Match() }
        var best = Match()
        for (c, corpus) in corpora.enumerated() {
            // In the context itself an occurrence must end before the final token.
            let end = c == 0 ? corpus.count - 1 : corpus.count
            for i in 0..<max(0, end) where corpus[i] == last {
                var length = 1
                while length < maxDepth, i - length >= 0, context.count - 1 - length >= 0,
                      corpus[i - length] == context[context.count - 1 - length] {
                    length += 1
                }
                // A continuation needs at least one token after the occurrence.
                guard i + 1 < corpus.count else { continue }
                if length > best.length {
                    best = Match(length: length, continuations: [(c, i + 1)])
                } else if length == best.length {
                    best.continuations.append((c, i + 1))
                }
            }
        }
        return best
    }

    /// The draft tree after `context`, from the context and `earlier` outputs.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - earlier: earlier outputs of the session, most recent last.
    ///   - limit: a length policy's current cap below `maxTokens`, if any.
    /// - Returns: the tree, empty when no match of `minMatch` tokens exists.
    func draft(context: [Int32], earlier: [[Int32]], limit: Int? = nil) throws -> TokenTree {
        // A gated step (`schedule: optimal` drafting nothing) skips the match.
        if limit == 0 { return TokenTree() }
        let corpora = [context] + earlier
        let match = longestMatch(of: context, in: corpora)
        guard match.length >= minMatch, !match.continuations.isEmpty else { return TokenTree() }
        let budget = min(limit ?? maxTokens, maxTokens, max(1, Int((factor * Double(match.length)).rounded(.down))))
        // The continuation trie: node → (token, count, children), root = index 0.
        var tokens: [Int32] = [-1], counts = [match.continuations.count], children: [[Int]] = [[]]
        for (c, start) in match.continuations {
            let corpus = corpora[c]
            var node = 0
            for position in start..<min(corpus.count, start + budget) {
                let token = corpus[position]
                if let child = children[node].first(where: { tokens[$0] == token }) {
                    counts[child] += 1
                    node = child
                } else {
                    tokens.append(token)
                    counts.append(1)
                    children.append([])
                    children[node].append(tokens.count - 1)
                    node = tokens.count - 1
                }
            }
        }
        // Best-first by path probability (count / occurrences), ties to the earlier-inserted node.
        let total = Double(match.continuations.count)
        var tree = TokenTree()
        var frontier: [(trie: Int, parent: Int)] = children[0].map { ($0, TokenTree.root) }
        while tree.count < budget, !frontier.isEmpty {
            let pick = frontier.indices.max { Double(counts[frontier[$0].trie]) < Double(counts[frontier[$1].trie]) || (counts[frontier[$0].trie] == counts[frontier[$1].trie] && frontier[$0].trie > frontier[$1].trie) }!
            let (trie, parent) = frontier.remove(at: pick)
            guard Double(counts[trie]) / total >= minProbability else { continue }
            let index = try tree.append(tokens[trie], parent: parent, source: source)
            frontier += children[trie].map { ($0, index) }
        }
        return tree
    }
}
