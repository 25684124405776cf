/// Replays a text through a drafter without a model: at each step the drafter proposes a tree for
/// the text so far, a greedy verifier would accept the longest path that matches the text, and
/// the step advances by the accepted tokens plus the one token the model itself produces. This is
/// the acceptance a greedy speculative run would get if the model reproduced the text, as in
/// llama.cpp's lookup-stats; it tunes gates and budgets without running a model.
public struct AcceptanceSimulation: Sendable, Equatable {
    /// Verification steps (model calls).
    public internal(set) var steps = 0
    /// Tokens produced (each step produces its accepted tokens plus one).
    public internal(set) var tokens = 0
    /// Tokens proposed, over all steps.
    public internal(set) var drafted = 0
    /// Proposed tokens accepted.
    public internal(set) var accepted = 0
    /// Accepted tokens by the tier that proposed them.
    public internal(set) var acceptedBySource: [DraftTree.Source: Int] = [:]

    /// Creates empty totals.
    public init() {}

    /// Mean tokens per step (the "mean accepted tokens" incl. the model's own, MAT); 1 without drafts.
    public var tokensPerStep: Double { steps == 0 ? 0 : Double(tokens) / Double(steps) }
    /// Accepted over proposed tokens.
    public var acceptanceRate: Double { drafted == 0 ? 0 : Double(accepted) / Double(drafted) }

    /// Replays one text, starting after its first `prompt` tokens (at least 1).
    /// - Parameters:
    ///   - text: the text's token ids.
    ///   - prompt: tokens given as the prompt.
    ///   - drafter: the drafter.
    ///   - dynamic: a dynamic table, if any (not updated here).
    ///   - store: a store's index (an LMDB read transaction, a suffix array), if any.
    /// - Throws: `NGramStoreError` when a store record is damaged.
    public mutating func replay(_ text: [Int32], prompt: Int = 1, drafter: NGramDrafter,
                                dynamic: NGramCounts? = nil, store: (any ContinuationIndex)? = nil) throws {
        var position = max(1, prompt)
        while position < text.count {
            let tree = try drafter.draft(context: text[..<position], dynamic: dynamic, store: store)
            let accept = tree.acceptedLength(of: text[position...])
            var parent = -1
            for token in text[position..<(position + accept)] {
                let node = tree.tokens.indices.first { tree.parents[$0] == parent && tree.tokens[$0] == token }!
                acceptedBySource[tree.sources[node], default: 0] += 1
                parent = node
            }
            let produced = min(accept + 1, text.count - position)
            steps += 1
            tokens += produced
            drafted += tree.count
            accepted += accept
            position += produced
        }
    }
}
