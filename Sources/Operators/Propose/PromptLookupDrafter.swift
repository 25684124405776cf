/// Prompt lookup decoding (`draft.lookup`; Saxena 2023, "Prompt Lookup Decoding", the method behind
/// transformers' `prompt_lookup_num_tokens`): find the longest suffix of the context that occurred
/// earlier in the context and propose the tokens that followed its most recent earlier occurrence.
///
/// Matches are tried from `maxMatch` tokens down to `minMatch`; the first length with an earlier
/// occurrence that has at least one following token wins. The proposal is a deterministic chain
/// (no draft distribution), so sampling verification treats it as one-hot and stays exact.
///
/// CopySpec (Dumitru et al. 2025) is this drafter with one fixed match length γ, long copies, and
/// the *first* earlier occurrence of the γ-gram rather than the most recent (`Occurrence.first`,
/// what its reference's γ-gram table returns); graphs/copyspec.yaml.
public struct PromptLookupDrafter: Sendable {
    /// Which earlier occurrence of the matched suffix is continued.
    public enum Occurrence: String, Sendable, CaseIterable {
        /// The most recent (Saxena's reference).
        case last
        /// The first (CopySpec's reference).
        case first
    }

    /// Default longest suffix tried: transformers' `max_matching_ngram_size` default is 2, the
    /// reference prompt-lookup implementation uses 3; longer matches predict better when they exist.
    public static let defaultMaxMatch = 3
    /// Default most tokens proposed: the reference implementation's `num_pred_tokens` (10).
    public static let defaultMaxTokens = 10

    /// Shortest suffix that counts as a match, ≥ 1.
    public let minMatch: Int
    /// Longest suffix tried, ≥ `minMatch`.
    public let maxMatch: Int
    /// Most tokens proposed, ≥ 1.
    public let maxTokens: Int
    /// The source tag of proposed nodes.
    public let source: String
    /// Which earlier occurrence is continued.
    public let occurrence: Occurrence

    /// Creates a drafter.
    /// - Parameters:
    ///   - minMatch: shortest suffix that counts, ≥ 1.
    ///   - maxMatch: longest suffix tried, ≥ `minMatch`.
    ///   - maxTokens: most tokens proposed, ≥ 1.
    ///   - source: the source tag of proposed nodes.
    ///   - occurrence: which earlier occurrence is continued.
    /// - Throws: `OperatorError.invalidParameter` for values out of range.
    public init(minMatch: Int = 1, maxMatch: Int = defaultMaxMatch, maxTokens: Int = defaultMaxTokens, source: String = "lookup",
                occurrence: Occurrence = .last) throws {
        try OperatorError.require("min_match", minMatch, in: 1..., "≥ 1")
        try OperatorError.require("max_match", maxMatch, in: minMatch..., "≥ min_match (\(minMatch))")
        try OperatorError.require("max_tokens", maxTokens, in: 1..., "≥ 1")
        self.minMatch = minMatch
        self.maxMatch = maxMatch
        self.maxTokens = maxTokens
        self.source = source
        self.occurrence = occurrence
    }

    /// The continuation after the most recent (or first) earlier occurrence of the longest matching suffix.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - limit: most tokens this step (a length schedule's current length); `maxTokens` when nil.
    /// - Returns: up to `limit` tokens, empty when no suffix of at least `minMatch` recurs.
    public func continuation(of context: [Int32], limit: Int? = nil) -> [Int32] {
        let maxTokens = limit ?? self.maxTokens
        guard maxTokens > 0 else { return [] }
        let n = context.count
        for length in stride(from: min(maxMatch, n - 1), through: minMatch, by: -1) {
            let suffixStart = n - length
            // An occurrence must end before the context does, so something follows it.
            let starts = occurrence == .last ? Array(stride(from: suffixStart - 1, through: 0, by: -1)) : Array(0..<suffixStart)
            for start in starts where context[start..<(start + length)].elementsEqual(context[suffixStart..<n]) {
                let end = start + length
                return Array(context[end..<min(end + maxTokens, n)])
            }
        }
        return []
    }

    /// The proposal as a deterministic chain.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - limit: most tokens this step; `maxTokens` when nil.
    /// - Returns: a chain tree (empty when nothing matches).
    public func draft(context: [Int32], limit: Int? = nil) -> TokenTree {
        // Tokens come from the context and the chain's parents are in order: nothing can fail.
        (try? TokenTree.chain(continuation(of: context, limit: limit), source: source)) ?? TokenTree()
    }
}
