/// What a drafter's store tier reads: the continuations that followed a context. The LMDB store's
/// read transaction and the suffix-array store both answer it, so the tiers, gates and tree
/// building of `NGramDrafter` serve both backends.
public protocol ContinuationIndex {
    /// Longest context the index matches.
    var longestContext: Int { get }
    /// What followed a context.
    /// - Parameters:
    ///   - context: 1…`longestContext` tokens.
    ///   - minimumShare: a continuation prefix that followed its parent (the prefix one token
    ///     shorter, or the context) in less than this share of the parent's occurrences may be left
    ///     out, with its own continuations — a drafter's share gate rejects it anyway.
    /// - Returns: its summary, or `nil` when the context was never followed by anything.
    /// - Throws: `NGramStoreError` (`.corrupt`) when the index is damaged.
    func continuations(of context: ArraySlice<Int32>, minimumShare: Double) throws -> ContinuationSummary?
    /// The longest suffix of `context`, at most `longest` tokens, that occurs at least `minimum`
    /// times (an upper bound is enough); a drafter whose gates need `minimum` samples tries no
    /// longer one. The default, `longest`, suits an index that answers a miss as cheaply as a hit.
    /// - Parameters:
    ///   - context: the tokens so far.
    ///   - longest: the longest suffix wanted.
    ///   - minimum: occurrences needed, at least 1.
    /// - Returns: a length in 0…`longest`.
    /// - Throws: `NGramStoreError` (`.corrupt`) when the index is damaged.
    func longestSuffix(of context: ArraySlice<Int32>, upTo longest: Int, occurringAtLeast minimum: Int) throws -> Int
}

extension ContinuationIndex {
    /// What followed a context, every continuation the index keeps.
    /// - Parameter context: 1…`longestContext` tokens.
    /// - Returns: its summary, or `nil` when the context was never followed by anything.
    /// - Throws: `NGramStoreError` (`.corrupt`) when the index is damaged.
    public func continuations(of context: ArraySlice<Int32>) throws -> ContinuationSummary? {
        try continuations(of: context, minimumShare: 0)
    }

    public func longestSuffix(of context: ArraySlice<Int32>, upTo longest: Int, occurringAtLeast minimum: Int) throws -> Int { longest }
}

/// A store a graph's `draft.ngram` reads: an LMDB n-gram store or a suffix-array store, told apart
/// by the file's first bytes (`RetrievalStores.open`).
public protocol RetrievalStore: AnyObject, Sendable {
    /// The store's file.
    var path: String { get }
    /// The vocabulary its ids belong to.
    var tokenizerFingerprint: String { get }
    /// Longest continuation a lookup returns.
    var continuationLength: Int { get }
    /// What an in-memory table beside the store counts (a drafter's dynamic tier, prompt lookup's
    /// longest suffix): an LMDB store's own parameters, so both tiers see contexts alike; the
    /// defaults beside a suffix array, which counts nothing.
    var countParameters: NGramParameters { get }
    /// Runs `body` with a consistent view of the store (an LMDB read transaction; the mapped file).
    /// - Parameter body: reads the index; must not write the store.
    /// - Returns: what `body` returns.
    /// - Throws: what opening the view or `body` throws.
    func withContinuationIndex<R>(_ body: (any ContinuationIndex) throws -> R) throws -> R
}

extension NGramStore.ReadTransaction: ContinuationIndex {
    public var longestContext: Int { store.parameters.contextLength }

    /// The whole record: a record is read at once, so leaving entries out saves nothing.
    public func continuations(of context: ArraySlice<Int32>, minimumShare: Double) throws -> ContinuationSummary? {
        try continuations(of: TokenRun(context))
    }
}

extension NGramStore: RetrievalStore {
    public var tokenizerFingerprint: String { metadata.tokenizerFingerprint }
    public var continuationLength: Int { parameters.continuationLength }
    public var countParameters: NGramParameters { parameters }

    public func withContinuationIndex<R>(_ body: (any ContinuationIndex) throws -> R) throws -> R {
        try withReadTransaction { try body($0) }
    }
}

/// Opening a store for reading whichever its backend.
public enum RetrievalStores {
    /// Opens a store read-only: a suffix-array store when the file starts with its magic, else an
    /// LMDB n-gram store.
    /// - Parameters:
    ///   - path: the store's file.
    ///   - tokenizerFingerprint: the caller's tokenizer; `nil` accepts any.
    /// - Returns: the open store.
    /// - Throws: `NGramStoreError` as the backend's `open` does.
    public static func open(at path: String, tokenizerFingerprint: String?) throws -> any RetrievalStore {
        if SuffixArrayStore.isSuffixArray(at: path) {
            return try SuffixArrayStore.open(at: path, tokenizerFingerprint: tokenizerFingerprint)
        }
        return try NGramStore.open(at: path, tokenizerFingerprint: tokenizerFingerprint, options: .init(readOnly: true))
    }
}
