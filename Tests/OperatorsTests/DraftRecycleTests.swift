import Graph
import Testing
@testable import Operators

/// Token Recycling's table and template, without a model: the template's shape from `widths`,
/// the table refreshed from scored positions (root row after the previous context's last token,
/// one row after each tree node), and the tree drafted by breadth-first lookup.
@Suite struct DraftRecycleTests {
    static func compile(_ fields: String) -> GraphCompiler.Compilation {
        DraftedGraph.compile(["r: { op: draft.recycle, scores: s\(fields.isEmpty ? "" : ", " + fields) }"], tree: "r")
    }

    static func op(_ fields: String) throws -> DraftRecycleOp {
        let (node, environment) = try DraftedGraph.node("r", of: ["r: { op: draft.recycle, scores: s\(fields.isEmpty ? "" : ", " + fields) }"], tree: "r")
        return try DraftRecycleOp(node: node, environment: environment)
    }

    @Test func templateFollowsTheWidths() throws {
        // Root: 3 children (ranks 0, 1, 2); rank r at depth 1 has 2 − r children; depth 2 ends.
        let template = try Self.op("widths: [3, 2]").template
        #expect(template.map(\.parent) == [-1, -1, -1, 0, 0, 1])
        #expect(template.map(\.rank) == [0, 1, 2, 0, 1, 0])
        // The default: 7 nodes, 6 deep (a second candidate at the root, then the best chain).
        #expect(try Self.op("").template.map(\.parent) == [-1, -1, 0, 2, 3, 4, 5])
        // Refused when the graph is checked, at the parameter.
        #expect(Self.compile("widths: [0]").rendered.contains("'widths' of node 'r' (draft.recycle): makes a template of no node"))
        #expect(Self.compile("widths: [64, 64, 64]").rendered.contains("makes a template of more than 512 nodes"))
    }

    static func row(favouring tokens: [Int], vocabulary: Int = 10) -> [Float] {
        var row = [Float](repeating: 0, count: vocabulary)
        for (rank, token) in tokens.enumerated() { row[token] = Float(10 - rank) }
        return row
    }

    @Test func draftsFromThePreviousStepsScores() throws {
        let op = try Self.op("candidates: 2, widths: [2, 1]")
        var rng = Xoshiro256StarStar(seed: 1)
        let state = try op.makeState()
        func run(_ context: [Int32], _ previous: StepValue?) throws -> TokenTree {
            let input = StepInput(history: LogitsContext(tokens: context, promptCount: 1),
                                  inputs: ["scores": previous.map { [$0] } ?? []], state: state)
            guard case .tree(let tree) = try op.run(input, rng: &rng) else { throw OperatorError(.shapeMismatch, at: "r", "not a tree") }
            return tree
        }
        // First step: an empty table drafts nothing.
        #expect(try run([5], nil).isEmpty)
        // The target scored the root after 5 (favouring 7, 3) and a tree node 7 (favouring 1, 2).
        var scored = TokenTree()
        _ = try scored.append(7, parent: TokenTree.root, source: "t")
        let tree = try run([5, 7], .scores(tree: scored, logits: [Self.row(favouring: [7, 3]), Self.row(favouring: [1, 2])]))
        // After 7: candidates 1, 2 at the root; below rank 0 (1) nothing is known yet, below rank 1 (2) the template stops.
        #expect(tree.nodes.map(\.token) == [1, 2])
        #expect(op.table.rows.withLock { Array($0[(5 * 2)..<(5 * 2 + 2)]) } == [7, 3], "the root row refreshed the entry of the previous context's last token")
        // A later context that returns to 5 drafts 7 then 1 below it.
        let again = try run([5, 7, 9, 5], nil)
        #expect(again.nodes.map(\.token) == [7, 3, 1])
        #expect(again.nodes.map(\.parent) == [TokenTree.root, TokenTree.root, 0])
    }

    /// The table's selection (shared with contrastive search's candidates): the k largest above
    /// −∞, largest first, the lower index first among equals — a full sort's order.
    @Test func topIndicesAreTheSortsPrefix() {
        var rng = Xoshiro256StarStar(seed: 7)
        for trial in 0..<50 {
            // Few distinct values, so ties are common; some masked.
            let row = (0..<40).map { _ -> Float in rng.next() % 7 == 0 ? -.infinity : Float(rng.next() % 5) }
            let k = trial % 12
            let sorted = row.indices.filter { row[$0] > -.infinity }.sorted { (row[$0], -$0) > (row[$1], -$1) }
            #expect(Distribution.topIndices(row, k) == Array(sorted.prefix(k)), "trial \(trial)")
        }
        #expect(Distribution.topIndices([-.infinity, 2, -.infinity], 3) == [1])
        #expect(Distribution.topIndices([1, 1, 1], 2) == [0, 1])
    }
}
