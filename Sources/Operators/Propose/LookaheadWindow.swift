/// Lookahead decoding's state for one hypothesis (Fu et al. 2024, "Break the Sequential
/// Dependency of LLM Inference Using Lookahead Decoding", §3; hao-ai-lab/LookaheadDecoding,
/// `lade/decoding.py` and `lade/models/llama.py`): a 2-D Jacobi window of N − 1 levels and a pool
/// of n-grams collected from the window's trajectories.
///
/// Layout (the reference's, in its column indexing): column 0 of level 0 is the root — the last
/// committed token — so level 0 holds W − 1 guessed tokens (columns 1…W − 1) and every higher level
/// W (columns 0…W − 1). The token at level l, column w sits at position root + l + w and attends to
/// the root, to level 0's tokens of columns 1…w, and to its own column's tokens of levels 1…l − 1:
/// a chain of consecutive positions, its column's trajectory. Level 0's tokens form one chain.
/// Each step the last level's rows give W new tokens (their argmaxes); column w's key (level 0 of
/// column w, the root for w = 0), its higher levels and its new token form an n-gram added to the
/// pool under its key, at most G per key, least recently added dropped first (the reference's
/// `update_token_map`). The window then moves one step (`ALWAYS_FWD_ONE`, the reference's
/// default): each level takes the next one's tokens — level 0 without its column 0 — and the new
/// tokens become the last level.
///
/// Start (the reference's warm-up): level 0 alone, W + N − 3 tokens copied from the prompt in order
/// (its `order_copy_from`; its default draws them at random, and a fixed order keeps the drafter a
/// function of the history), then one level added per step — every level drops its first token,
/// and the last level's argmaxes (without their first, but for the first fill) become the new last
/// level — until the window has N − 1 levels. The pool learns only from full windows.
struct LookaheadWindow: Sendable, Equatable {
    /// W: columns.
    let width: Int
    /// N: the n-gram size; the window has N − 1 levels.
    let ngram: Int
    /// G: n-grams kept per key.
    let guesses: Int
    /// The levels, lowest first (level 0: W − 1 tokens once full; the others W).
    private(set) var levels: [[Int32]]
    /// The root the levels were last laid out after: column 0's key when their rows come back.
    private(set) var root: Int32?
    /// Per key (an n-gram's first token), the n-grams' other N − 1 tokens, least recent first.
    private(set) var pool: [Int32: [[Int32]]] = [:]

    /// A window at the start of a run.
    /// - Parameters:
    ///   - width: W.
    ///   - ngram: N, at least 3.
    ///   - guesses: G.
    ///   - seed: the tokens level 0 is copied from, in order and cycling (the prompt).
    init(width: Int, ngram: Int, guesses: Int, seed: [Int32]) {
        self.width = width
        self.ngram = ngram
        self.guesses = guesses
        let count = width + ngram - 3
        levels = [seed.isEmpty ? [] : (0..<count).map { seed[$0 % seed.count] }]
    }

    /// Whether the window has all its levels (the warm-up is over).
    var isFull: Bool { levels.count == ngram - 1 }

    /// Adds an n-gram under its first token: moved to the most recent place if present, else
    /// appended, the least recent dropped beyond G.
    /// - Parameter ngram: N tokens.
    mutating func remember(_ ngram: ArraySlice<Int32>) {
        guard ngram.count == self.ngram, let key = ngram.first else { return }
        let tail = Array(ngram.dropFirst())
        var entries = pool[key] ?? []
        if let at = entries.firstIndex(of: tail) { entries.remove(at: at) }
        entries.append(tail)
        if entries.count > guesses { entries.removeFirst(entries.count - guesses) }
        pool[key] = entries
    }

    /// Adds every n-gram of `tokens` (the reference's `fill_pool_with_prompt`).
    /// - Parameter tokens: a stretch of text.
    mutating func remember(every tokens: [Int32]) {
        guard tokens.count >= ngram else { return }
        for start in 0...(tokens.count - ngram) { remember(tokens[start..<(start + ngram)]) }
    }

    /// The pool's n-grams after `token` (their last N − 1 tokens), least recent first.
    /// - Parameter token: the last committed token.
    /// - Returns: at most G continuations.
    func candidates(after token: Int32) -> [[Int32]] { pool[token] ?? [] }

    /// The window's rows as side rows laid out after `root` (level 0 first, then each level by
    /// column), and records `root` as column 0's key.
    /// - Parameter root: the last committed token.
    /// - Returns: the rows, or `nil` for an empty window.
    /// - Throws: `OperatorError.invalidTree` if the layout broke its own invariants.
    mutating func sideRows(after root: Int32) throws -> SideRows? {
        self.root = root
        guard !levels.allSatisfy(\.isEmpty) else { return nil }
        var tokens: [Int32] = [], offsets: [Int] = [], visible: [[Int]] = []
        // Rows of level 0: column j + 1 at offset j + 1, after level 0's earlier columns.
        let low = levels[0]
        for j in low.indices {
            tokens.append(low[j])
            offsets.append(j + 1)
            visible.append(Array(0..<j))
        }
        var start = low.count
        var previousLevels: [Int] = []  // first row of each level ≥ 1 laid out so far
        for level in levels.indices.dropFirst() {
            for column in levels[level].indices {
                tokens.append(levels[level][column])
                offsets.append(level + column)
                // Level 0 of columns 1…column (rows 0..<column), then this column's earlier levels.
                visible.append(Array(0..<min(column, low.count)) + previousLevels.map { $0 + column })
            }
            previousLevels.append(start)
            start += levels[level].count
        }
        return try SideRows(tokens: tokens, offsets: offsets, visible: visible)
    }

    /// One step of the window from the target's argmaxes at its last level's rows: the pool
    /// learns each column's n-gram (full windows only), then the window moves.
    /// - Parameter next: per row of the last level, the argmax after it.
    mutating func advance(_ next: [Int32]) {
        guard next.count == levels[levels.count - 1].count else { return }
        if isFull {
            if let root {
                for column in 0..<next.count {
                    let key = column == 0 ? root : levels[0][column - 1]
                    let trajectory = levels.dropFirst().map { $0[column] }
                    remember(([key] + trajectory + [next[column]])[...])
                }
            }
            levels[0] = Array(levels.count > 1 ? levels[1].dropFirst() : [])
            for level in levels.indices.dropFirst() {
                levels[level] = level + 1 < levels.count ? levels[level + 1] : next
            }
        } else {
            let added = levels.count == 1 ? next : Array(next.dropFirst())
            levels = levels.map { Array($0.dropFirst()) } + [added]
        }
    }

    /// The row labels of an item's mask for rendering: the root, the tree's nodes, then the
    /// window's rows as `L<level>c<column>`.
    /// - Parameter tree: the drafted tree (its side rows this window's).
    /// - Returns: one label per row.
    func labels(for tree: TokenTree) -> [String] {
        var labels = ["root"] + tree.nodes.indices.map { "v\($0)" }
        labels += levels[0].indices.map { "L0c\($0 + 1)" }
        for level in levels.indices.dropFirst() { labels += levels[level].indices.map { "L\(level)c\($0)" } }
        return labels
    }
}
