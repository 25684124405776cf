import Foundation
import Testing
@testable import Operators

/// OPT-Tree (`DraftTreeShape`, `ModelDrafter.draftTree`) against exhaustive enumeration: the
/// drafted tree is the `budget` nodes of largest path probability among all paths of at most
/// `depth` tokens, and the row-cost trim keeps the prefix that maximises tokens per unit of cost.
@Suite struct DraftTreeShapeTests {
    /// Every path of at most `depth` tokens after `context` with its product of probabilities.
    static func paths(_ model: TableModel, after context: [Int32], depth: Int) throws -> [(path: [Int32], value: Double)] {
        var out: [(path: [Int32], value: Double)] = []
        var frontier: [(path: [Int32], value: Double)] = [([], 1)]
        for _ in 0..<depth {
            var next: [(path: [Int32], value: Double)] = []
            for (path, value) in frontier {
                let p = try Distribution.softmax(model.nextLogits(context: context + path))
                for token in p.indices { next.append((path + [Int32(token)], value * Double(p[token]))) }
            }
            out += next
            frontier = next
        }
        return out
    }

    static func treePaths(_ tree: TokenTree) -> Set<[Int32]> {
        Set(tree.nodes.indices.map { i in
            var path: [Int32] = [], at = i
            while at >= 0 { path.append(tree.nodes[at].token); at = tree.nodes[at].parent }
            return path.reversed()
        })
    }

    @Test(arguments: [(4, 3), (8, 3), (12, 4), (3, 1)])
    func treeIsTheBestBudgetOfPaths(budget: Int, depth: Int) throws {
        let model = try TableModel(vocabularySize: 6, order: 3, seed: 11, scale: 2)
        let drafter = try ModelDrafter(tokens: depth, settings: .greedy)
        for context in [[1, 2], [3], [5, 0, 4]] as [[Int32]] {
            let shape = DraftTreeShape(budget: budget, depth: depth, rowCost: 0)
            let tree = try drafter.draftTree(model: model, context: LogitsContext(tokens: context, promptCount: context.count), layers: nil, shape: shape)
            let all = try Self.paths(model, after: context, depth: depth).sorted { ($0.value, -$0.path.count) > ($1.value, -$1.path.count) }
            #expect(tree.count == min(budget, all.count))
            let expected = Set(all.prefix(budget).map(\.path))
            #expect(Self.treePaths(tree) == expected, "context \(context)")
            // Each node carries its conditional draft probability.
            for (i, node) in tree.nodes.enumerated() {
                var prefix = context, at = node.parent
                var ancestors: [Int32] = []
                while at >= 0 { ancestors.append(tree.nodes[at].token); at = tree.nodes[at].parent }
                prefix += ancestors.reversed()
                let p = try Distribution.softmax(model.nextLogits(context: prefix))
                #expect(node.draftProbability == p[Int(node.token)], "node \(i)")
            }
        }
    }

    /// The trim keeps the value-order prefix of largest (1 + Σ values) / (1 + c · n).
    @Test func rowCostTrimsToTheBestRatio() {
        let values = [0.9, 0.5, 0.2, 0.1, 0.05]
        func ratio(_ n: Int, _ c: Double) -> Double { (1 + values.prefix(n).reduce(0, +)) / (1 + c * Double(n)) }
        for c in [0.0, 0.05, 0.3, 0.8, 5] {
            let n = DraftTreeShape(budget: 5, depth: 3, rowCost: c).trimmed(values)
            let best = (0...5).max { ratio($0, c) < ratio($1, c) }!
            #expect(c == 0 ? n == 5 : n == best, "cost \(c): \(n) against \(best)")
        }
        #expect(DraftTreeShape(budget: 5, depth: 3, rowCost: 5).trimmed(values) == 0)
    }

    /// Every rank path of at most `depth` steps over `acceptance.count` ranks, with ∏ q along it.
    static func rankPaths(_ acceptance: [Double], depth: Int) -> [(path: [Int], value: Double)] {
        var out: [(path: [Int], value: Double)] = [], frontier: [(path: [Int], value: Double)] = [([], 1)]
        for _ in 0..<depth {
            frontier = frontier.flatMap { path, value in acceptance.indices.map { (path + [$0], value * acceptance[$0]) } }
            out += frontier
        }
        return out
    }

    /// Sequoia's static tree: the drafted tree's nodes, read as ranks in the draft's distribution
    /// after their parents, are the `budget` rank paths of largest ∏ q (the definition Sequoia's
    /// dynamic programme optimises) whatever the context, and `SequoiaTree` gives its value.
    @Test(arguments: [(4, 3), (9, 3), (16, 4)])
    func sequoiaTreeIsTheBestBudgetOfRankPaths(budget: Int, depth: Int) throws {
        let acceptance = [0.55, 0.2, 0.1]
        let model = try TableModel(vocabularySize: 6, order: 3, seed: 5, scale: 2)
        let drafter = try ModelDrafter(tokens: depth, settings: .greedy)
        let all = Self.rankPaths(acceptance, depth: depth).sorted { ($0.value, -$0.path.count) > ($1.value, -$1.path.count) }
        let expected = Set(all.prefix(budget).map(\.path))
        for context in [[1, 2], [3], [5, 0, 4]] as [[Int32]] {
            let shape = DraftTreeShape(budget: budget, depth: depth, rowCost: 0, acceptance: acceptance)
            let tree = try drafter.draftTree(model: model, context: LogitsContext(tokens: context, promptCount: context.count), layers: nil, shape: shape)
            var ranks: [[Int]] = []
            for node in tree.nodes {
                var prefix = context, at = node.parent, ancestors: [Int32] = []
                while at >= 0 { ancestors.append(tree.nodes[at].token); at = tree.nodes[at].parent }
                prefix += ancestors.reversed()
                let order = Distribution.topIndices(try model.nextLogits(context: prefix), 6)
                let rank = order.firstIndex(of: Int(node.token))!
                ranks.append((node.parent < 0 ? [] : ranks[node.parent]) + [rank])
            }
            #expect(Set(ranks) == expected, "context \(context)")
        }
        let value = SequoiaTree.expectedTokens(acceptance: acceptance, nodes: budget, depth: depth)
        #expect(value.nodes == budget)
        #expect(abs(value.tokens - (1 + all.prefix(budget).reduce(0) { $0 + $1.value })) < 1e-12)
    }

    /// CaPE: the chain is greedy's, and at each position whose chosen token is below the threshold
    /// the next most probable tokens sit beside it as leaves (children of the chain's previous node).
    @Test(arguments: [(2, Float(0.5)), (1, Float(0.9)), (3, Float(1))])
    func expansionAddsTheNextBestTokensAtUnsurePositions(siblings: Int, below: Float) throws {
        let model = try TableModel(vocabularySize: 8, order: 3, seed: 3, scale: 1.5)
        let plain = try ModelDrafter(tokens: 5, settings: .greedy)
        var expanding = plain
        expanding.expansion = (siblings, below)
        var rng = Xoshiro256StarStar(seed: 1)
        var unsure = 0
        for context in [[1, 2], [3], [5, 0, 4], [7, 7]] as [[Int32]] {
            let history = LogitsContext(tokens: context, promptCount: context.count)
            let chain = try plain.draft(model: model, context: history, using: &rng)
            let tree = try expanding.draft(model: model, context: history, using: &rng)
            // The chain nodes, in order, are the plain chain.
            var chainNodes: [Int] = [], at = TokenTree.root
            for token in chain.nodes.map(\.token) {
                let next = tree.nodes.indices.first { tree.nodes[$0].parent == at && tree.nodes[$0].token == token }!
                chainNodes.append(next)
                at = next
            }
            var expected = chainNodes.count
            var prefix = context
            for (depth, node) in chainNodes.enumerated() {
                let p = try Distribution.softmax(model.nextLogits(context: prefix))
                let parent = depth == 0 ? TokenTree.root : chainNodes[depth - 1]
                let leaves = tree.nodes.indices.filter { tree.nodes[$0].parent == parent && $0 != node }
                if p[Int(tree.nodes[node].token)] < below {
                    unsure += 1
                    let best = Distribution.topIndices(p, siblings + 1).filter { $0 != Int(tree.nodes[node].token) }.prefix(siblings)
                    #expect(leaves.map { Int(tree.nodes[$0].token) } == Array(best), "context \(context), depth \(depth)")
                    #expect(leaves.allSatisfy { i in !tree.nodes.contains { $0.parent == i } }, "siblings are leaves")
                    expected += best.count
                } else {
                    #expect(leaves.isEmpty)
                }
                prefix.append(tree.nodes[node].token)
            }
            #expect(tree.count == expected)
        }
        #expect(unsure > 0, "no position was unsure, so the test would not see expansion missing")
    }
}
