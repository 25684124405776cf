import Testing
@testable import Operators

/// SuffixDecoding's drafter against hand-worked cases: the longest suffix match over the context
/// and earlier outputs, continuations merged and counted, the tree grown best-first within a
/// budget proportional to the match length.
@Suite struct SuffixDrafterTests {
    static func drafter(factor: Double = 1, minMatch: Int = 1, maxTokens: Int = 16, minProbability: Double = 0) -> SuffixDrafter {
        SuffixDrafter(maxDepth: 8, minMatch: minMatch, factor: factor, maxTokens: maxTokens, minProbability: minProbability, source: "s")
    }

    @Test func longestMatchAndItsOccurrences() {
        // The suffix [1, 2] occurs at 0–1 and 4–5; [9, 1, 2] only at 3–5... of the context, ending before its end.
        let context: [Int32] = [1, 2, 7, 9, 1, 2, 8, 9, 1, 2]
        let match = Self.drafter().longestMatch(of: context, in: [context])
        #expect(match.length == 3)
        #expect(match.continuations.map(\.start) == [6])
        // Without the 9 in front, both occurrences of [1, 2] match equally.
        let shorter: [Int32] = [1, 2, 7, 5, 1, 2, 8, 4, 1, 2]
        let two = Self.drafter().longestMatch(of: shorter, in: [shorter])
        #expect(two.length == 2 && two.continuations.map(\.start) == [2, 6])
    }

    @Test func continuationsMergeByCount() throws {
        // [5, 6] is followed by 7 8 twice (once in an earlier output) and by 9 once.
        let context: [Int32] = [5, 6, 7, 8, 1, 5, 6, 9, 3, 5, 6]
        let earlier: [[Int32]] = [[4, 5, 6, 7, 8]]
        let tree = try Self.drafter(factor: 2).draft(context: context, earlier: earlier)
        // Match length 2 (the earlier output has [4, 5, 6], the context [1|3, 5, 6]): budget 4. The
        // trie counts 7 → 8 twice, then 1 → 5 and 9 → 3 once each; equal counts go to the path found first.
        #expect(tree.nodes.map(\.token) == [7, 8, 1, 5])
        #expect(tree.nodes.map(\.parent) == [TokenTree.root, 0, 1, 2])
        // A third occurrence continuing 7 → 2 makes 7 a branch point: 8 (twice) before 2 (once).
        let branching = try Self.drafter(factor: 1.5).draft(context: context + [7, 2, 5, 6], earlier: earlier)
        #expect(branching.nodes.map(\.token) == [7, 8, 1])
        #expect(branching.nodes.map(\.parent) == [TokenTree.root, 0, 1])
        // The probability floor drops the continuation one occurrence in three took.
        let pruned = try Self.drafter(factor: 2, minProbability: 0.5).draft(context: context, earlier: earlier)
        #expect(pruned.nodes.map(\.token) == [7, 8])
    }

    @Test func budgetFollowsTheMatchLength() throws {
        let context: [Int32] = [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3]
        #expect(try Self.drafter(factor: 1).draft(context: context, earlier: []).count == 3)
        #expect(try Self.drafter(factor: 2, maxTokens: 4).draft(context: context, earlier: []).count == 4)
        #expect(try Self.drafter(minMatch: 4).draft(context: context, earlier: []).isEmpty)
        // A length policy's cap (`schedule: heuristic`) bounds the budget further.
        #expect(try Self.drafter(factor: 2).draft(context: context, earlier: [], limit: 2).count == 2)
        #expect(try Self.drafter().draft(context: [1, 2, 3], earlier: []).isEmpty, "nothing occurred before")
    }
}
