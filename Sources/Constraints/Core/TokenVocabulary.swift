/// A tokenizer's vocabulary as the constraint engine sees it: for each token id the exact bytes it
/// emits, the end-of-sequence ids, and a byte trie over all tokens.
///
/// The trie is stored flattened in depth-first pre-order so a mask walk is one forward pass: a node's
/// subtree is the index range `i..<subtreeEnd[i]`, so a byte the constraint rejects skips the whole
/// subtree (every token with that prefix) at once, and tokens sharing a prefix share the parser work.
public final class TokenVocabulary: Sendable {
    /// Token id → the bytes it emits (empty for special tokens that emit nothing, such as EOS).
    public let tokenBytes: [[UInt8]]
    /// The ids that end generation; allowed exactly when the constraint can end.
    public let endOfSequence: Set<Int>

    /// Byte on the edge into each trie node.
    let nodeByte: [UInt8]
    /// Depth of each node: the length of the byte string it spells (1 for children of the root).
    let nodeDepth: [Int32]
    /// One past the last node of each node's subtree.
    let subtreeEnd: [Int32]
    /// Range into `nodeTokens` of the tokens whose bytes end exactly at each node.
    let nodeTokenStart: [Int32]
    /// Token ids, grouped by node.
    let nodeTokens: [Int32]

    /// The longest token, in bytes (the trie's depth).
    let maxDepth: Int
    /// The whole trie's uniform subtrees (`TokenTrieSlice.uniformBelow` and `uniformHeight`): the
    /// parser-driven lexeme walk takes them at once as the lexeme-mask walks do.
    let uniformBelow: [UInt8]
    let uniformHeight: [UInt8]

    /// Token length, in bytes, up to which lexeme masks are shared between automaton states of one
    /// mask class (`ByteLexeme.maskClass(of:horizon:)`); longer tokens are checked per state.
    public let maskHorizon: Int
    /// The trie down to `maskHorizon` bytes: walked once per lexeme mask class.
    let shortSlice: TokenTrieSlice
    /// The trie below `maskHorizon` bytes, with the ancestors leading there: walked once per lexeme state.
    let deepSlice: TokenTrieSlice

    /// Lexeme masks shared by every grammar masked against this vocabulary (see `SharedLexemeMasks`).
    let sharedMasks = SharedLexemeMasks()

    /// The default `maskHorizon`. On the 100k-token byte-level BPE of `decograph bench constraints`,
    /// 1.5% of the tokens are longer than 16 bytes and the deep slice is 8% of the trie, while a
    /// counted string (`maxLength`, `{0,300}`) shares one class for all counts at least 20 below its bound.
    public static let defaultMaskHorizon = 16

    /// The number of token ids.
    public var count: Int { tokenBytes.count }

    /// Builds the vocabulary and its trie.
    /// - Parameters:
    ///   - tokenBytes: token id → bytes; tokens with no bytes (other than EOS) are never allowed.
    ///   - endOfSequence: the EOS ids.
    ///   - maskHorizon: see `maskHorizon`; any value gives the same masks, only their cost changes.
    public init(tokenBytes: [[UInt8]], endOfSequence: Set<Int>, maskHorizon: Int = defaultMaskHorizon) {
        self.tokenBytes = tokenBytes
        self.endOfSequence = endOfSequence
        // Sorting the non-empty token strings lexicographically lists trie nodes in pre-order:
        // each string contributes the nodes for the bytes beyond its common prefix with the previous.
        let order = tokenBytes.indices.filter { !tokenBytes[$0].isEmpty && !endOfSequence.contains($0) }
            .sorted { tokenBytes[$0].lexicographicallyPrecedes(tokenBytes[$1]) }
        var bytes: [UInt8] = [], depth: [Int32] = [], ends: [Int32] = []
        var tokenStart: [Int32] = [], tokens: [Int32] = []
        var path: [Int] = []           // node index at each depth of the current path
        var previous: [UInt8] = []
        var pendingTokens: [[Int32]] = []
        for id in order {
            let s = tokenBytes[id]
            var common = 0
            while common < min(s.count, previous.count), s[common] == previous[common] { common += 1 }
            if common == s.count && s.count == previous.count, let last = path.last {
                pendingTokens[last].append(Int32(id))   // duplicate byte string
                continue
            }
            // Close the nodes deeper than the common prefix.
            while path.count > common {
                let node = path.removeLast()
                ends[node] = Int32(bytes.count)
            }
            for d in common..<s.count {
                path.append(bytes.count)
                bytes.append(s[d])
                depth.append(Int32(d + 1))
                ends.append(0)
                pendingTokens.append([])
            }
            pendingTokens[path.last!].append(Int32(id))
            previous = s
        }
        while let node = path.popLast() { ends[node] = Int32(bytes.count) }
        for group in pendingTokens {
            tokenStart.append(Int32(tokens.count))
            tokens.append(contentsOf: group)
        }
        tokenStart.append(Int32(tokens.count))
        nodeByte = bytes
        maxDepth = Int(depth.max() ?? 0)
        nodeDepth = depth
        subtreeEnd = ends
        nodeTokenStart = tokenStart
        nodeTokens = tokens
        self.maskHorizon = max(1, maskHorizon)
        // Deepest node under each node, children (after their parent in pre-order) first.
        var deepest = depth
        let parent = TokenTrieSlice.parents(depths: depth)
        for i in depth.indices.reversed() where parent[i] >= 0 {
            deepest[Int(parent[i])] = max(deepest[Int(parent[i])], deepest[i])
        }
        (uniformBelow, uniformHeight) = TokenTrieSlice.uniformSubtrees(bytes: bytes, parents: parent)
        let horizon = Int32(self.maskHorizon)
        let trie = (bytes, depth, ends, tokenStart, tokens)
        shortSlice = TokenTrieSlice(of: trie, keep: { depth[$0] <= horizon }, report: { _ in true })
        deepSlice = TokenTrieSlice(of: trie, keep: { deepest[$0] > horizon }, report: { depth[$0] > horizon })
    }

    /// The number of trie nodes (distinct non-empty token prefixes).
    public var trieNodeCount: Int { nodeByte.count }

    /// Splits bytes into tokens greedily, longest match first, using the trie.
    ///
    /// This is not a tokenizer's encoding (BPE merges differ); it is a deterministic segmentation used
    /// to exercise multi-byte token boundaries in tests and benchmarks.
    /// - Parameter bytes: the text to split.
    /// - Returns: the token ids, or `nil` when some byte is covered by no token.
    public func greedySegmentation(_ bytes: [UInt8]) -> [Int]? {
        var out: [Int] = []
        var i = 0
        while i < bytes.count {
            var node = 0, best: (id: Int, length: Int)? = nil
            var depth = 0
            // Descend: among the children of the current prefix, find the one with the next byte.
            var end = nodeByte.count
            while node < end, i + depth < bytes.count {
                let b = bytes[i + depth]
                var child = node
                var found = -1
                while child < end {
                    if nodeByte[child] == b { found = child; break }
                    child = Int(subtreeEnd[child])
                }
                if found < 0 { break }
                depth += 1
                let t0 = Int(nodeTokenStart[found]), t1 = Int(nodeTokenStart[found + 1])
                if t0 < t1 { best = (Int(nodeTokens[t0]), depth) }
                node = found + 1
                end = Int(subtreeEnd[found])
            }
            guard let match = best else { return nil }
            out.append(match.id)
            i += match.length
        }
        return out
    }
}
