import Testing
@testable import Operators

@Suite struct GreedyVerifierTests {
    /// Rows whose argmax is the given token.
    static func rows(_ argmaxes: [Int], width: Int = 6) -> [[Float]] {
        argmaxes.map { a in (0..<width).map { $0 == a ? 1 : 0 } }
    }

    @Test func acceptsTheLongestMatchingPathAndAppendsTheTargetsToken() throws {
        // root → 2 → 3 → 4, and root → 2 (duplicate) → 3 → 5 → 1.
        var tree = TokenTree()
        let a = try tree.append(2, parent: -1, source: "x")
        let b = try tree.append(3, parent: a, source: "x")
        _ = try tree.append(4, parent: b, source: "x")
        let d = try tree.append(2, parent: -1, source: "y")
        let e = try tree.append(3, parent: d, source: "y")
        let f = try tree.append(5, parent: e, source: "y")
        _ = try tree.append(1, parent: f, source: "y")
        // Target argmax per position: root→2, after each node as listed.
        let verdict = try GreedyVerifier.verify(tree: tree, rows: Self.rows([2, 3, 5, 0, 3, 5, 1, 0]))
        #expect(verdict.acceptedNodes == [d, e, f, f + 1])
        #expect(verdict.tokens == [2, 3, 5, 1, 0])
        // A first-token miss commits only the target's token.
        #expect(try GreedyVerifier.verify(tree: tree, rows: Self.rows([4, 3, 5, 0, 3, 5, 1, 0])).tokens == [4])
        #expect(try GreedyVerifier.verify(tree: TokenTree(), rows: Self.rows([3])).tokens == [3])
    }

    /// With one-hot target rows, speculative sampling must commit what greedy verification commits,
    /// whatever the drafts' own distributions.
    @Test func speculativeVerifierReducesToGreedyOnOneHotTargets() throws {
        var rng = Xoshiro256StarStar(seed: 3)
        let width = 4
        for _ in 0..<300 {
            var trees: [TokenTree] = []
            for t in 0..<3 {
                var tree = TokenTree()
                for _ in 0..<Int(rng.next() % 6) {
                    let parent = Int(rng.next() % UInt64(tree.count + 1)) - 1
                    let q: [Float]? = t == 0 ? nil : (0..<width).map { _ in Float(rng.next() % 5 + 1) }
                    try tree.append(Int32(rng.next() % UInt64(width)), parent: parent, draftDistribution: q, source: "t\(t)")
                }
                trees.append(tree)
            }
            let tree = try TokenTree.merged(trees, budget: 10, rule: .deduplicateAll)
            let rows = Self.rows((0...tree.count).map { _ in Int(rng.next() % UInt64(width)) }, width: width)
            let greedy = try GreedyVerifier.verify(tree: tree, rows: rows)
            let sampled = try SpeculativeVerifier.verify(tree: tree, targetDistributions: rows, using: &rng)
            #expect(greedy == sampled)
        }
    }
}

@Suite struct ModelDrafterTests {
    static let model = try! TableModel(vocabularySize: 12, order: 2, seed: 5, scale: 2)

    @Test func greedyDraftsAreDeterministicArgmaxChains() throws {
        let drafter = try ModelDrafter(tokens: 4, settings: .greedy)
        var rng = Xoshiro256StarStar(seed: 1)
        let tree = try drafter.draft(model: Self.model, context: LogitsContext(tokens: [3], promptCount: 1), using: &rng)
        #expect(tree.count == 4)
        var context: [Int32] = [3]
        for node in tree.nodes {
            let logits = try Self.model.logits(after: context)
            #expect(Int(node.token) == (try Distribution.argmax(logits)))
            #expect(!node.isSampled)
            #expect(abs((node.draftProbability ?? 0) - (try Distribution.softmax(logits))[Int(node.token)]) < 1e-6)
            context.append(node.token)
        }
    }

    @Test func sampledDraftsCarryTheirDistributionAndStopBelowMinProbability() throws {
        var rng = Xoshiro256StarStar(seed: 2)
        let sampler = try ModelDrafter(tokens: 3, settings: SamplingSettings(temperature: 0.8))
        let tree = try sampler.draft(model: Self.model, context: LogitsContext(tokens: [1], promptCount: 1), using: &rng)
        #expect(tree.count == 3 && tree.nodes.allSatisfy(\.isSampled))
        let expected = try LogitsPipeline(SamplingSettings(temperature: 0.8)).distribution(try Self.model.logits(after: [1]), context: LogitsContext(tokens: [1], promptCount: 1))
        #expect(tree.nodes[0].draftDistribution == expected)
        // A threshold above every top probability proposes nothing.
        let picky = try ModelDrafter(tokens: 3, minProbability: 1, settings: SamplingSettings(temperature: 2))
        #expect(try picky.draft(model: Self.model, context: LogitsContext(tokens: [1], promptCount: 1), using: &rng).isEmpty)
        #expect(throws: OperatorError.self) { try ModelDrafter(tokens: 0, settings: .greedy) }
    }

    @Test func tableModelScoresEveryNodeWithItsPath() throws {
        var tree = TokenTree()
        let a = try tree.append(4, parent: -1, source: "x")
        _ = try tree.append(7, parent: a, source: "x")
        let rows = try Self.model.score(context: [2, 9], tree: tree)
        #expect(rows == [try Self.model.logits(after: [9]), try Self.model.logits(after: [4]), try Self.model.logits(after: [7])])
        #expect(throws: OperatorError.self) { try Self.model.score(context: [12], tree: TokenTree()) }
        #expect(throws: OperatorError.self) { try TableModel(vocabularySize: 50_000, order: 3, seed: 1, scale: 1) }
    }

    @Test func maskAllowsOrForbidsListedTokens() throws {
        var logits: [Float] = [1, 2, 3, 4]
        try TokenMaskProcessor(.allow, tokens: [1, 3]).process(&logits, context: LogitsContext(tokens: [], promptCount: 0))
        #expect(logits == [-.infinity, 2, -.infinity, 4])
        try TokenMaskProcessor(.forbid, tokens: [3]).process(&logits, context: LogitsContext(tokens: [], promptCount: 0))
        #expect(logits == [-.infinity, 2, -.infinity, -.infinity])
        #expect(throws: OperatorError.self) { try TokenMaskProcessor(.allow, tokens: []) }
    }
}

@Suite struct DistributionTests {
    /// Quickselect against a full sort, on rows with many ties, sorted and reversed rows.
    @Test func kthLargestMatchesSorting() {
        var rng = Xoshiro256StarStar(seed: 8)
        for trial in 0..<300 {
            let n = 1 + Int(rng.next() % 60)
            var row = (0..<n).map { _ in Float(Int(rng.next() % 7)) - 3 }
            if trial % 3 == 1 { row.sort() } else if trial % 3 == 2 { row.sort(by: >) }
            let sorted = row.sorted(by: >)
            for k in 1...n { #expect(Distribution.kthLargest(row, k) == sorted[k - 1]) }
        }
    }
}
