/// An in-memory table of n-gram contexts and what followed them: a write batch for a store, and
/// the per-run dynamic tier of the drafter.
///
/// Not thread-safe (a value type); a run owns its own table.
public struct NGramCounts: Sendable {
    /// What is counted.
    public let parameters: NGramParameters
    /// Context → continuation summary.
    public private(set) var table: [TokenRun: ContinuationSummary] = [:]
    /// Tokens learned into this table.
    public private(set) var tokensLearned: UInt64 = 0

    /// Creates an empty table.
    /// - Parameters:
    ///   - parameters: context and continuation lengths and summary size.
    ///   - capacity: contexts to reserve room for (a batch's size avoids rehashing as it fills).
    public init(parameters: NGramParameters = NGramParameters(), capacity: Int = 0) {
        self.parameters = parameters
        table.reserveCapacity(capacity)
    }

    /// Number of distinct contexts (all lengths).
    public var contextCount: Int { table.count }

    /// Counts every context of length `1…contextLength` in `tokens` with the continuation that
    /// followed it. `tokens` is one whole text: contexts never span two calls.
    /// - Parameter tokens: the token ids of a text.
    public mutating func learn<C: RandomAccessCollection>(_ tokens: C) where C.Element == Int32, C.Index == Int {
        let n = parameters.contextLength, m = parameters.continuationLength, k = parameters.countersPerDepth
        let start = tokens.startIndex, end = tokens.endIndex
        guard end - start >= 2 else {
            tokensLearned += UInt64(end - start)
            return
        }
        // Position i is where a continuation starts; the context is the n tokens before it.
        for i in (start + 1)..<end {
            var continuation = TokenRun()
            for j in i..<min(i + m, end) { continuation.append(tokens[j]) }
            for length in 1...min(n, i - start) {
                let context = TokenRun(tokens[(i - length)..<i])
                table[context, default: ContinuationSummary()].record(continuation, countersPerDepth: k)
            }
        }
        tokensLearned += UInt64(end - start)
    }

    /// What followed a context.
    /// - Parameter context: the context (1…contextLength tokens).
    /// - Returns: its summary, or `nil` when it was never seen.
    public func continuations(of context: TokenRun) -> ContinuationSummary? { table[context] }

    /// Adds a summary for a context (used when merging stores).
    mutating func merge(_ summary: ContinuationSummary, for context: TokenRun) {
        table[context, default: ContinuationSummary()].merge(summary, countersPerDepth: parameters.countersPerDepth)
    }

    /// Adds tokens to the learned-token counter (used when merging stores).
    mutating func addTokensLearned(_ n: UInt64) { tokensLearned &+= n }

    /// The contexts in store key order with their summaries pruned and sorted, ready to write.
    func sortedRecords() -> [(context: TokenRun, summary: ContinuationSummary)] {
        table.map { (context, summary) in
            var s = summary
            s.prune(countersPerDepth: parameters.countersPerDepth)
            return (context, s)
        }.sorted { $0.context < $1.context }
    }

    /// Empties the table, keeping its capacity (a batch is reused after each commit).
    mutating func removeAll() {
        table.removeAll(keepingCapacity: true)
        tokensLearned = 0
    }
}
