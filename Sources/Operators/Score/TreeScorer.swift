/// Anything that can score a token tree in one pass: the target model (the model runtime conforms),
/// a draft model, or an exact table model in tests.
///
/// The `score` step of DESIGN.md: given the committed context and a proposed tree below it, return
/// the next-token logits at the root (after the context's last token) and after every node.
public protocol TreeScorer {
    /// Number of logits per position.
    var vocabularySize: Int { get }

    /// Logits for the root and every node of `tree`.
    /// - Parameters:
    ///   - context: the committed tokens of the hypothesis (prompt and generated so far).
    ///   - tree: proposed continuations; each node attends to the context and its own ancestors.
    /// - Returns: `tree.count + 1` rows of `vocabularySize` logits: row 0 for the root, row `i + 1`
    ///   for node `i`.
    /// - Throws: the scorer's own error when the context or tree cannot be scored.
    func score(context: [Int32], tree: TokenTree) throws -> [[Float]]
}

extension TreeScorer {
    /// The logits after `context` alone (a root-only tree), what plain decoding and drafters need.
    /// - Parameter context: the committed tokens.
    /// - Returns: `vocabularySize` logits.
    /// - Throws: whatever `score(context:tree:)` throws.
    public func nextLogits(context: [Int32]) throws -> [Float] {
        try score(context: context, tree: TokenTree())[0]
    }
}
