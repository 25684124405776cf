import Constraints

/// Continuations proposed for one hypothesis, as a tree hanging below its last committed token.
///
/// The step model (DESIGN.md) has drafters propose a `TokenTree`, the target score the root and
/// every node in one forward pass, and a verifier accept one root-to-node path. Nodes are stored
/// in topological order — every parent precedes its children — so a single forward pass over
/// `nodes` in order can build each node's attention mask from its parent's, and a verifier can walk
/// the tree without sorting.
///
/// A node's `draftDistribution` is the drafter's distribution *at the parent's position* from which
/// the node's token was sampled; speculative sampling needs it to form the residual. A node without
/// one is a deterministic proposal (prompt lookup, n-gram retrieval, a greedy drafter): the verifier
/// treats it as a one-hot draft distribution on its token, which keeps sampling exact.
public struct TokenTree: Sendable, Equatable {
    /// One proposed token.
    public struct Node: Sendable, Equatable {
        /// The proposed token.
        public var token: Int32
        /// Index of the parent node in `nodes`, or `TokenTree.root` (-1) for a child of the root.
        public var parent: Int
        /// Distance from the root: 1 for the root's children.
        public var depth: Int
        /// The drafter's next-token distribution at the parent position, from which `token` was
        /// sampled; `nil` for deterministic proposals.
        public var draftDistribution: [Float]?
        /// The drafter's probability (or confidence) of `token` given the path to the parent; used
        /// to rank nodes when merging under a budget. `nil` when the drafter gives none.
        public var draftProbability: Float?
        /// Which drafter proposed the node (`"lookup"`, `"draft"`…); merged nodes keep the first.
        public var source: String

        /// Creates a node; `TokenTree(validating:)` checks it against its tree.
        /// - Parameters:
        ///   - token: the proposed token.
        ///   - parent: the parent's index, or `TokenTree.root`.
        ///   - depth: the parent's depth + 1.
        ///   - draftDistribution: the distribution `token` was sampled from, or `nil`.
        ///   - draftProbability: the drafter's probability of `token`, if known.
        ///   - source: the drafter's tag.
        public init(token: Int32, parent: Int, depth: Int, draftDistribution: [Float]? = nil,
                    draftProbability: Float? = nil, source: String) {
            self.token = token
            self.parent = parent
            self.depth = depth
            self.draftDistribution = draftDistribution
            self.draftProbability = draftProbability
            self.source = source
        }

        /// Whether the verifier must treat the token as a sample from `draftDistribution`.
        public var isSampled: Bool { draftDistribution != nil }
    }

    /// The parent index of the root's children.
    public static let root = -1

    /// The nodes, parents before children.
    public private(set) var nodes: [Node] = []

    /// Set by a constraint (`constrain.*`): per row — the root first, then each node — the tokens
    /// the constraint allows next there, or `nil` for a row it leaves free (after an accepted
    /// end-of-sequence token). `sample` forbids every other token before shaping. `nil` for an
    /// unconstrained tree.
    public var allowedNext: [TokenMask?]?

    /// Rows scored in the same pass under a mask of their own and never committed (Lookahead's
    /// Jacobi window, `SideRows`); `nil` for a plain tree. Filters that rebuild a tree keep them.
    public var sideRows: SideRows?

    /// An empty tree: the target scores the root only (plain decoding, beam search).
    public init() {}

    /// Wraps nodes whose invariants the caller has established (parents mapped in order).
    init(trusted nodes: [Node]) { self.nodes = nodes }

    /// Appends a copy of `node` below `parent` (an earlier node or the root), recomputing its
    /// depth; for filters that copy nodes of a checked tree.
    /// - Returns: the new node's index.
    @discardableResult
    mutating func appendTrusted(_ node: Node, parent: Int) -> Int {
        var copy = node
        copy.parent = parent
        copy.depth = parent == TokenTree.root ? 1 : nodes[parent].depth + 1
        nodes.append(copy)
        return nodes.count - 1
    }

    /// A tree from nodes built elsewhere, after checking every invariant.
    /// - Parameters:
    ///   - nodes: the nodes in topological order.
    ///   - vocabularySize: when given, tokens and draft distributions are checked against it.
    /// - Throws: `OperatorError.invalidTree` for a parent that does not precede its child or a wrong
    ///   depth; `OperatorError.invalidDistribution` for a malformed draft distribution.
    public init(validating nodes: [Node], vocabularySize: Int? = nil) throws {
        for node in nodes {
            try append(node.token, parent: node.parent, draftDistribution: node.draftDistribution,
                       draftProbability: node.draftProbability, source: node.source, vocabularySize: vocabularySize)
            if self.nodes[self.nodes.count - 1].depth != node.depth {
                throw OperatorError(.invalidTree, at: "node \(self.nodes.count - 1)",
                                    "depth \(node.depth) does not match its parent's depth + 1 (\(self.nodes[self.nodes.count - 1].depth))")
            }
        }
    }

    /// A chain: each token the child of the previous one.
    /// - Parameters:
    ///   - tokens: the proposed continuation.
    ///   - source: the drafter's tag.
    ///   - draftDistributions: per token, the distribution it was sampled from, or `nil` for a
    ///     deterministic chain.
    ///   - draftProbabilities: per token, the drafter's probability of it, if known.
    /// - Returns: the chain as a tree.
    /// - Throws: `OperatorError.shapeMismatch` when the arrays disagree in length, and whatever
    ///   `append` throws.
    public static func chain(_ tokens: [Int32], source: String, draftDistributions: [[Float]]? = nil,
                             draftProbabilities: [Float]? = nil) throws -> TokenTree {
        if let d = draftDistributions, d.count != tokens.count {
            throw OperatorError(.shapeMismatch, at: "draftDistributions", "\(d.count) distributions for \(tokens.count) tokens")
        }
        if let p = draftProbabilities, p.count != tokens.count {
            throw OperatorError(.shapeMismatch, at: "draftProbabilities", "\(p.count) probabilities for \(tokens.count) tokens")
        }
        var tree = TokenTree()
        for (i, token) in tokens.enumerated() {
            try tree.append(token, parent: i - 1, draftDistribution: draftDistributions?[i],
                            draftProbability: draftProbabilities?[i], source: source)
        }
        return tree
    }

    /// Number of nodes (the root is not a node).
    public var count: Int { nodes.count }
    /// Whether the tree proposes nothing.
    public var isEmpty: Bool { nodes.isEmpty }

    /// Adds a node below `parent`.
    /// - Parameters:
    ///   - token: the proposed token.
    ///   - parent: an existing node's index, or `TokenTree.root`.
    ///   - draftDistribution: the distribution `token` was sampled from, if it was sampled.
    ///   - draftProbability: the drafter's probability of `token`; defaults to
    ///     `draftDistribution[token]` when a distribution is given.
    ///   - source: the drafter's tag.
    ///   - vocabularySize: when given, `token` and the distribution's size are checked against it.
    /// - Returns: the new node's index.
    /// - Throws: `OperatorError.invalidTree` for a parent that does not exist yet or a negative
    ///   token; `OperatorError.invalidDistribution` for a distribution with negative, non-finite or
    ///   zero-sum entries, or one that gives `token` no probability.
    @discardableResult
    public mutating func append(_ token: Int32, parent: Int, draftDistribution: [Float]? = nil,
                                draftProbability: Float? = nil, source: String,
                                vocabularySize: Int? = nil) throws -> Int {
        let index = nodes.count
        guard parent >= TokenTree.root, parent < index else {
            throw OperatorError(.invalidTree, at: "node \(index)",
                                "parent \(parent) must be -1 (the root) or an earlier node (0..<\(index))")
        }
        guard token >= 0, vocabularySize.map({ Int(token) < $0 }) ?? true else {
            throw OperatorError(.invalidTree, at: "node \(index)", "token \(token) is outside the vocabulary")
        }
        var probability = draftProbability
        if let q = draftDistribution {
            if let v = vocabularySize, q.count != v {
                throw OperatorError(.invalidDistribution, at: "node \(index)", "draft distribution has \(q.count) entries for a vocabulary of \(v)")
            }
            guard Int(token) < q.count, q.allSatisfy({ $0.isFinite && $0 >= 0 }), q[Int(token)] > 0 else {
                throw OperatorError(.invalidDistribution, at: "node \(index)",
                                    "draft distribution must be finite, non-negative and give token \(token) a positive probability")
            }
            if probability == nil { probability = q[Int(token)] / q.reduce(0, +) }
        }
        if let p = probability, !(p.isFinite && p >= 0 && p <= 1) {
            throw OperatorError(.invalidDistribution, at: "node \(index)", "draft probability \(p) is not in [0, 1]")
        }
        let depth = parent == TokenTree.root ? 1 : nodes[parent].depth + 1
        nodes.append(Node(token: token, parent: parent, depth: depth, draftDistribution: draftDistribution,
                          draftProbability: probability, source: source))
        return index
    }

    /// Node indices from the root's child down to `node`.
    /// - Parameter node: a node index, or `TokenTree.root` for the empty path.
    /// - Returns: the path, root side first.
    public func path(to node: Int) -> [Int] {
        var path: [Int] = []
        var current = node
        while current != TokenTree.root {
            path.append(current)
            current = nodes[current].parent
        }
        return path.reversed()
    }

    /// The tokens along `path(to:)`.
    /// - Parameter node: a node index, or `TokenTree.root`.
    /// - Returns: the tokens the hypothesis would gain by accepting up to `node`.
    public func tokens(to node: Int) -> [Int32] { path(to: node).map { nodes[$0].token } }

    /// The nodes a token sequence follows from the root, root side first, up to the first token
    /// no child of the last node carries (the path a commit took through a scored tree).
    /// - Parameter tokens: the tokens after the root.
    /// - Returns: node indices, at most `tokens.count`.
    public func path<C: Collection>(following tokens: C) -> [Int] where C.Element == Int32 {
        let children = childLists()
        var path: [Int] = []
        var position = 0
        for token in tokens {
            guard let child = children[position].first(where: { nodes[$0].token == token }) else { break }
            path.append(child)
            position = child + 1
        }
        return path
    }

    /// Children of every node, computed in one pass.
    /// - Returns: an array of `count + 1` lists; entry 0 holds the root's children, entry `i + 1`
    ///   those of node `i`, each in index order.
    public func childLists() -> [[Int]] {
        var children = [[Int]](repeating: [], count: nodes.count + 1)
        for (i, node) in nodes.enumerated() { children[node.parent + 1].append(i) }
        return children
    }

    /// The ends of its paths: the nodes without children, in index order, or the root alone
    /// (`TokenTree.root`) for an empty tree.
    public var leaves: [Int] {
        guard !isEmpty else { return [TokenTree.root] }
        let children = childLists()
        return nodes.indices.filter { children[$0 + 1].isEmpty }
    }

    /// The greatest depth, 0 for an empty tree.
    public var depth: Int { nodes.map(\.depth).max() ?? 0 }
}
