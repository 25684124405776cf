/// A proposed token tree: node `i` continues the node `parents[i]`, or the current context when
/// `parents[i] == -1`. Nodes are in topological order (a parent before its children).
public struct DraftTree: Sendable, Equatable {
    /// Which tier of the drafter proposed a node.
    public enum Source: String, Sendable, Equatable, CaseIterable {
        /// The current context itself (prompt lookup).
        case context
        /// The per-run dynamic table.
        case dynamic
        /// The persistent store.
        case store
    }

    /// The proposed tokens.
    public internal(set) var tokens: [Int32] = []
    /// Each node's parent index, -1 for a child of the context.
    public internal(set) var parents: [Int] = []
    /// How often the node's path followed the matched context in its tier.
    public internal(set) var counts: [UInt32] = []
    /// The node's path count over the matched context's occurrences: an estimate of the
    /// probability that the whole path follows.
    public internal(set) var shares: [Double] = []
    /// Which tier proposed each node.
    public internal(set) var sources: [Source] = []

    /// Creates an empty tree.
    public init() {}

    /// Number of nodes.
    public var count: Int { tokens.count }
    /// Whether nothing is proposed.
    public var isEmpty: Bool { tokens.isEmpty }

    mutating func append(token: Int32, parent: Int, count: UInt32, share: Double, source: Source) {
        tokens.append(token)
        parents.append(parent)
        counts.append(count)
        shares.append(share)
        sources.append(source)
    }

    /// The longest path from the root whose tokens equal the start of `actual` — what a greedy
    /// verifier would accept if the target produced `actual`.
    /// - Parameter actual: the tokens that really follow.
    /// - Returns: the number of accepted tokens.
    public func acceptedLength<C: Collection>(of actual: C) -> Int where C.Element == Int32 {
        var parent = -1
        var accepted = 0
        for token in actual {
            guard let next = tokens.indices.first(where: { parents[$0] == parent && tokens[$0] == token }) else { break }
            parent = next
            accepted += 1
        }
        return accepted
    }
}
