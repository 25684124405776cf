/// A part of the vocabulary trie, stored like the whole trie (flat, depth-first pre-order, a node's
/// subtree is `i..<subtreeEnd[i]`), that the lexeme-mask cache walks with a bare automaton.
///
/// The cache splits the trie at the vocabulary's mask horizon: the *short* slice (nodes no deeper
/// than the horizon) gives results that are the same for every automaton state of one mask class
/// (see `ByteLexeme.maskClass(of:horizon:)`), so it is walked once per class; the *deep* slice (nodes
/// below the horizon, with the ancestors needed to reach them) is walked once per state. In a byte-level
/// BPE most tokens are short, so the per-state part is small (measured in docs/constraints.md).
struct TokenTrieSlice: Sendable {
    /// Byte on the edge into each node.
    let nodeByte: [UInt8]
    /// Depth of each node in the whole trie.
    let nodeDepth: [Int32]
    /// One past the last node of each node's subtree, within the slice.
    let subtreeEnd: [Int32]
    /// Range into `nodeTokens` of the tokens the slice reports at each node.
    let nodeTokenStart: [Int32]
    /// Token ids, grouped by node.
    let nodeTokens: [Int32]
    /// The whole trie's index of each node: exits are reported in whole-trie indices.
    let fullNode: [Int32]
    /// Whether a lexeme that may end at this node is reported as an exit: the node has children in the
    /// whole trie and lies in the depths this slice reports.
    let reportsExit: [Bool]

    /// Byte sets a subtree can be taken at once for (`uniformSets`): bit k of `uniformBelow[i]` is
    /// set when node i has children and every node below it (not the node itself) is entered by a
    /// byte of `uniformSets[k]`. A lexeme state whose bytes of that set all lead to one state, level
    /// after level without accepting (`WalkTable.takesUniformSubtree`: a string body reading text
    /// back into itself, a counted string counting on, an e-mail's local part reading letters),
    /// takes the whole subtree without a step per node.
    let uniformBelow: [UInt8]
    /// The subtree height (deepest depth below minus the node's own, 1…255) of nodes with a
    /// `uniformBelow` bit; 0 elsewhere.
    let uniformHeight: [UInt8]

    /// Printable ASCII other than `"` and `\`: the bytes most tokens are made of, and that text
    /// inside a JSON string (or `.*`) reads without changing state.
    static let plainBytes: ByteSet = {
        var set = ByteSet(0x20...0x7E)
        set.remove(UInt8(ascii: "\""))
        set.remove(UInt8(ascii: "\\"))
        return set
    }()

    /// ASCII letters and digits: identifiers, host names, the body of most formats.
    static let wordBytes: ByteSet = {
        var set = ByteSet(UInt8(ascii: "a")...UInt8(ascii: "z"))
        set.formUnion(ByteSet(UInt8(ascii: "A")...UInt8(ascii: "Z")))
        set.formUnion(ByteSet(UInt8(ascii: "0")...UInt8(ascii: "9")))
        return set
    }()

    /// Decimal digits: the body of numbers.
    static let digitBytes = ByteSet(UInt8(ascii: "0")...UInt8(ascii: "9"))

    /// The byte sets of `uniformBelow`'s bits, widest first: each is within the first.
    static let uniformSets: [ByteSet] = [plainBytes, wordBytes, digitBytes]

    /// Whether the slice holds the node's whole subtree of the whole trie and reports all of it:
    /// where the lexeme reads every byte below back into an accepting state
    /// (`WalkTable.takesUniformSubtree`), the exits inside the subtree add nothing, and there is no
    /// deeper child outside the slice whose exit would.
    let wholeSubtree: [Bool]

    /// The deepest node's depth (0 when empty).
    let maxDepth: Int

    /// The number of nodes.
    var count: Int { nodeByte.count }

    /// Keeps the whole-trie nodes `keep` selects, which must be closed under taking ancestors, and
    /// reports tokens and exits only at nodes `report` selects.
    /// - Parameters:
    ///   - trie: the whole trie's arrays (as `TokenVocabulary` stores them).
    ///   - keep: whether a whole-trie node is in the slice.
    ///   - report: whether a kept node's tokens and exit are reported.
    init(of v: (nodeByte: [UInt8], nodeDepth: [Int32], subtreeEnd: [Int32], nodeTokenStart: [Int32], nodeTokens: [Int32]),
         keep: (Int) -> Bool, report: (Int) -> Bool) {
        let n = v.nodeByte.count
        // rank[i]: kept nodes before i, so a kept node's subtree ends at rank[its whole-trie end].
        var rank = [Int32](repeating: 0, count: n + 1)
        var kept = 0
        for i in 0..<n {
            rank[i] = Int32(kept)
            if keep(i) { kept += 1 }
        }
        rank[n] = Int32(kept)
        var bytes: [UInt8] = [], depths: [Int32] = [], ends: [Int32] = [], full: [Int32] = []
        var tokenStart: [Int32] = [], tokens: [Int32] = [], exits: [Bool] = [], whole: [Bool] = []
        bytes.reserveCapacity(kept)
        for i in 0..<n where keep(i) {
            bytes.append(v.nodeByte[i])
            depths.append(v.nodeDepth[i])
            ends.append(rank[Int(v.subtreeEnd[i])])
            full.append(Int32(i))
            tokenStart.append(Int32(tokens.count))
            let reported = report(i)
            if reported {
                for t in Int(v.nodeTokenStart[i])..<Int(v.nodeTokenStart[i + 1]) { tokens.append(v.nodeTokens[t]) }
            }
            exits.append(reported && Int(v.subtreeEnd[i]) > i + 1)
            // Kept descendants are the whole trie's when the counts agree; below a reported node
            // every kept node is reported (the slices report by depth, deeper nodes alike).
            whole.append(reported && rank[Int(v.subtreeEnd[i])] - rank[i] == v.subtreeEnd[i] - Int32(i))
        }
        tokenStart.append(Int32(tokens.count))
        nodeByte = bytes
        nodeDepth = depths
        subtreeEnd = ends
        nodeTokenStart = tokenStart
        nodeTokens = tokens
        fullNode = full
        reportsExit = exits
        wholeSubtree = whole
        maxDepth = Int(depths.max() ?? 0)
        (uniformBelow, uniformHeight) = Self.uniformSubtrees(bytes: bytes, parents: Self.parents(depths: depths))
    }

    /// `uniformBelow` and `uniformHeight` of a trie stored in pre-order, given its `parents(depths:)`.
    /// A node is uniform below for a set when each child is entered by a byte of the set and is
    /// uniform below for it (or a leaf); its height is one more than its highest child's. Children
    /// come after their parent in pre-order, so a backward pass settles children first.
    static func uniformSubtrees(bytes: [UInt8], parents parent: [Int32]) -> (below: [UInt8], height: [UInt8]) {
        let all = UInt8((1 << uniformSets.count) - 1)
        var below = [UInt8](repeating: all, count: bytes.count)
        var height = [Int32](repeating: 0, count: bytes.count)
        for i in bytes.indices.reversed() where parent[i] >= 0 {
            let p = Int(parent[i])
            var kept: UInt8 = 0
            for (k, set) in uniformSets.enumerated() where set.contains(bytes[i]) { kept |= 1 << k }
            below[p] &= below[i] & kept
            height[p] = max(height[p], height[i] + 1)
        }
        for i in bytes.indices where height[i] == 0 || height[i] > 255 { below[i] = 0 }
        return (below, bytes.indices.map { below[$0] != 0 ? UInt8(height[$0]) : 0 })
    }

    /// Each node's parent (-1 for children of the root) in a trie stored in pre-order with each
    /// node's depth, the root's children at depth 1 and every node's ancestors present: the path
    /// stack of the pass holds the current node's ancestors.
    /// - Parameter depths: the nodes' depths, in pre-order.
    /// - Returns: the parent indices.
    static func parents(depths: [Int32]) -> [Int32] {
        var parent = [Int32](repeating: -1, count: depths.count)
        var stack: [Int32] = []
        for i in depths.indices {
            stack.removeSubrange((Int(depths[i]) - 1)...)
            if let p = stack.last { parent[i] = p }
            stack.append(Int32(i))
        }
        return parent
    }
}
