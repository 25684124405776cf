/// One sequence's share of a forward pass: new tokens appended to its cache, optionally forming
/// a token tree.
public struct ForwardItem: @unchecked Sendable {
    /// Which rows of logits to return.
    public enum Outputs: Sendable, Equatable {
        /// One row per new token.
        case all
        /// Only the last new token's row (prefill).
        case last
        /// No logits (cache filling only).
        case none
    }

    /// The sequence the tokens extend.
    public var sequence: KVSequence
    /// New tokens.
    public var tokens: [Int32]
    /// For each new token, the index of its parent among the new tokens, or -1 when its parent is
    /// the last cached token. `nil` means a chain (each token's parent is the previous one).
    /// Parents must precede children.
    public var parents: [Int]?
    /// Which logits to return.
    public var outputs: Outputs

    /// Creates an item.
    /// - Parameters:
    ///   - sequence: the cache to extend.
    ///   - tokens: new tokens.
    ///   - parents: tree parents (`nil` for a chain).
    ///   - outputs: which logits to return.
    public init(sequence: KVSequence, tokens: [Int32], parents: [Int]? = nil, outputs: Outputs = .all) {
        self.sequence = sequence
        self.tokens = tokens
        self.parents = parents
        self.outputs = outputs
    }
}

/// Logits for some rows of a forward item, row-major `[rows, vocabulary]`.
public struct Logits: Sendable {
    /// Number of rows.
    public let rows: Int
    /// Vocabulary size (row length).
    public let vocabularySize: Int
    /// `rows × vocabularySize` values.
    public var values: [Float]

    /// Row `i`.
    /// - Parameter i: row index.
    /// - Returns: its logits.
    public func row(_ i: Int) -> ArraySlice<Float> {
        values[(i * vocabularySize)..<((i + 1) * vocabularySize)]
    }
}
