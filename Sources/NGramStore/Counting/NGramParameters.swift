/// The shape of what a store counts; fixed when the store is created and kept in its metadata.
public struct NGramParameters: Codable, Sendable, Equatable {
    /// Longest context counted; contexts of every length `1…contextLength` are kept. The default 4
    /// is llama.cpp's `LLAMA_NGRAM_MAX` for its lookup caches and the longest n-gram of
    /// prompt-lookup decoding (A. Saxena, 2023).
    public var contextLength: Int
    /// Longest continuation counted after a context, so a drafter can propose a chain or tree
    /// that deep. 4 matches the draft lengths at which prompt lookup stops paying off in
    /// llama.cpp's lookup-stats on code (longer chains rarely survive verification).
    public var continuationLength: Int
    /// Misra–Gries counters kept per continuation depth; a prefix whose share exceeds
    /// `1 / (countersPerDepth + 1)` is never lost. 8 keeps every prefix above 11 %, well under the
    /// lowest share gate a drafter uses (10 % in llama.cpp's tree lookup).
    public var countersPerDepth: Int

    /// Creates parameters.
    /// - Parameters:
    ///   - contextLength: longest context, 1…8.
    ///   - continuationLength: longest continuation, 1…8.
    ///   - countersPerDepth: counters per depth, 1…255.
    public init(contextLength: Int = 4, continuationLength: Int = 4, countersPerDepth: Int = 8) {
        self.contextLength = contextLength
        self.continuationLength = continuationLength
        self.countersPerDepth = countersPerDepth
    }

    /// Checks the ranges the storage format can hold.
    /// - Throws: `NGramStoreError` with code `.invalidArgument` when a value is out of range.
    func validate(path: String) throws {
        let limit = TokenRun.capacity
        guard (1...limit).contains(contextLength) else {
            throw NGramStoreError(.invalidArgument, path: path, "context length \(contextLength) is outside 1…\(limit)")
        }
        guard (1...limit).contains(continuationLength) else {
            throw NGramStoreError(.invalidArgument, path: path, "continuation length \(continuationLength) is outside 1…\(limit)")
        }
        guard (1...255).contains(countersPerDepth) else {
            throw NGramStoreError(.invalidArgument, path: path, "counters per depth \(countersPerDepth) is outside 1…255")
        }
    }
}
