import Graph
import Synchronization

/// `draft.recycle`: Token Recycling (Luo et al. 2025, "Turning Trash into Treasure: Accelerating
/// Inference of Large Language Models with Token Recycling"). An adjacency table holds, for each
/// token, the target's `candidates` most likely next tokens the last time the target scored a
/// position after it; every step refreshes it from the previous step's scores — the logits the
/// verifier already paid for, at the root and at every tree node, accepted or not — and drafts a
/// tree by breadth-first lookup along a static template: a node of rank r (the r-th candidate of
/// its parent) at depth d has `widths[d] − r` children. The table lives as long as the node (a
/// session keeps it across runs). Deterministic given the table, so either verifier accepts it
/// without draft probabilities.
public struct DraftRecycleOp: HypothesisOperator {
    /// The declaration.
    public static let spec = OpSpec(
        "draft.recycle", family: .propose,
        doc: "Token Recycling (Luo et al. 2025): a table of the target's top `candidates` next tokens after each token, refreshed from the previous step's scores (every scored position, accepted or not), drafts a tree along a static template of `widths` per depth. Deterministic.",
        parameters: [candidates.spec, widths.spec],
        inputs: [PortSpec("scores", .scores, timing: .previousStep,
                          doc: "The scoring node whose previous-step logits (root and every tree node) refresh the table.")],
        output: OutputSpec(.tokenTree, provides: [PropertyRule(.deterministic), PropertyRule(.exactDraft)],
                           doc: "The template filled from the table; empty branches where the table has no entry yet."),
        needs: [CapabilityRule(.tokenTrees), CapabilityRule(.rollback)],
        validate: OpValidation.checks { node, _ in _ = try DraftRecycleOp.template(node) })

    static let candidates = OpParameter<Int>("candidates", default: 8, range: .closed(1, 64),
                                             doc: "Next-token candidates kept per token (the paper's table width, 8).")
    static let widths = OpParameter<[Int]>("widths", default: [2, 1, 1, 1, 1, 1], range: .closed(0, 64),
                                           doc: "Children per node by depth: a node of rank r at depth d has widths[d] − r children (the root has widths[0]); the tree's depth is the list's length. The default, 7 nodes 6 deep (two candidates at the root, then the best chain), suits a CPU, where every node costs a row of the verification pass: on SmolLM2-135M Q4_1 it ran at 0.86× greedy against 0.63× for 21 nodes and 0.27× for 69 (docs/measurements.md); the paper's GPU tree has about 80.")

    /// The shared table: per token, its candidates, most likely first (`-1` for none).
    final class Table: Sendable {
        let width: Int
        let rows: Mutex<[Int32]> = Mutex([])
        init(width: Int) { self.width = width }
    }

    let width: Int
    /// The template: per node, its parent (−1 the root) and its rank among its siblings.
    let template: [(parent: Int, rank: Int)]
    let table: Table

    /// Builds the node.
    /// - Parameters:
    ///   - node: the plan node.
    ///   - environment: unused (the table fills itself).
    /// - Throws: `OperatorError.invalidParameter` for a template of no node or too many.
    public init(node: Plan.Node, environment: any OperatorEnvironment) throws {
        width = try node[Self.candidates]
        template = try Self.template(node)
        table = Table(width: width)
    }

    /// Most template nodes: each is a row of every verification pass.
    static let maximumNodes = 512

    /// The template of a node's `widths`, breadth first.
    /// - Parameter node: the plan node.
    /// - Returns: per template node, its parent and rank.
    /// - Throws: `OperatorError.invalidParameter` for no node or more than `maximumNodes`.
    static func template(_ node: Plan.Node) throws -> [(parent: Int, rank: Int)] {
        let widths = try node[Self.widths]
        let candidates = try node[Self.candidates]
        var nodes: [(parent: Int, rank: Int, depth: Int)] = []
        var level: [(index: Int, rank: Int)] = [(-1, 0)]
        for (depth, width) in widths.enumerated() {
            var next: [(index: Int, rank: Int)] = []
            for parent in level {
                let children = min(candidates, depth == 0 ? width : max(0, width - parent.rank))
                for rank in 0..<children {
                    nodes.append((parent.index, rank, depth))
                    next.append((nodes.count - 1, rank))
                    guard nodes.count <= maximumNodes else {
                        throw OperatorError(.invalidParameter, at: Self.widths.name, "makes a template of more than \(maximumNodes) nodes")
                    }
                }
            }
            level = next
        }
        guard !nodes.isEmpty else { throw OperatorError(.invalidParameter, at: Self.widths.name, "makes a template of no node") }
        return nodes.map { ($0.parent, $0.rank) }
    }

    /// A fresh hypothesis's state: the token the previous step's root row followed.
    /// - Returns: the state.
    public func makeState() throws -> (any HypothesisState)? { PreviousRoot() }
    /// It keeps per-hypothesis state.
    public static var keepsHypothesisState: Bool { true }

    /// Refreshes the table from scored positions.
    /// - Parameter entries: each position's preceding token and its logits.
    func refresh(_ entries: [(token: Int32, logits: [Float])]) {
        let updates = entries.map { (token: $0.token, next: Distribution.topIndices($0.logits, width).map(Int32.init)) }
        table.rows.withLock { rows in
            for update in updates where update.token >= 0 {
                let needed = (Int(update.token) + 1) * width
                if rows.count < needed { rows.append(contentsOf: repeatElement(-1, count: needed - rows.count)) }
                let base = Int(update.token) * width
                for r in 0..<width { rows[base + r] = r < update.next.count ? update.next[r] : -1 }
            }
        }
    }

    /// The template filled from the table below `root`.
    /// - Parameter root: the context's last token.
    /// - Returns: the tree (a branch stops where the table has no candidate).
    func draft(after root: Int32) throws -> TokenTree {
        var tree = TokenTree()
        var placed = [Int](repeating: -1, count: template.count)
        try table.rows.withLock { rows in
            func candidate(after token: Int32, rank: Int) -> Int32? {
                let at = Int(token) * width + rank
                guard token >= 0, rank < width, at < rows.count, rows[at] >= 0 else { return nil }
                return rows[at]
            }
            for (i, node) in template.enumerated() {
                let parentToken: Int32
                let parentIndex: Int
                if node.parent < 0 {
                    (parentToken, parentIndex) = (root, TokenTree.root)
                } else {
                    guard placed[node.parent] >= 0 else { continue }
                    (parentToken, parentIndex) = (tree.nodes[placed[node.parent]].token, placed[node.parent])
                }
                guard let token = candidate(after: parentToken, rank: node.rank) else { continue }
                placed[i] = try tree.append(token, parent: parentIndex, source: "recycle")
            }
        }
        return tree
    }

    /// Refreshes the table from the previous step's scores, then drafts below the context.
    /// - Parameters:
    ///   - input: the history and the previous step's scores.
    ///   - rng: unused (the proposal is deterministic).
    /// - Returns: `.tree`.
    /// - Throws: `OperatorError.shapeMismatch` for scores that do not match their tree.
    public func run(_ input: StepInput, rng: inout Xoshiro256StarStar) throws -> StepValue {
        let state = input.state as? PreviousRoot
        for (tree, logits) in try input.previousScores("scores") {
            var entries: [(token: Int32, logits: [Float])] = tree.nodes.enumerated().map { ($1.token, logits[$0 + 1]) }
            if let root = state?.token { entries.append((root, logits[0])) }
            refresh(entries)
        }
        guard let last = input.history.tokens.last else { return .tree(TokenTree()) }
        state?.token = last
        return .tree(try draft(after: last))
    }
}
