/// A finite set of byte strings as one lexeme: their trie, one automaton state per trie node.
///
/// A JSON Schema `enum` of 100,000 strings used to be 100,000 grammar alternatives, each its own
/// regex lexeme: over 30 s and 5.9 GB to compile, and as many Earley items at the enum's position.
/// As one trie it costs O(total bytes) to build and to hold (four flat arrays, no per-node
/// allocation), a transition is a binary search among a node's children, and the parser carries one
/// item for the whole set.
final class LiteralSetLexeme: ByteLexeme {
    /// Node `n`'s children are `childBytes[firstChild[n]..<firstChild[n + 1]]`, sorted by byte, with
    /// their nodes in `childNodes`.
    private let firstChild: [Int32]
    private let childBytes: [UInt8]
    private let childNodes: [Int32]
    /// Whether a string of the set ends at the node.
    private let accepting: [Bool]
    /// The strings, sorted and deduplicated: they fix the node numbering (the fingerprint).
    private let strings: [[UInt8]]
    let startState: Int32 = 0

    /// Builds the trie.
    /// - Parameter strings: the accepted strings (any order; duplicates are fine).
    init(_ strings: [[UInt8]]) {
        var sorted = strings.sorted { $0.lexicographicallyPrecedes($1) }
        var unique = 0
        for s in sorted where unique == 0 || sorted[unique - 1] != s {
            sorted[unique] = s
            unique += 1
        }
        sorted.removeSubrange(unique...)
        self.strings = sorted
        // Nodes in pre-order: after a string, the next one shares the longest common prefix with it,
        // so a stack of the current path is all the building needs. Edges are listed as they are
        // made (each parent's in byte order, since the strings are sorted) and grouped by parent
        // with a counting sort afterwards.
        var accepting = [false]
        var edgeParent: [Int32] = [], edgeByte: [UInt8] = [], edgeChild: [Int32] = []
        var path: [Int32] = [0]
        var previous: [UInt8] = []
        for s in sorted {
            var common = 0
            while common < previous.count, common < s.count, previous[common] == s[common] { common += 1 }
            path.removeSubrange((common + 1)...)
            for b in s[common...] {
                let node = Int32(accepting.count)
                accepting.append(false)
                edgeParent.append(path[path.count - 1])
                edgeByte.append(b)
                edgeChild.append(node)
                path.append(node)
            }
            accepting[Int(path[path.count - 1])] = true
            previous = s
        }
        var first = [Int32](repeating: 0, count: accepting.count + 1)
        for p in edgeParent { first[Int(p) + 1] += 1 }
        for i in 0..<accepting.count { first[i + 1] += first[i] }
        var fill = first
        var bytes = [UInt8](repeating: 0, count: edgeByte.count)
        var nodes = [Int32](repeating: 0, count: edgeByte.count)
        for e in edgeParent.indices {
            let slot = Int(fill[Int(edgeParent[e])])
            fill[Int(edgeParent[e])] += 1
            bytes[slot] = edgeByte[e]
            nodes[slot] = edgeChild[e]
        }
        firstChild = first
        childBytes = bytes
        childNodes = nodes
        self.accepting = accepting
    }

    /// The child of `state` on `byte` (see `ByteLexeme`).
    /// - Parameters:
    ///   - state: a trie node.
    ///   - byte: the next byte.
    /// - Returns: the child, or -1 when no string of the set continues with `byte`.
    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        var lo = Int(firstChild[Int(state)]), hi = Int(firstChild[Int(state) + 1])
        while lo < hi {
            let mid = (lo + hi) / 2
            if childBytes[mid] < byte { lo = mid + 1 } else { hi = mid }
        }
        return lo < Int(firstChild[Int(state) + 1]) && childBytes[lo] == byte ? childNodes[lo] : -1
    }

    /// Whether a string of the set ends here (see `ByteLexeme`).
    /// - Parameter state: a trie node.
    /// - Returns: `true` at the end of a string of the set.
    func isAccepting(_ state: Int32) -> Bool { accepting[Int(state)] }

    /// The sorted strings, each after its length: node numbers are a function of them, so the
    /// default `canonicalKey` (the node itself) is canonical (see `ByteLexeme`).
    private(set) lazy var maskFingerprint: String? = {
        var out = "literals(\(strings.count))"
        for s in strings {
            out += " \(s.count):"
            out += String(decoding: s, as: UTF8.self)
        }
        return out
    }()

    /// The number of trie nodes (states).
    var nodeCount: Int { accepting.count }
}
