import Foundation
import Testing
import Kernels
@testable import ModelRuntime

/// The explicit attention mask (`ForwardMask`): a masked pass gives every row what a chain pass
/// over that row's own context gives, and malformed masks are refused before any cache changes.
@Suite struct ForwardMaskTests {
    /// Lookahead's layout for W = 3, N = 3, G = 2 (Fu et al. 2024, Fig. 2b), rows in item order:
    /// the root; two guessed 2-grams (a, b at offsets 1, 2; c, d likewise); the window's level 0
    /// (columns 1, 2 at offsets 1, 2) and level 1 (columns 0, 1, 2 at offsets 1, 2, 3). Each row
    /// lists the earlier rows it sees.
    static let lookaheadOffsets = [0, 1, 2, 1, 2, 1, 2, 1, 2, 3]
    static let lookaheadVisible: [[Int]] = [[], [0], [0, 1], [0], [0, 3], [0], [0, 5], [0], [0, 5], [0, 5, 6]]

    static func lookaheadMask(base: Int) -> ForwardMask {
        ForwardMask(positions: lookaheadOffsets.map { base + $0 }, visible: lookaheadVisible)
    }

    /// The oracle: each row's logits from the masked pass equal, bitwise, the last row of a pass
    /// over the row's own context (its attended rows in position order, then itself) on a fresh
    /// sequence after the same prefix. The sliding-window fixture (window 8) cuts the prefix.
    @Test(arguments: ["llama-gqa-tied", "mistral-sliding", "qwen2-bias"])
    func maskedPassEqualsEachRowsOwnChain(fixture: String) throws {
        let model = try Model(directory: Fixtures.root + "/runtime/" + fixture, kvCacheBytes: 8 << 20,
                              pool: ComputePool(threadCount: 2), activations: .f32)
        let v = model.config.vocabularySize
        let prefix = (0..<13).map { Int32(($0 * 11 + 5) % v) }
        let rows = (0..<Self.lookaheadOffsets.count).map { Int32(($0 * 17 + 3) % v) }
        let sequence = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: sequence, tokens: prefix, outputs: .none)])
        let masked = try model.forward([ForwardItem(sequence: sequence, tokens: rows, mask: Self.lookaheadMask(base: prefix.count))])[0]
        #expect(masked.rows == rows.count)
        for row in rows.indices {
            let own = (Self.lookaheadVisible[row] + [row]).sorted { Self.lookaheadOffsets[$0] < Self.lookaheadOffsets[$1] }
            #expect(own.map { Self.lookaheadOffsets[$0] } == Array(0..<own.count), "row \(row)'s context is a chain")
            let fresh = model.makeSequence()
            _ = try model.forward([ForwardItem(sequence: fresh, tokens: prefix, outputs: .none)])
            let chain = try model.forward([ForwardItem(sequence: fresh, tokens: own.map { rows[$0] }, outputs: .all)])[0]
            #expect(Array(masked.row(row)) == Array(chain.row(chain.rows - 1)), "\(fixture) row \(row)")
        }
    }

    /// A tree spelled as a mask (`ForwardMask(parents:base:)`) scores bitwise as the tree does.
    @Test func treeAsMaskEqualsTree() throws {
        let model = try Model(directory: Fixtures.root + "/runtime/llama-gqa-tied", kvCacheBytes: 8 << 20,
                              pool: ComputePool(threadCount: 1), activations: .f32)
        let tokens: [Int32] = [3, 4, 9, 11, 2], parents = [-1, 0, 1, 1, 3]
        let (a, b) = (model.makeSequence(), model.makeSequence())
        for s in [a, b] { _ = try model.forward([ForwardItem(sequence: s, tokens: [7, 8, 1], outputs: .none)]) }
        let tree = try model.forward([ForwardItem(sequence: a, tokens: tokens, parents: parents)])[0]
        let masked = try model.forward([ForwardItem(sequence: b, tokens: tokens, mask: ForwardMask(parents: parents, base: 3))])[0]
        #expect(tree.values == masked.values)
        #expect(ForwardMask(parents: parents, base: 3).positions == [3, 4, 5, 5, 6])
    }

    /// Malformed masks: each refused with `badInput`, and the cache left as it was.
    @Test(arguments: [
        ("parents and a mask", [1, 2], [-1, 0], ForwardMask(positions: [4, 5], visible: [[], [0]])),
        ("a position inside the cache", [1], nil, ForwardMask(positions: [3], visible: [[]])),
        ("a later row attended", [1, 2], nil, ForwardMask(positions: [4, 5], visible: [[1], []])),
        ("itself attended explicitly", [1], nil, ForwardMask(positions: [4], visible: [[0]])),
        ("a row attended twice", [1, 2], nil, ForwardMask(positions: [4, 5], visible: [[], [0, 0]])),
        ("an attended row at the same position", [1, 2], nil, ForwardMask(positions: [4, 4], visible: [[], [0]])),
        ("counts that disagree", [1, 2], nil, ForwardMask(positions: [4], visible: [[]])),
        ("a position past exact rotary angles", [1], nil, ForwardMask(positions: [1 << 24], visible: [[]])),
    ] as [(String, [Int32], [Int]?, ForwardMask)])
    func malformedMasksAreRefused(_ what: String, tokens: [Int32], parents: [Int]?, mask: ForwardMask) throws {
        let model = try Model(directory: Fixtures.root + "/runtime/llama-gqa-tied", kvCacheBytes: 4 << 20)
        let sequence = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: sequence, tokens: [1, 2, 3, 4], outputs: .none)])
        #expect(throws: RuntimeError.self, "\(what)") {
            try model.forward([ForwardItem(sequence: sequence, tokens: tokens, parents: parents, mask: mask)])
        }
        #expect(sequence.length == 4, "\(what): the cache is untouched")
    }

    /// The rendering: one line per row, `x` where it attends.
    @Test func rendersRowsAndLabels() {
        let mask = ForwardMask(positions: [0, 1, 1], visible: [[], [0], [0]])
        #expect(mask.rendered() == "x..\nxx.\nx.x")
        #expect(mask.rendered(labels: ["root", "a", "b"]) == "root x..\na    xx.\nb    x.x")
    }
}
