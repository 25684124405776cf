import Constraints
import Testing
@testable import Operators

/// `ConstraintState`: the draft filter and masks of the `constrain.*` ops, on a vocabulary of
/// single characters plus two multi-character tokens and an EOS.
@Suite struct ConstraintStateTests {
    static let pieces = ["a", "b", "c", "x", "ab", "bc"]
    static let eos = Int32(pieces.count)
    static let vocabulary = TokenVocabulary(tokenBytes: pieces.map { Array($0.utf8) } + [[]], endOfSequence: [Int(eos)])
    static func id(_ piece: String) -> Int32 { Int32(pieces.firstIndex(of: piece)!) }

    /// `a b+ c`: after `a` only `b…` may follow, so `b` is forced.
    static func state() throws -> ConstraintState {
        ConstraintState(Constraint(grammar: try Grammar.regex("ab+c"), vocabulary: vocabulary))
    }

    /// Each row's allowed tokens by brute force: advance the path, ask `allows` for every token.
    static func allowed(after path: [Int32]) throws -> Set<Int32> {
        var c = Constraint(grammar: try Grammar.regex("ab+c"), vocabulary: vocabulary)
        for t in path {
            let advanced = c.advance(Int(t))
            #expect(advanced)
        }
        var allowed = Set<Int32>()
        for t in 0...eos where c.allows(Int(t)) { allowed.insert(t) }
        return allowed
    }

    @Test func prunesForbiddenNodesAndMasksEveryRow() throws {
        var tree = TokenTree()
        let a = try tree.append(Self.id("a"), parent: TokenTree.root, source: "t")
        try tree.append(Self.id("x"), parent: TokenTree.root, source: "t")        // forbidden at the root
        let ab = try tree.append(Self.id("b"), parent: a, source: "t")
        try tree.append(Self.id("c"), parent: a, source: "t")                     // "ac" cannot become ab+c
        try tree.append(Self.id("x"), parent: ab, source: "t")                    // forbidden after "ab"
        try tree.append(Self.id("bc"), parent: ab, source: "t")                   // "abbc": complete
        let filtered = try Self.state().filter(tree, forcedLimit: 0)
        #expect(filtered.nodes.map(\.token) == [Self.id("a"), Self.id("b"), Self.id("bc")])
        #expect(filtered.nodes.map(\.parent) == [TokenTree.root, 0, 1])
        let masks = try #require(filtered.allowedNext)
        #expect(masks.count == filtered.count + 1)
        for row in 0...filtered.count {
            let path = row == 0 ? [] : filtered.tokens(to: row - 1)
            let mask = try #require(masks[row])
            #expect(Set(mask.allowed.map(Int32.init)) == (try Self.allowed(after: path)), "row \(row) after \(path)")
        }
        // "abbc" is complete: only EOS may follow.
        #expect(masks[3]?.allowed == [Int(Self.eos)])
    }

    @Test func addsForcedTokensAndSyncsWithTheOutput() throws {
        let state = try Self.state()
        // At the start only "a…" is allowed; "ab" and "a" both start it, so nothing is forced yet.
        #expect(state.filter(TokenTree(), forcedLimit: 8).isEmpty)
        try state.sync(generated: [Self.id("a")])
        // After "a", "b" or "bc" — two tokens — may follow, so still nothing is forced by token.
        #expect(state.filter(TokenTree(), forcedLimit: 8).count == 0)
        // A rolled-back history (a different path) is followed too.
        try state.sync(generated: [Self.id("ab")])
        #expect(state.consumed == [Self.id("ab")])
        #expect(throws: OperatorError.self) { try state.sync(generated: [Self.id("ab"), Self.id("a")]) }
    }

    @Test func forcedChainMergesIntoTheProposal() throws {
        // Vocabulary without "ab"/"bc": after "a", "b" is the only token allowed.
        let pieces = ["a", "b", "c"]
        let vocabulary = TokenVocabulary(tokenBytes: pieces.map { Array($0.utf8) } + [[]], endOfSequence: [3])
        let state = ConstraintState(Constraint(grammar: try Grammar.regex("abb+c"), vocabulary: vocabulary))
        var tree = TokenTree()
        try tree.append(0, parent: TokenTree.root, source: "draft")                 // "a", also forced
        let filtered = state.filter(tree, forcedLimit: 8)
        // Forced: a, b, b (then b or c). The drafted "a" is reused; two forced nodes follow it.
        #expect(filtered.nodes.map(\.token) == [0, 1, 1])
        #expect(filtered.nodes.map(\.source) == ["draft", "forced", "forced"])
        #expect(filtered.nodes.map(\.parent) == [TokenTree.root, 0, 1])
        #expect(filtered.allowedNext?.count == 4)
        #expect(Set(filtered.allowedNext?[3]?.allowed ?? []) == [1, 2])
    }

    /// A constraint that runs out of its parser budget (docs/constraints.md, limits) reports it in
    /// `failure`, which `ConstraintFilter` turns into the run's error; the row's mask allows nothing
    /// rather than a truncated set.
    @Test func exhaustedBudgetIsReportedNotMasked() throws {
        let grammar = try Grammar.parse("root ::= root root | \"a\" | \"\"")
        let state = ConstraintState(Constraint(grammar: grammar, vocabulary: Self.vocabulary, parserWorkLimit: 2_000))
        var generated: [Int32] = []
        while state.constraint.failure == nil, generated.count < 1000 {
            generated.append(Self.id("a"))
            do { try state.sync(generated: generated) } catch { break }
            _ = state.filter(TokenTree(), forcedLimit: 0)
        }
        let failure = try #require(state.constraint.failure)
        #expect(failure.code == .limitExceeded)
        #expect(state.filter(TokenTree(), forcedLimit: 0).allowedNext?.first??.allowedCount == 0)
    }
}
