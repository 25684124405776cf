/// Proposes a token tree from continuations seen before, in three tiers: the current context
/// itself (prompt lookup), a per-run dynamic table, and the persistent store.
///
/// In each tier the longest suffix of the context (up to that tier's context length) that passes
/// the tier's gates is matched — longer matches predict better, the principle of llama.cpp's
/// lookup and of prompt-lookup decoding. Each matched context's continuation trie is then added to
/// the tree best-first by path share, skipping tokens that fail the gates: first every matching
/// tier gets an equal share of the `maxTokens` budget (so the context's guesses cannot crowd out
/// what the store knows), then the rest of the budget goes to the tiers in order. A path already
/// proposed is not proposed twice; it keeps the tag of the tier that proposed it first.
public struct NGramDrafter: Sendable {
    /// Most nodes in a proposed tree. 8 is the `tokens: 8` of the `draft.ngram` example in the
    /// design; verification cost grows with it, acceptance saturates.
    public var maxTokens: Int
    /// Longest path proposed. Prompt-lookup tier continuations are taken this long; the store
    /// tiers are limited by their own continuation length.
    public var maxDepth: Int
    /// Longest suffix matched in the current context (prompt lookup).
    public var contextLength: Int
    /// Most earlier occurrences of a suffix that prompt lookup counts, newest first. It bounds a
    /// draft step's cost on long contexts (a frequent token such as a newline recurs thousands of
    /// times; a drafter must stay far cheaper than a model forward) while keeping enough samples
    /// for every gate; 64 is an engineering choice, not a published constant.
    public var maxContextMatches: UInt32 = 64
    /// Whether the current context itself is searched (prompt lookup); off to see a store's
    /// proposals alone.
    public var usesPromptLookup = true
    /// Gates of the prompt-lookup tier.
    public var contextGates: DraftGates
    /// Gates of the dynamic tier.
    public var dynamicGates: DraftGates
    /// Gates of the persistent store tier.
    public var storeGates: DraftGates

    /// Creates a drafter.
    /// - Parameters:
    ///   - maxTokens: tree budget, at least 1.
    ///   - maxDepth: longest proposed path, at least 1.
    ///   - contextLength: longest suffix matched by prompt lookup, 1…8.
    ///   - contextGates: gates of the prompt-lookup tier.
    ///   - dynamicGates: gates of the dynamic tier.
    ///   - storeGates: gates of the store tier.
    public init(maxTokens: Int = 8, maxDepth: Int = 4, contextLength: Int = 4,
                contextGates: DraftGates = .lax, dynamicGates: DraftGates = .strict, storeGates: DraftGates = .strict) {
        self.maxTokens = max(1, maxTokens)
        self.maxDepth = min(max(1, maxDepth), TokenRun.capacity)
        self.contextLength = min(max(1, contextLength), TokenRun.capacity)
        self.contextGates = contextGates
        self.dynamicGates = dynamicGates
        self.storeGates = storeGates
    }

    /// Proposes a tree for what follows `context`.
    /// - Parameters:
    ///   - context: the tokens so far (prompt and accepted output).
    ///   - dynamic: the run's dynamic table, if any.
    ///   - store: the persistent store's index (an LMDB read transaction, a suffix array), if any.
    /// - Returns: the tree; empty when no tier passes its gates.
    /// - Throws: `NGramStoreError` when a store record is damaged.
    public func draft(context: [Int32], dynamic: NGramCounts? = nil,
                      store: (any ContinuationIndex)? = nil) throws -> DraftTree {
        try draft(context: context[...], dynamic: dynamic, store: store)
    }

    /// Proposes a tree for what follows `context` (a slice, so a replay need not copy its prefix).
    /// - Parameters:
    ///   - context: the tokens so far (prompt and accepted output).
    ///   - dynamic: the run's dynamic table, if any.
    ///   - store: the persistent store's index (an LMDB read transaction, a suffix array), if any.
    /// - Returns: the tree; empty when no tier passes its gates.
    /// - Throws: `NGramStoreError` when a store record is damaged.
    public func draft(context: ArraySlice<Int32>, dynamic: NGramCounts? = nil,
                      store: (any ContinuationIndex)? = nil) throws -> DraftTree {
        var matches: [(match: Match, gates: DraftGates, source: DraftTree.Source)] = []
        if usesPromptLookup, let match = promptLookup(context) { matches.append((match, contextGates, .context)) }
        if let dynamic, let match = longestMatch(context, upTo: dynamic.parameters.contextLength, gates: dynamicGates,
                                                 lookup: { dynamic.continuations(of: TokenRun($0)) }) {
            matches.append((match, dynamicGates, .dynamic))
        }
        // No suffix seen fewer times than every gate's minimum can pass.
        if let store, let match = try longestMatch(context, upTo: try store.longestSuffix(of: context, upTo: store.longestContext,
                                                                                            occurringAtLeast: storeGates.minSamples.min() ?? 1),
                                                   gates: storeGates,
                                                   lookup: { try store.continuations(of: $0, minimumShare: storeGates.share(forContextLength: $0.count)) }) {
            matches.append((match, storeGates, .store))
        }
        // Every matching tier first gets an equal share of the budget, so one tier's guesses cannot
        // crowd out another's (the context may repeat a wrong turn the store knows better); the rest
        // then goes to the tiers in order, each continuing its own best-first growth.
        var builder = TreeBuilder(budget: maxTokens, maxDepth: maxDepth)
        let share = max(1, maxTokens / max(1, matches.count))
        for m in matches { builder.add(m.match, gates: m.gates, source: m.source, upTo: min(maxTokens, builder.tree.count + share)) }
        for m in matches where !builder.isFull { builder.add(m.match, gates: m.gates, source: m.source, upTo: maxTokens) }
        return builder.tree
    }

    /// A matched context: its length and what followed it.
    struct Match {
        var length: Int
        var summary: ContinuationSummary
    }

    /// The longest suffix of `context` whose summary passes the gates at depth 1.
    func longestMatch(_ context: ArraySlice<Int32>, upTo longest: Int, gates: DraftGates,
                      lookup: (ArraySlice<Int32>) throws -> ContinuationSummary?) rethrows -> Match? {
        let top = min(longest, context.count)
        guard top >= 1 else { return nil }
        for n in stride(from: top, through: 1, by: -1) {
            guard let summary = try lookup(context[(context.endIndex - n)...]) else { continue }
            if passesRoot(summary, n: n, gates: gates) { return Match(length: n, summary: summary) }
        }
        return nil
    }

    /// Prompt lookup: the continuations that followed the most recent `maxContextMatches` earlier
    /// occurrences of the context's suffix, counted exactly.
    func promptLookup(_ context: ArraySlice<Int32>) -> Match? {
        let start = context.startIndex, end = context.endIndex
        let top = min(contextLength, context.count - 1)
        guard top >= 1 else { return nil }
        let last = context[end - 1]
        for n in stride(from: top, through: 1, by: -1) {
            var counts: [TokenRun: UInt32] = [:]
            var total: UInt32 = 0
            // An earlier occurrence ends at j (exclusive), j < end so something follows it;
            // newest first, as recent text predicts best.
            var j = end - 1
            while j >= start + n, total < maxContextMatches {
                defer { j -= 1 }
                guard context[j - 1] == last else { continue }
                var matches = true
                for k in 1..<n where context[j - 1 - k] != context[end - 1 - k] {
                    matches = false
                    break
                }
                guard matches else { continue }
                total += 1
                var prefix = TokenRun()
                for t in context[j..<min(j + maxDepth, end)] {
                    prefix.append(t)
                    counts[prefix, default: 0] += 1
                }
            }
            var summary = ContinuationSummary()
            summary.total = total
            summary.entries = counts.map { ContinuationSummary.Entry(tokens: $0.key, count: $0.value) }
            summary.normalize()
            if passesRoot(summary, n: n, gates: contextGates) { return Match(length: n, summary: summary) }
        }
        return nil
    }

    private func passesRoot(_ summary: ContinuationSummary, n: Int, gates: DraftGates) -> Bool {
        guard summary.total >= gates.samples(forContextLength: n) else { return false }
        let needed = gates.share(forContextLength: n) * Double(summary.total)
        return summary.entries.contains { $0.tokens.count == 1 && Double($0.count) >= needed }
    }

    /// Grows the tree best-first by path share within each tier's trie.
    struct TreeBuilder {
        let budget: Int
        let maxDepth: Int
        var tree = DraftTree()
        var index: [TokenRun: Int] = [:]

        init(budget: Int, maxDepth: Int) {
            self.budget = budget
            self.maxDepth = maxDepth
        }

        var isFull: Bool { tree.count >= budget }

        /// Adds the match's eligible nodes best-first until the tree holds `limit` nodes (nodes of the
        /// same path already in the tree are skipped, so a second call continues the first).
        mutating func add(_ match: Match, gates: DraftGates, source: DraftTree.Source, upTo limit: Int) {
            let n = match.length
            let total = match.summary.total
            guard total > 0 else { return }
            let minSamples = UInt32(gates.samples(forContextLength: n))
            let minShare = gates.share(forContextLength: n)
            // Count of each prefix in this tier (the parent of a depth-1 entry is the context).
            var countOf: [TokenRun: UInt32] = [:]
            for e in match.summary.entries { countOf[e.tokens] = e.count }
            // Eligible nodes: parent seen often enough and the step's conditional share high enough.
            var candidates = match.summary.entries.filter { e in
                guard e.tokens.count <= maxDepth else { return false }
                let parentCount = e.tokens.count == 1 ? total : (countOf[e.tokens.droppingLast] ?? 0)
                return parentCount >= minSamples && parentCount > 0
                    && Double(e.count) >= minShare * Double(parentCount)
            }
            // Best-first: the highest path share among candidates whose parent is already placed.
            while tree.count < min(limit, budget) {
                var best: Int?
                for (i, c) in candidates.enumerated() where index[c.tokens] == nil {
                    let parentPlaced = c.tokens.count == 1 || index[c.tokens.droppingLast] != nil
                    guard parentPlaced else { continue }
                    if best == nil || c.count > candidates[best!].count
                        || (c.count == candidates[best!].count && c.tokens < candidates[best!].tokens) { best = i }
                }
                guard let chosen = best else { break }
                let node = candidates.remove(at: chosen)
                let parent = node.tokens.count == 1 ? -1 : index[node.tokens.droppingLast]!
                index[node.tokens] = tree.count
                tree.append(token: node.tokens[node.tokens.count - 1], parent: parent, count: node.count,
                            share: Double(node.count) / Double(total), source: source)
            }
        }
    }
}
