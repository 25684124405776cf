/// Per (lexeme, automaton state): the tokens that stay inside the lexeme, and the trie nodes where the
/// lexeme may end with the token continuing (those subtrees need the parser).
///
/// Shared by reference between a constraint and its forks. Not thread-safe: a constraint and its forks
/// belong to one decoding sequence, driven from one thread at a time.
final class LexemeMaskCache {
    struct Entry {
        /// Tokens whose bytes all stay inside the lexeme.
        var inside: TokenMask
        /// Trie nodes with children where the lexeme may end, the bytes leading there, and the lexeme
        /// state there: the parser walks their children with the lexeme forced to end.
        var exitNodes: [Int32]
        var exitPrefixes: [[UInt8]]
        var exitStates: [Int32]
    }

    private struct Key: Hashable {
        var lexeme: Int32
        var state: Int32
    }

    private var entries: [Key: Entry] = [:]
    /// Bounds memory (each entry holds one vocabulary-sized bitset, 12.5 KB at 100k tokens): past this
    /// many states the cache is cleared and refilled. 4096 entries ≈ 50 MB at 100k tokens.
    static let maxEntries = 4096

    func entry(lexeme: Int32, state: Int32, grammar: Grammar, vocabulary v: TokenVocabulary) -> Entry {
        let key = Key(lexeme: lexeme, state: state)
        if let e = entries[key] { return e }
        if entries.count >= Self.maxEntries { entries.removeAll(keepingCapacity: true) }
        let automaton = grammar.lexemes[Int(lexeme)]
        var inside = TokenMask(count: v.count)
        var exitNodes: [Int32] = [], exitPrefixes: [[UInt8]] = [], exitStates: [Int32] = []
        // Per-depth automaton state and byte path, in fixed buffers (no per-node allocation).
        let maxDepth = v.maxDepth
        var states = [Int32](repeating: 0, count: maxDepth + 1)
        var path = [UInt8](repeating: 0, count: maxDepth + 1)
        states[0] = state
        v.nodeByte.withUnsafeBufferPointer { bytes in
        v.nodeDepth.withUnsafeBufferPointer { depths in
        v.subtreeEnd.withUnsafeBufferPointer { ends in
        v.nodeTokenStart.withUnsafeBufferPointer { tokenStart in
        v.nodeTokens.withUnsafeBufferPointer { tokens in
            let n = bytes.count
            var i = 0
            while i < n {
                let depth = Int(depths[i])
                let next = automaton.next(states[depth - 1], bytes[i])
                if next < 0 {
                    i = Int(ends[i])
                    continue
                }
                for t in Int(tokenStart[i])..<Int(tokenStart[i + 1]) { inside.insert(Int(tokens[t])) }
                states[depth] = next
                path[depth - 1] = bytes[i]
                if Int(ends[i]) > i + 1 && automaton.isAccepting(next) {
                    // The lexeme may end here and the token go on in the grammar: the parser walks
                    // the children from here; continuations inside the lexeme are covered here.
                    exitNodes.append(Int32(i))
                    exitPrefixes.append(Array(path[0..<depth]))
                    exitStates.append(next)
                }
                i += 1
            }
        }}}}}
        let e = Entry(inside: inside, exitNodes: exitNodes, exitPrefixes: exitPrefixes, exitStates: exitStates)
        entries[key] = e
        return e
    }
}
