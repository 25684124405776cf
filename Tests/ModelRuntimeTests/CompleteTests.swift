import Foundation
import Testing
@testable import ModelRuntime

/// LayerSkip's cache reuse (`Model.complete`): positions written one at a time by passes over the
/// first E layers (a self-speculative draft) and then finished from their residuals through the
/// remaining layers give bitwise the logits, and the keys and values, of one full pass over the
/// same tokens — so a verifier that reuses the draft's layers decides exactly as one that re-feeds.
@Suite struct CompleteTests {
    typealias Oracle = LayerSelectionTests

    @Test(arguments: [1, 3, 5])
    func completingIsTheFullPass(depth: Int) throws {
        let model = try Oracle.model()
        let first = try LayerSelection(depth: depth, of: model.config.layerCount)
        let drafted: [Int32] = [41, 7, 300]
        let seq = model.makeSequence(), reference = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: seq, tokens: Oracle.prompt, outputs: .none)])
        _ = try model.forward([ForwardItem(sequence: reference, tokens: Oracle.prompt, outputs: .none)])
        // The draft: one token per partial pass, as a chain drafter feeds them.
        for token in drafted { _ = try model.forward([ForwardItem(sequence: seq, tokens: [token], outputs: .last)], layers: first) }
        #expect(seq.canComplete && seq.partialResiduals.count == drafted.count)
        let completed = try model.complete(seq)
        let full = try model.forward([ForwardItem(sequence: reference, tokens: drafted, outputs: .all)])[0]
        #expect(completed.values == full.values, "depth \(depth)")
        #expect(seq.fullLength == seq.length && seq.length == reference.length && seq.partialResiduals.isEmpty)
        #expect(EarlyExitTests.cacheContents(model, seq) == EarlyExitTests.cacheContents(model, reference))
        // Decoding on from both gives the same row.
        let next = try model.forward([ForwardItem(sequence: seq, tokens: [9], outputs: .last)])[0]
        let want = try model.forward([ForwardItem(sequence: reference, tokens: [9], outputs: .last)])[0]
        #expect(next.values == want.values)
    }

    @Test func onlyPassesOverTheFirstLayersCanBeCompleted() throws {
        let model = try Oracle.model()
        let seq = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: seq, tokens: Oracle.prompt, outputs: .none)])
        #expect(!seq.canComplete)
        #expect(throws: RuntimeError.self) { _ = try model.complete(seq) }
        // A skip set leaves positions without the skipped layers' keys: nothing to complete from.
        _ = try model.forward([ForwardItem(sequence: seq, tokens: [5], outputs: .last)], layers: try LayerSelection(skipping: [1], of: model.config.layerCount))
        #expect(!seq.canComplete)
        // Truncating into the partial positions keeps the residuals of those left.
        seq.truncate(to: Oracle.prompt.count)
        let first = try LayerSelection(depth: 2, of: model.config.layerCount)
        for token in [5, 6, 7] as [Int32] { _ = try model.forward([ForwardItem(sequence: seq, tokens: [token], outputs: .last)], layers: first) }
        seq.truncate(to: Oracle.prompt.count + 2)
        #expect(seq.canComplete && seq.partialResiduals.count == 2)
    }
}
