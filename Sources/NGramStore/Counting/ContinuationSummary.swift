/// What followed one context: how often the context occurred, and the counts of the continuation
/// prefixes seen after it (the next token, the next two tokens, …, up to the continuation length).
///
/// Every prefix is counted, not only whole continuations, so the entries form a trie whose node
/// counts a drafter reads directly: the count of `[a]` is how often `a` came next, the count of
/// `[a, b]` how often `a b` came next, and so on.
///
/// To keep a record small whatever the corpus, each depth keeps at most `countersPerDepth`
/// counters with the Misra–Gries frequent-items summary (J. Misra, D. Gries, "Finding repeated
/// elements", 1982), merged as in P. Agarwal et al., "Mergeable summaries" (PODS 2012): a prefix
/// whose share at its depth exceeds `1 / (countersPerDepth + 1)` is never lost, and a stored count
/// underestimates the true one by at most `total / (countersPerDepth + 1)`. Shares computed from
/// the summary are therefore lower bounds, which is the safe direction for a drafter's gates.
public struct ContinuationSummary: Sendable, Equatable {
    /// One counted continuation prefix.
    public struct Entry: Sendable, Equatable {
        /// The continuation tokens (1…continuation length).
        public var tokens: TokenRun
        /// How often they followed the context (a lower bound, see the type's documentation).
        public var count: UInt32
    }

    /// How often the context occurred (exact, saturating at `UInt32.max`).
    public internal(set) var total: UInt32 = 0
    /// The counted prefixes, in no particular order until `normalize()` sorts them.
    public internal(set) var entries: [Entry] = []

    /// Creates an empty summary.
    public init() {}

    /// Records one occurrence of the context followed by `continuation`.
    ///
    /// Counts every prefix of `continuation`; a prefix that is not yet counted at a full depth
    /// applies the Misra–Gries decrement to that depth instead of being inserted.
    /// - Parameters:
    ///   - continuation: the tokens that followed (may be empty at the end of a text).
    ///   - countersPerDepth: the summary's capacity per depth.
    mutating func record(_ continuation: TokenRun, countersPerDepth: Int) {
        total = total &+ (total == .max ? 0 : 1)
        guard !continuation.isEmpty else { return }
        // A new context gets one entry per prefix at once: one allocation instead of three.
        if entries.isEmpty { entries.reserveCapacity(continuation.count) }
        var prefix = TokenRun()
        for token in continuation {
            prefix.append(token)
            increment(prefix, countersPerDepth: countersPerDepth)
        }
    }

    private mutating func increment(_ prefix: TokenRun, countersPerDepth: Int) {
        var atDepth = 0
        for i in entries.indices where entries[i].tokens.count == prefix.count {
            if entries[i].tokens == prefix {
                if entries[i].count < .max { entries[i].count += 1 }
                return
            }
            atDepth += 1
        }
        if atDepth < countersPerDepth {
            entries.append(Entry(tokens: prefix, count: 1))
            return
        }
        // Misra–Gries: the unseen item and one occurrence of each counted item cancel out.
        for i in entries.indices where entries[i].tokens.count == prefix.count { entries[i].count -= 1 }
        entries.removeAll { $0.count == 0 }
    }

    /// Adds another summary of the same context (merging two stores or a batch into a store).
    /// - Parameters:
    ///   - other: the summary to add.
    ///   - countersPerDepth: the capacity per depth of the result.
    mutating func merge(_ other: ContinuationSummary, countersPerDepth: Int) {
        let sum = UInt64(total) + UInt64(other.total)
        total = UInt32(min(sum, UInt64(UInt32.max)))
        for e in other.entries {
            if let i = entries.firstIndex(where: { $0.tokens == e.tokens }) {
                entries[i].count = UInt32(min(UInt64(entries[i].count) + UInt64(e.count), UInt64(UInt32.max)))
            } else {
                entries.append(e)
            }
        }
        prune(countersPerDepth: countersPerDepth)
    }

    /// Keeps at most `countersPerDepth` counters per depth: subtracts the `(k+1)`-th largest count
    /// of each over-full depth from that depth's counters and drops those left at zero (the merge
    /// step of Agarwal et al.), then sorts.
    mutating func prune(countersPerDepth: Int) {
        // Most records are far below capacity: count entries per depth without allocating first.
        var perDepth = (0, 0, 0, 0, 0, 0, 0, 0)
        var overfull = false
        withUnsafeMutableBytes(of: &perDepth) { raw in
            let counts = raw.bindMemory(to: Int.self)
            for e in entries {
                counts[e.tokens.count - 1] += 1
                if counts[e.tokens.count - 1] > countersPerDepth { overfull = true }
            }
        }
        if overfull {
            for depth in Set(entries.map(\.tokens.count)) {
                let counts = entries.filter { $0.tokens.count == depth }.map(\.count).sorted(by: >)
                guard counts.count > countersPerDepth else { continue }
                let cut = counts[countersPerDepth]
                for i in entries.indices where entries[i].tokens.count == depth { entries[i].count -= min(cut, entries[i].count) }
            }
            entries.removeAll { $0.count == 0 }
        }
        normalize()
    }

    /// Sorts entries by depth, then by descending count, then by tokens: the stored order, so
    /// equal summaries encode to equal bytes.
    mutating func normalize() {
        entries.sort { a, b in
            if a.tokens.count != b.tokens.count { return a.tokens.count < b.tokens.count }
            if a.count != b.count { return a.count > b.count }
            return a.tokens < b.tokens
        }
    }

    /// The count of one continuation prefix.
    /// - Parameter tokens: the prefix.
    /// - Returns: its count, 0 when it is not among the counters.
    public func count(of tokens: TokenRun) -> UInt32 {
        entries.first { $0.tokens == tokens }?.count ?? 0
    }
}
