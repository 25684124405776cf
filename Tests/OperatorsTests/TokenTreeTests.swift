import Testing
@testable import Operators

@Suite struct TokenTreeTests {
    @Test func appendComputesDepthAndPaths() throws {
        var tree = TokenTree()
        let a = try tree.append(5, parent: TokenTree.root, source: "x")
        let b = try tree.append(6, parent: a, source: "x")
        let c = try tree.append(7, parent: TokenTree.root, source: "x")
        #expect(tree.nodes.map(\.depth) == [1, 2, 1])
        #expect(tree.tokens(to: b) == [5, 6])
        #expect(tree.path(to: TokenTree.root) == [])
        #expect(tree.childLists() == [[a, c], [b], [], []])
    }

    @Test func validationRejectsBrokenTrees() {
        let node = { (token: Int32, parent: Int, depth: Int) in
            TokenTree.Node(token: token, parent: parent, depth: depth, draftDistribution: nil, draftProbability: nil, source: "x")
        }
        // A parent after its child, a wrong depth, a token outside the vocabulary, a draft that never proposes its token.
        #expect { try TokenTree(validating: [node(1, 1, 1), node(2, -1, 1)]) } throws: { ($0 as? OperatorError)?.code == .invalidTree }
        #expect { try TokenTree(validating: [node(1, -1, 1), node(2, 0, 3)]) } throws: { ($0 as? OperatorError)?.code == .invalidTree }
        #expect { try TokenTree(validating: [node(9, -1, 1)], vocabularySize: 4) } throws: { ($0 as? OperatorError)?.code == .invalidTree }
        var tree = TokenTree()
        #expect { try tree.append(1, parent: -1, draftDistribution: [1, 0], source: "x") } throws: {
            ($0 as? OperatorError)?.code == .invalidDistribution
        }
        #expect(throws: OperatorError.self) { try TokenTree.merged([], budget: -1) }
    }

    @Test func mergeDeduplicatesDeterministicPathsAndCountsSupport() throws {
        let lookup = try TokenTree.chain([1, 2, 3], source: "lookup")
        let other = try TokenTree.chain([1, 2, 4], source: "ngram")
        let merged = try TokenTree.merged([lookup, other], budget: 10)
        #expect(merged.count == 4)
        #expect(merged.nodes.map(\.token) == [1, 2, 3, 4])
        #expect(merged.nodes.map(\.parent) == [-1, 0, 1, 1])
        // Under a budget of 3 the shared prefix (support 2) wins, then the first tree's leaf.
        let trimmed = try TokenTree.merged([lookup, other], budget: 3)
        #expect(trimmed.nodes.map(\.token) == [1, 2, 3])
    }

    @Test func preserveSamplesNeverMergesSampledNodes() throws {
        let q: [Float] = [0.25, 0.25, 0.5]
        let sampledA = try TokenTree.chain([2], source: "draft", draftDistributions: [q])
        let sampledB = try TokenTree.chain([2], source: "draft", draftDistributions: [q])
        let lookup = try TokenTree.chain([2], source: "lookup")
        let kept = try TokenTree.merged([sampledA, sampledB, lookup], budget: 8)
        #expect(kept.count == 3)
        #expect(kept.nodes.map(\.isSampled) == [true, true, false])
        let deduplicated = try TokenTree.merged([sampledA, sampledB, lookup], budget: 8, rule: .deduplicateAll)
        #expect(deduplicated.count == 1)
        #expect(!deduplicated.nodes[0].isSampled)
    }

    /// Property: for random forests and budgets, the merge keeps ≤ budget nodes, every kept node's
    /// parent is kept, no deterministic duplicates remain, and every input path of kept nodes exists.
    @Test(arguments: MergeRule.allCases)
    func mergeIsAClosedDeduplicatedTree(rule: TokenTree.MergeRule) throws {
        var rng = Xoshiro256StarStar(seed: 99)
        for _ in 0..<200 {
            var trees: [TokenTree] = []
            for t in 0..<Int(rng.next() % 4) {
                var tree = TokenTree()
                for _ in 0..<Int(rng.next() % 9) {
                    let parent = Int(rng.next() % UInt64(tree.count + 1)) - 1
                    let token = Int32(rng.next() % 3)
                    let sampled = t % 2 == 1
                    try tree.append(token, parent: parent, draftDistribution: sampled ? [0.2, 0.3, 0.5] : nil,
                                    draftProbability: sampled ? nil : Float(rng.next() % 100) / 100, source: "t\(t)")
                }
                trees.append(tree)
            }
            let budget = Int(rng.next() % 12)
            let merged = try TokenTree.merged(trees, budget: budget, rule: rule)
            #expect(merged.count <= budget)
            _ = try TokenTree(validating: merged.nodes)  // parents precede children, depths consistent
            var seen = Set<[Int32]>()
            for i in 0..<merged.count where !merged.nodes[i].isSampled {
                #expect(seen.insert(merged.tokens(to: i) + [Int32(merged.nodes[i].parent)]).inserted)
            }
            let inputPaths = Set(trees.flatMap { tree in (0..<tree.count).map { tree.tokens(to: $0) } })
            for i in 0..<merged.count { #expect(inputPaths.contains(merged.tokens(to: i))) }
            let total = Set(trees.flatMap { tree in (0..<tree.count).map { tree.tokens(to: $0) } }).count
            if rule == .deduplicateAll { #expect(merged.count == min(budget, total)) }
        }
    }
    typealias MergeRule = TokenTree.MergeRule
}

@Suite struct PromptLookupDrafterTests {
    @Test(arguments: [
        // (context, minMatch, maxMatch, maxTokens, expected)
        ([1, 2, 3, 9, 1, 2, 3, 7, 5, 1, 2, 3], 1, 3, 4, [7, 5, 1, 2]),  // most recent occurrence of [1,2,3]
        ([1, 2, 3, 4, 8, 3, 4], 1, 3, 2, [8, 3]),                      // longest suffix [3,4] beats [4]
        ([5, 6, 7, 8], 1, 3, 5, []),                                    // nothing recurs
        ([4, 4, 4, 4], 2, 2, 3, [4]),                                   // overlapping match, continuation clipped at the end
        ([1, 9, 2, 9], 2, 3, 3, []),                                    // only a 1-token match, below min_match
        ([1, 9, 2, 9], 1, 3, 3, [2, 9]),
    ] as [([Int32], Int, Int, Int, [Int32])])
    func proposesTheContinuationOfTheMostRecentLongestMatch(context: [Int32], minMatch: Int, maxMatch: Int, maxTokens: Int, expected: [Int32]) throws {
        let drafter = try PromptLookupDrafter(minMatch: minMatch, maxMatch: maxMatch, maxTokens: maxTokens)
        #expect(drafter.continuation(of: context) == expected)
        let tree = drafter.draft(context: context)
        #expect(tree.tokens(to: tree.count - 1) == expected)
        #expect(tree.nodes.allSatisfy { !$0.isSampled && $0.source == "lookup" })
    }

    /// CopySpec's choice: the first earlier occurrence of the matched γ-gram, not the most recent;
    /// a gated step (limit 0) proposes nothing.
    @Test func firstOccurrenceAndGatedSteps() throws {
        let context: [Int32] = [1, 2, 3, 9, 1, 2, 3, 7, 5, 1, 2, 3]
        let first = try PromptLookupDrafter(minMatch: 3, maxMatch: 3, maxTokens: 4, occurrence: .first)
        #expect(first.continuation(of: context) == [9, 1, 2, 3])
        #expect(try PromptLookupDrafter(minMatch: 3, maxMatch: 3, maxTokens: 4).continuation(of: context) == [7, 5, 1, 2])
        #expect(first.continuation(of: context, limit: 0).isEmpty && first.draft(context: context, limit: 0).isEmpty)
        // The suffix itself is no earlier occurrence.
        #expect(first.continuation(of: [4, 5, 6]).isEmpty)
    }

    @Test func rejectsBadParameters() {
        #expect(throws: OperatorError.self) { try PromptLookupDrafter(minMatch: 0) }
        #expect(throws: OperatorError.self) { try PromptLookupDrafter(minMatch: 3, maxMatch: 2) }
        #expect(throws: OperatorError.self) { try PromptLookupDrafter(maxTokens: 0) }
    }
}

@Suite struct TokenTreeAttentionTests {
    @Test func maskMarksAncestorsAndSelfAndPositionsFollowDepth() throws {
        var tree = TokenTree()
        let a = try tree.append(1, parent: -1, source: "x")
        let b = try tree.append(2, parent: a, source: "x")
        _ = try tree.append(3, parent: -1, source: "x")
        let d = try tree.append(4, parent: b, source: "x")
        let mask = tree.attentionMask()
        for i in 0..<tree.count {
            let ancestors = Set(tree.path(to: i))
            #expect((0..<tree.count).filter { mask[i][$0] } == ancestors.sorted())
        }
        #expect(mask[d] == [true, true, false, true])
        #expect(tree.positions(after: 10) == [10, 11, 10, 12])
    }
}
