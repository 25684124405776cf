import Foundation

/// Best-first lattice search with path recombination (Xu, Jonnalagadda & Durrett 2022, "Massive-scale
/// Decoding for Text Generation using Lattices").
///
/// A priority queue holds the lattice's open nodes, best first by `logprob / length^lengthPenalty`.
/// Each step pops the best `width` of them — scored together, one forward pass — and gives each its
/// `branch` most likely next tokens. A child that ends with EOS (or reaches `maxNewTokens`) closes a
/// path. Otherwise, when `ngram` > 0 and a node of the same length already ends with the same last
/// `ngram` tokens, the child *recombines* with it: only the arc is added and the node's future is
/// shared by both prefixes (same length keeps the lattice acyclic); else it becomes a new open node.
/// With `merge: .zip` (the paper's zip, its reference's `core_merge`) the two paths are merged along
/// the whole span where they agree: walking back from the child and the existing node while their
/// tokens match, the arc goes from the child's first ancestor that differs into the matched nodes,
/// so the child's ancestors of that span share the existing path's nodes and futures too.
/// With `rollout`, each expanded node's most likely child is expanded next, ahead of the queue, so
/// a popped node is followed greedily until its path closes or recombines (the paper's
/// "dfs_expand"): more paths close within the budget, and the other children wait in the queue.
/// The search ends when the budget of expanded nodes is spent or nothing is open. The answer is the
/// best closed path; every closed path is a candidate; the lattice (`SearchLattice`) encodes every
/// path through its arcs, recombined ones included.
public struct LatticeSearch: Sendable {
    /// Nodes expanded per step (one batched pass).
    public let width: Int
    /// Next tokens tried per expanded node.
    public let branch: Int
    /// Most nodes expanded over the search.
    public let budget: Int
    /// Suffix length that recombines two nodes of equal length (0: no recombination).
    public let ngram: Int
    /// Exponent of the length dividing a node's log-probability in the queue's order.
    public let lengthPenalty: Double
    /// Whether an expanded node's most likely open child is expanded next, ahead of the queue.
    public let rollout: Bool
    /// How a child joins the node it recombines with.
    public let merge: Merge
    /// Most generated tokens per path.
    public let maxNewTokens: Int
    /// Tokens that close a path.
    public let eosTokens: Set<Int32>

    /// Creates a search.
    /// - Throws: `OperatorError.invalidParameter` for values out of range.
    public init(width: Int, branch: Int, budget: Int, ngram: Int, lengthPenalty: Double = 1, rollout: Bool = false, merge: Merge = .node,
                maxNewTokens: Int, eosTokens: Set<Int32>) throws {
        try OperatorError.require("width", width, in: 1..., "≥ 1")
        try OperatorError.require("branch", branch, in: 1..., "≥ 1")
        try OperatorError.require("budget", budget, in: 1..., "≥ 1")
        try OperatorError.require("ngram", ngram, in: 0..., "≥ 0")
        try OperatorError.require("max_new_tokens", maxNewTokens, in: 1..., "≥ 1")
        self.width = width
        self.branch = branch
        self.budget = budget
        self.ngram = ngram
        self.lengthPenalty = lengthPenalty
        self.rollout = rollout
        self.merge = merge
        self.maxNewTokens = maxNewTokens
        self.eosTokens = eosTokens
    }

    /// How a recombining child joins the lattice.
    public enum Merge: String, Sendable, CaseIterable {
        /// An arc from the child's parent into the node with the same suffix (recombination).
        case node
        /// The paths merged along the whole span where their tokens agree (the paper's zip).
        case zip
    }

    /// The search state: the lattice grown so far and its open nodes.
    public struct State: Sendable {
        /// The lattice.
        public internal(set) var lattice = SearchLattice()
        /// Open nodes not yet expanded.
        var open: [Int] = []
        /// The nodes being expanded this step, in frontier order.
        public internal(set) var expanding: [Int] = [0]
        /// Nodes expanded so far.
        public internal(set) var expanded = 0
        /// Closed paths, best first.
        public internal(set) var finished: [FrontierCandidate] = []
        /// Whether the search has ended.
        public internal(set) var isDone = false
        /// Per (length, last `ngram` tokens), the node recombining children go to.
        var bySuffix: [[Int32]: Int] = [:]

        /// The frontier: the generated tokens of the nodes being expanded.
        public var running: [[Int32]] { expanding.map { lattice.nodes[$0].tokens } }
    }

    /// The state before the first step: the lattice's root (the prompt) is the one node to expand.
    public func start() -> State { State() }

    /// A node's place in the queue.
    func priority(_ node: SearchLattice.Node) -> Double {
        node.tokens.isEmpty ? 0 : Double(node.logProbability) / pow(Double(node.tokens.count), lengthPenalty)
    }

    /// Expands the frontier's nodes and chooses the next ones.
    /// - Parameters:
    ///   - state: the state.
    ///   - logits: one row per frontier node.
    /// - Returns: for each next frontier node, the index of the current frontier node whose tokens
    ///   share the longest prefix with it (the hypothesis the engine forks it from).
    /// - Throws: `OperatorError.shapeMismatch` for a wrong number of rows.
    @discardableResult
    public func step(_ state: inout State, logits: [[Float]]) throws -> [Int] {
        guard !state.isDone else { return [] }
        guard logits.count == state.expanding.count else {
            throw OperatorError(.shapeMismatch, at: "logits", "expected \(state.expanding.count) rows, got \(logits.count)")
        }
        var continuations: [Int] = []  // with `rollout`: each expanded node's most likely open child
        for (node, row) in zip(state.expanding, logits) {
            let logProbabilities = try Distribution.logSoftmax(row)
            let parent = state.lattice.nodes[node]
            for (rank, token) in Distribution.topIndices(logProbabilities, branch).enumerated() {
                let token32 = Int32(token)
                let lp = logProbabilities[token]
                let tokens = parent.tokens + [token32]
                let total = parent.logProbability + lp
                if eosTokens.contains(token32) || tokens.count >= maxNewTokens {
                    let end = state.lattice.addNode(tokens: tokens, logProbability: total, final: true)
                    state.lattice.addArc(from: node, to: end, token: token32, logProbability: lp)
                    state.finished.append(FrontierCandidate(tokens: tokens, score: Float(Double(total) / pow(Double(tokens.count), lengthPenalty)),
                                                            logProbability: total))
                    continue
                }
                let key = ngram > 0 ? [Int32(tokens.count)] + tokens.suffix(ngram) : []
                if ngram > 0, let existing = state.bySuffix[key] {
                    switch merge {
                    case .node: state.lattice.addArc(from: node, to: existing, token: token32, logProbability: lp)
                    case .zip: state.lattice.zip(token: token32, logProbability: lp, below: node, into: existing)
                    }
                    state.lattice.recombined += 1
                    continue
                }
                let child = state.lattice.addNode(tokens: tokens, logProbability: total, final: false)
                state.lattice.addArc(from: node, to: child, token: token32, logProbability: lp)
                if ngram > 0 { state.bySuffix[key] = child }
                if rollout, rank == 0 { continuations.append(child) } else { state.open.append(child) }
            }
        }
        state.expanded += state.expanding.count
        let before = state.expanding.map { state.lattice.nodes[$0].tokens }
        let room = min(width, budget - state.expanded)
        // Roll-outs go first; what does not fit waits in the queue.
        let rolling = Array(continuations.prefix(max(0, room)))
        state.open += continuations.dropFirst(rolling.count)
        guard room > 0, !(state.open.isEmpty && rolling.isEmpty) else {
            state.expanding = []
            state.isDone = true
            state.finished = FrontierCandidate.bestFirst(state.finished)
            return []
        }
        // The best open nodes (ties: the earlier created).
        let priorities = state.open.map { priority(state.lattice.nodes[$0]) }
        let order = state.open.indices.sorted { (priorities[$0], -state.open[$0]) > (priorities[$1], -state.open[$1]) }
        let chosen = rolling + order.prefix(room - rolling.count).map { state.open[$0] }
        let taken = Set(order.prefix(room - rolling.count))
        state.open = state.open.indices.filter { !taken.contains($0) }.map { state.open[$0] }
        state.expanding = chosen
        state.finished = FrontierCandidate.bestFirst(state.finished)
        return ReopeningSearch.parents(of: chosen.map { state.lattice.nodes[$0].tokens }, in: before)
    }
}

/// A search's lattice: nodes (the root is the prompt) joined by arcs labelled with a token and its
/// log-probability; final nodes close a path. Recombination makes a node reachable by several
/// prefixes, so the lattice can encode far more paths than it has nodes.
public struct SearchLattice: Sendable, Equatable {
    /// A node: the tokens of the first path that reached it and that path's log-probability.
    public struct Node: Sendable, Equatable {
        /// Generated tokens along the first path to the node.
        public var tokens: [Int32]
        /// Their summed log-probability.
        public var logProbability: Float
        /// Whether the node closes a path (EOS or the budget).
        public var final: Bool
    }

    /// An arc.
    public struct Arc: Sendable, Equatable {
        /// Source and target nodes.
        public var from: Int, to: Int
        /// The token.
        public var token: Int32
        /// Its log-probability after the source's prefix.
        public var logProbability: Float
    }

    /// Nodes; node 0 is the root.
    public internal(set) var nodes: [Node] = [Node(tokens: [], logProbability: 0, final: false)]
    /// Arcs, in the order they were added.
    public internal(set) var arcs: [Arc] = []
    /// Recombinations: children that joined an existing node instead of becoming one.
    public internal(set) var recombined = 0
    /// Per node, the arcs into it (indices into `arcs`); the first is the one it was created by.
    var incoming: [[Int]] = [[]]

    /// Adds a node and returns its index.
    mutating func addNode(tokens: [Int32], logProbability: Float, final: Bool) -> Int {
        nodes.append(Node(tokens: tokens, logProbability: logProbability, final: final))
        incoming.append([])
        return nodes.count - 1
    }

    /// Adds an arc.
    mutating func addArc(from: Int, to: Int, token: Int32, logProbability: Float) {
        arcs.append(Arc(from: from, to: to, token: token, logProbability: logProbability))
        incoming[to].append(arcs.count - 1)
    }

    /// Zips a child that was not created — `token`, with its log-probability, below `node` — into
    /// `existing`, a node of the same length ending alike: walking back along the child's first
    /// path and the existing node's predecessors while their last tokens agree, then adding the
    /// arc from the child's first ancestor that differs (or the root) into every matched node of
    /// the deepest level, labelled with the token and log-probability of the child's own path
    /// there. Nothing is added when the child's path already runs into a matched node. Two
    /// differences from the reference, so that every sequence plain recombination would encode
    /// stays encoded: the walk stops at an ancestor that other arcs also enter (the reference
    /// follows the last one in and drops the others' way to the merged future), and the arcs go
    /// only to the nodes whose token matched (the reference attaches every node of that level).
    mutating func zip(token: Int32, logProbability: Float, below node: Int, into existing: Int) {
        // The child's path at the current level: its token and arc, and the node before it.
        var level = (token: token, logProbability: logProbability, before: node)
        var matched = [existing]
        while true {
            let previous = Set(matched.flatMap { incoming[$0].map { arcs[$0].from } })
            if previous.contains(level.before) { return }
            let ancestor = level.before
            // Past an ancestor only when it has no other way in: the prefixes another arc brings
            // into it would lose their way to the merged future.
            let agreeing = ancestor == 0 || incoming[ancestor].count != 1 ? []
                : previous.filter { nodes[$0].tokens.last == nodes[ancestor].tokens.last }.sorted()
            if agreeing.isEmpty {
                for target in matched { addArc(from: ancestor, to: target, token: level.token, logProbability: level.logProbability) }
                return
            }
            // Its one way in is the arc it was created by.
            let arc = arcs[incoming[ancestor][0]]
            level = (arc.token, arc.logProbability, arc.from)
            matched = agreeing
        }
    }

    /// How many distinct root-to-final paths the lattice encodes (a `Double`: recombination makes
    /// the count grow exponentially). Arcs always go from a shorter prefix to a longer one, so the
    /// nodes ordered by length are a topological order.
    public var distinctPaths: Double {
        var paths = Array(repeating: 0.0, count: nodes.count)
        paths[0] = 1
        let outgoing = Dictionary(grouping: arcs, by: \.from)
        for node in nodes.indices.sorted(by: { (nodes[$0].tokens.count, $0) < (nodes[$1].tokens.count, $1) }) {
            for arc in outgoing[node] ?? [] { paths[arc.to] += paths[node] }
        }
        return nodes.indices.filter { nodes[$0].final }.reduce(0) { $0 + paths[$1] }
    }

    /// OpenFst's text format (`fstcompile` reads it): one `source target ilabel olabel weight` line
    /// per arc, then one line per final state. Labels are token id + 1 (0 is OpenFst's epsilon);
    /// weights are −log-probabilities (the tropical semiring's costs).
    public func openFstText() -> String {
        var out = ""
        for arc in arcs {
            out += "\(arc.from)\t\(arc.to)\t\(arc.token + 1)\t\(arc.token + 1)\t\(-arc.logProbability)\n"
        }
        for (index, node) in nodes.enumerated() where node.final { out += "\(index)\t0\n" }
        return out
    }

    /// Graphviz DOT: nodes left to right, arcs labelled with the token's text and probability.
    /// - Parameter label: a token's text.
    public func dot(label: (Int32) -> String) -> String {
        func quote(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        var out = "digraph lattice {\n  rankdir=LR;\n  node [shape=circle, label=\"\", width=0.15];\n  n0 [shape=box, label=\"prompt\"];\n"
        for (index, node) in nodes.enumerated() where node.final { out += "  n\(index) [shape=doublecircle];\n" }
        for arc in arcs {
            out += "  n\(arc.from) -> n\(arc.to) [label=\(quote(label(arc.token) + String(format: " %.2f", exp(Double(arc.logProbability)))))];\n"
        }
        return out + "}\n"
    }

    /// JSON: nodes (tokens of their first path, log-probability, final), arcs, and the path count.
    /// - Parameter label: a token's text.
    public func json(label: (Int32) -> String) throws -> Data {
        let object: [String: Any] = [
            "nodes": nodes.map { ["tokens": $0.tokens.map(Int.init), "log_probability": Double($0.logProbability), "final": $0.final] },
            "arcs": arcs.map { ["from": $0.from, "to": $0.to, "token": Int($0.token), "text": label($0.token), "log_probability": Double($0.logProbability)] },
            "distinct_paths": distinctPaths, "recombined_arcs": recombined,
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}
