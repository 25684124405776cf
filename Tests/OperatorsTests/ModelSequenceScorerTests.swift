import Foundation
import Kernels
import ModelRuntime
import Testing
@testable import Operators

/// The runtime adapter against a fresh-sequence oracle: every tree row must equal the logits of
/// the same path scored as a plain chain on a new sequence, including after the cache kept an
/// accepted path (`keepPath`) or rolled back.
@Suite struct ModelSequenceScorerTests {
    static let model: Model = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        return try! Model(directory: url.appendingPathComponent("Fixtures/runtime/llama-gqa-tied").path,
                          kvCacheBytes: 1 << 22, pool: ComputePool(threadCount: 1))
    }()

    /// Logits after `context`, from a new sequence.
    static func fresh(_ context: [Int32]) throws -> [Float] {
        let logits = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: context, outputs: .last)])[0]
        return Array(logits.row(0))
    }

    static func close(_ a: [Float], _ b: [Float]) -> Bool {
        zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) }
    }

    @Test func treeRowsMatchChainsAndCacheFollowsCommits() throws {
        let scorer = ModelSequenceScorer(service: DirectForward(model: Self.model))
        var context: [Int32] = [3, 14, 15, 9, 26]
        var tree = TokenTree()
        let a = try tree.append(5, parent: TokenTree.root, source: "t")
        try tree.append(35, parent: a, source: "t")
        let c = try tree.append(8, parent: TokenTree.root, source: "t")
        let d = try tree.append(9, parent: c, source: "t")
        try tree.append(79, parent: d, source: "t")
        for round in 0..<3 {
            let rows = try scorer.score(context: context, tree: tree)
            #expect(rows.count == tree.count + 1)
            #expect(Self.close(rows[0], try Self.fresh(context)), "root, round \(round)")
            for node in tree.nodes.indices {
                #expect(Self.close(rows[node + 1], try Self.fresh(context + tree.tokens(to: node))), "node \(node), round \(round)")
            }
            // Commit: round 0 accepts the deep branch, round 1 nothing, round 2 a shorter path.
            let accepted = round == 0 ? tree.tokens(to: 4) : round == 1 ? [] : tree.tokens(to: a)
            context += accepted + [Int32(11 + round)]
        }
        // A context that leaves the cached prefix (another hypothesis) truncates and re-feeds.
        let other: [Int32] = [3, 14, 2, 2]
        #expect(Self.close(try scorer.nextLogits(context: other), try Self.fresh(other)))
        #expect(Self.close(try scorer.fork().nextLogits(context: other + [7]), try Self.fresh(other + [7])))
    }

    /// Forks taken after a tree pass keep the tree path their own context committed (a beam that
    /// advanced several drafted tokens): each fork's cache then holds that path without a re-feed,
    /// and its rows still equal a fresh sequence's; the parent keeps the tree for its other forks.
    @Test func forksKeepTheirOwnPathOfTheScoredTree() throws {
        let scorer = ModelSequenceScorer(service: DirectForward(model: Self.model))
        let context: [Int32] = [3, 14, 15, 9, 26]
        var tree = TokenTree()
        let a = try tree.append(5, parent: TokenTree.root, source: "t")
        let b = try tree.append(35, parent: a, source: "t")
        let c = try tree.append(8, parent: TokenTree.root, source: "t")
        _ = try scorer.score(context: context, tree: tree)
        let deep = context + tree.tokens(to: b) + [40], shallow = context + tree.tokens(to: c), off = context + [60, 61]
        let forks = [deep, shallow, off].map { scorer.fork(continuing: $0) }
        #expect(forks.map(\.sequence.length) == [context.count + 2, context.count + 1, context.count], "each fork kept its own path")
        for (fork, next) in zip(forks, [deep, shallow, off]) {
            var grown = TokenTree()
            try grown.append(12, parent: TokenTree.root, source: "t")
            let rows = try fork.score(context: next, tree: grown)
            #expect(Self.close(rows[0], try Self.fresh(next)))
            #expect(Self.close(rows[1], try Self.fresh(next + [12])))
        }
        #expect(Self.close(try scorer.nextLogits(context: context + [8, 2]), try Self.fresh(context + [8, 2])), "the parent after its forks")
    }

    @Test func emptyContextIsAnError() {
        let scorer = ModelSequenceScorer(service: DirectForward(model: Self.model))
        #expect(throws: OperatorError.self) { try scorer.score(context: [], tree: TokenTree()) }
    }

    /// LayerSkip's cache reuse: verifying a chain drafted from the first layer through this
    /// scorer's own cache finishes the draft's positions instead of re-feeding them — bitwise the
    /// rows of a scorer that never drafted, one full call plus one partial call (the chain's last
    /// token) instead of a full pass over every row — and the next step goes on from the accepted path.
    @Test func verifyingASelfDraftReusesItsLayers() throws {
        let usage = ModelUsage()
        let scorer = ModelSequenceScorer(service: DirectForward(model: Self.model), usage: usage)
        let plain = ModelSequenceScorer(service: DirectForward(model: Self.model))
        let first = try LayerSelection(depth: 1, of: Self.model.config.layerCount)
        var context: [Int32] = [3, 17, 9, 40]
        for step in 0..<3 {
            // The draft: three tokens, one partial pass each, through the shared cache.
            var chain: [Int32] = []
            for _ in 0..<3 {
                let row = try scorer.nextLogits(context: context + chain, layers: first)
                chain.append(Int32(try Distribution.argmax(row)))
            }
            var tree = TokenTree()
            for (i, token) in chain.enumerated() { try tree.append(token, parent: i - 1, source: "draft") }
            let before = (usage.fullCalls, usage.partialCalls)
            let rows = try scorer.score(context: context, tree: tree)
            // The first draft fed the prompt at partial depth too: that step re-feeds it whole
            // (a prompt's rows go through the prefill kernel, not the per-token one); later
            // steps start from a full cache of the committed text and reuse the draft.
            if step > 0 {
                #expect(usage.fullCalls == before.0 + 1 && usage.partialCalls == before.1 + 1, "step \(step): one completion and the last token's partial pass")
            }
            let want = try plain.score(context: context, tree: tree)
            #expect(rows == want, "step \(step)")
            // Commit a prefix of the chain and the target's own next token, as a verifier would.
            let accepted = step % 3
            context += Array(chain.prefix(accepted)) + [Int32(try Distribution.argmax(rows[accepted]))]
        }
        #expect(try scorer.nextLogits(context: context) == (try plain.nextLogits(context: context)))
    }
}
