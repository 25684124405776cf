/// Learns texts into a store in batches: counts accumulate in memory and are committed in one write
/// transaction when the batch holds `batchContexts` contexts, or on `flush()`.
///
/// This is the path of the `store.learn` op (the accepted text of a run, added at commit) and of
/// `store merge`; `store build` counts a corpus with `StoreBuilder` instead. Memory stays bounded
/// by the batch size whatever the corpus size.
/// Not thread-safe: one learner per writing thread (LMDB serialises their commits).
public struct StoreLearner {
    /// Default batch size in distinct contexts. A context's summary takes about 100–400 bytes in
    /// memory, so 2^17 contexts keep a batch near 50 MB, and a commit rewrites few enough pages
    /// to stay far from LMDB's dirty-page limit per transaction.
    public static let defaultBatchContexts = 1 << 17

    /// The store written to.
    public let store: NGramStore
    /// Contexts held before a commit.
    public let batchContexts: Int
    /// Called after each commit with the batch's token count (progress, tests).
    public var onCommit: ((UInt64) -> Void)?
    private var batch: NGramCounts

    /// Creates a learner.
    /// - Parameters:
    ///   - store: the store to write (opened writable).
    ///   - batchContexts: distinct contexts per batch, at least 1.
    public init(store: NGramStore, batchContexts: Int = StoreLearner.defaultBatchContexts) {
        self.store = store
        self.batchContexts = max(1, batchContexts)
        // Reserve the batch, bounded: an effectively unlimited batch size must not allocate up front.
        batch = NGramCounts(parameters: store.parameters, capacity: min(self.batchContexts, StoreLearner.defaultBatchContexts))
    }

    /// Counts one whole text, committing when the batch is full.
    /// - Parameter tokens: the text's token ids.
    /// - Throws: `NGramStoreError` from a commit; the failed batch is kept for a later `flush()`.
    public mutating func learn(tokens: [Int32]) throws {
        batch.learn(tokens)
        if batch.contextCount >= batchContexts { try flush() }
    }

    /// Commits what is pending.
    /// - Throws: `NGramStoreError`; the batch is kept when the commit fails.
    public mutating func flush() throws {
        guard batch.contextCount > 0 || batch.tokensLearned > 0 else { return }
        try store.commit(batch)
        let tokens = batch.tokensLearned
        batch.removeAll()
        onCommit?(tokens)
    }
}
