/// What `store stats` shows of a suffix-array store.
public struct SuffixArrayStatistics: Codable, Sendable, Equatable {
    /// One frequent token.
    public struct TokenCount: Codable, Sendable, Equatable {
        /// The id.
        public var token: Int32
        /// Its occurrences.
        public var count: Int
    }

    /// The header.
    public var header: SuffixArrayHeader
    /// The file's size.
    public var fileBytes: Int
    /// File bytes per corpus token (8 plus the header's share).
    public var bytesPerToken: Double
    /// Distinct token ids in the corpus (the separator not counted).
    public var distinctTokens: Int
    /// The most frequent tokens, most frequent first.
    public var topTokens: [TokenCount]
}

extension SuffixArrayStore {
    /// Sizes and the most frequent tokens (one pass over the tokens).
    /// - Parameter top: how many frequent tokens to list.
    /// - Returns: the statistics.
    public func statistics(top: Int) -> SuffixArrayStatistics {
        var counts: [UInt32: Int] = [:]
        for p in 0..<n where token(p) != SuffixArrayHeader.separator { counts[token(p), default: 0] += 1 }
        let frequent = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(top)
        return SuffixArrayStatistics(header: header, fileBytes: mappedBytes,
                                     bytesPerToken: Double(mappedBytes) / Double(max(1, n)),
                                     distinctTokens: counts.count,
                                     topTokens: frequent.map { .init(token: Int32(bitPattern: $0.key), count: $0.value) })
    }
}
