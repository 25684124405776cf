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
    /// An explicit position and attention set per new token, for rows that form no tree
    /// (Lookahead's Jacobi window); `nil` for a chain or a tree. Exclusive with `parents`.
    public var mask: ForwardMask?
    /// Which logits to return.
    public var outputs: Outputs
    /// Which rows' last hidden states to return (after the final norm: what the LM head reads,
    /// transformers' `hidden_states[-1]`), for methods that compare states (contrastive search).
    /// Asking for states does not change how a row is attended: a row whose logits are not
    /// returned goes through the tiled prefill kernel, so its state may differ in the last bits
    /// from the same row's with logits.
    public var states: Outputs

    /// Creates an item.
    /// - Parameters:
    ///   - sequence: the cache to extend.
    ///   - tokens: new tokens.
    ///   - parents: tree parents (`nil` for a chain).
    ///   - mask: explicit positions and attention (`nil` for a chain or a tree).
    ///   - outputs: which logits to return.
    ///   - states: which rows' last hidden states to return.
    public init(sequence: KVSequence, tokens: [Int32], parents: [Int]? = nil, mask: ForwardMask? = nil,
                outputs: Outputs = .all, states: Outputs = .none) {
        self.sequence = sequence
        self.tokens = tokens
        self.parents = parents
        self.mask = mask
        self.outputs = outputs
        self.states = states
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
    /// The last hidden states the item asked for (`ForwardItem.states`), `stateRows × hidden`.
    public var states: [Float] = []
    /// How many rows `states` holds.
    public var stateRows = 0

    /// Creates logits.
    /// - Parameters:
    ///   - rows: number of rows.
    ///   - vocabularySize: row length.
    ///   - values: `rows × vocabularySize` values.
    public init(rows: Int, vocabularySize: Int, values: [Float]) {
        self.rows = rows
        self.vocabularySize = vocabularySize
        self.values = values
    }

    /// Hidden-state row `i`.
    /// - Parameter i: row index, below `stateRows`.
    /// - Returns: its values.
    public func state(_ i: Int) -> ArraySlice<Float> {
        let width = states.count / max(stateRows, 1)
        return states[(i * width)..<((i + 1) * width)]
    }

    /// Row `i`.
    /// - Parameter i: row index.
    /// - Returns: its logits.
    public func row(_ i: Int) -> ArraySlice<Float> {
        values[(i * vocabularySize)..<((i + 1) * vocabularySize)]
    }
}
