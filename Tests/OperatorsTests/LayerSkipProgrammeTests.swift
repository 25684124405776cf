import Foundation
import Kernels
import ModelRuntime
import Testing
@testable import Operators

/// CLaSp's dynamic programme (`LayerSkipProgramme`) on a fixture model: the set it reads back is
/// the one whose state it reports, and it moves with the context.
@Suite struct LayerSkipProgrammeTests {
    static let model = ModelSequenceScorerTests.model
    /// The demo target (6 layers), for sets of several layers.
    static let demo: Model = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return try! Model(directory: url.appendingPathComponent("models/demo-target").path, kvCacheBytes: 1 << 22,
                          pool: ComputePool(threadCount: 1))
    }()
    static let prompt: [Int32] = [5, 30, 7, 12, 9, 33, 60, 2, 41, 17]

    /// The state `g[L][count]` is the token's residual stream with the returned set skipped: the
    /// runtime's own skip selection gives the same final state, for every count; skipping nothing
    /// is the model itself.
    @Test(arguments: [false, true])
    func reportedStateIsTheSetSkipped(demo: Bool) throws {
        let model = demo ? Self.demo : Self.model
        let sequence = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: sequence, tokens: Array(Self.prompt.dropLast()), outputs: .none)])
        let position = Self.prompt.count - 1
        let total = model.config.layerCount
        var sets = Set<Set<Int>>()
        for count in 0..<total {
            let found = try LayerSkipProgramme.search(model: model, sequence: sequence, position: position,
                                                      token: Self.prompt.last!, count: count)
            sets.insert(found.skipped)
            #expect(found.skipped.count == count && found.skipped.allSatisfy { (0..<total).contains($0) })
            let selection = try LayerSelection(skipping: found.skipped, of: total)
            let pass = try model.forward([ForwardItem(sequence: sequence.fork(), tokens: [Self.prompt.last!], outputs: .last, states: .last)],
                                         layers: selection)[0]
            let drift = zip(model.finalNormed(found.state), pass.state(0)).map { abs($0 - $1) }.max()!
            #expect(drift < 1e-4, "count \(count): \(drift)")
            if count == 0 { #expect(found.similarity > 1 - 1e-9) }
            #expect(found.similarity <= 1 + 1e-9)
        }
        #expect(sequence.length == position, "the programme writes nothing to the hypothesis's cache")
        #expect(sets.count == total)
    }

    /// No greedy cell choice loses to running every layer it could: each layer's choice keeps the
    /// state nearer the full model's, so the final similarity is at least that of skipping the
    /// last `count` layers (a path the programme always considers).
    @Test func finalSimilarityBeatsSkippingTheTop() throws {
        let sequence = Self.model.makeSequence()
        _ = try Self.model.forward([ForwardItem(sequence: sequence, tokens: Array(Self.prompt.dropLast()), outputs: .none)])
        let total = Self.model.config.layerCount
        let found = try LayerSkipProgramme.search(model: Self.model, sequence: sequence, position: Self.prompt.count - 1,
                                                  token: Self.prompt.last!, count: 1)
        var x = try Self.model.embedding(of: Self.prompt.last!), full = x
        for layer in 0..<total {
            full = try Self.model.layerStep(layer, states: full, position: Self.prompt.count - 1, sequence: sequence)
            if layer < total - 1 { x = full }
        }
        let top = LayerSkipProgramme.cosine(x[...], full[...])
        #expect(found.similarity >= top - 1e-9, "\(found.similarity) against skipping the last layer's \(top)")
    }
}
