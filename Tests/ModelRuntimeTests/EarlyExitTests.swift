import Foundation
import Testing
@testable import ModelRuntime

/// CALM's early exit against the zeroed-layer oracle of `LayerSelectionTests`: a model whose layers
/// from `d` on have zero output projections leaves the residual stream at the depth-`d` state, so
/// its every later layer writes keys and values projected from that state — exactly what an exit
/// at depth `d` fills in (state propagation) — and its logits are the exit's.
@Suite struct EarlyExitTests {
    typealias Oracle = LayerSelectionTests

    /// Keys and values of every layer at a sequence's positions.
    static func cacheContents(_ model: Model, _ sequence: KVSequence) -> [[Float]] {
        let width = model.config.kvHeadCount * model.config.headDim
        return model.cache.layerPools.map { pool in
            (0..<sequence.length).flatMap { position in
                let offset = sequence.slotOffset(position)
                return Array(UnsafeBufferPointer(start: pool.keys + offset, count: width))
                    + Array(UnsafeBufferPointer(start: pool.values + offset, count: width))
            }
        }
    }

    @Test(arguments: [1, 3, 5])
    func exitingIsZeroingTheLayersAbove(depth: Int) throws {
        let model = try Oracle.model()
        let layers = model.config.layerCount
        let oracle = try Oracle.model(zeroing: Set(depth..<layers))
        let exit = try EarlyExit(depths: Array(1..<layers), of: layers) { $0.depth == depth }
        let seq = model.makeSequence(), reference = oracle.makeSequence()
        for tokens in [Oracle.prompt, [41], [42]] {
            let got = try model.forward([ForwardItem(sequence: seq, tokens: tokens)], exit: exit)
            let want = try oracle.forward([ForwardItem(sequence: reference, tokens: tokens)])[0]
            #expect(got.depth == depth)
            let same = got.logits[0].values == want.values
            #expect(same, "exit at \(depth)")
        }
        // The filled layers hold the oracle's keys and values, and the positions count as full.
        let sameCache = Self.cacheContents(model, seq) == Self.cacheContents(oracle, reference)
        #expect(sameCache, "the filled keys and values differ from the zeroed model's")
        #expect(seq.fullLength == seq.length)
        _ = try model.forward([ForwardItem(sequence: seq, tokens: [43])])
    }

    @Test func probesReadTheShallowModel() throws {
        let model = try Oracle.model()
        let layers = model.config.layerCount
        var seen: [Int: [Float]] = [:]
        let exit = try EarlyExit(depths: [2, 4], of: layers) { probe in
            seen[probe.depth] = probe.logits
            return false
        }
        let seq = model.makeSequence()
        let got = try model.forward([ForwardItem(sequence: seq, tokens: Oracle.prompt, outputs: .last)], exit: exit)
        #expect(got.depth == layers && got.headEvaluations == 2)
        // Never exiting is the plain pass, bitwise.
        let plain = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: Oracle.prompt, outputs: .last)])[0]
        #expect(got.logits[0].values == plain.values)
        // Each probe's logits are the first layers' own.
        for depth in [2, 4] {
            let shallow = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: Oracle.prompt, outputs: .last)],
                                            layers: try LayerSelection(depth: depth, of: layers))[0]
            #expect(seen[depth] == shallow.values, "probe at \(depth)")
        }
    }

    @Test func longInputsExitOnlyInTheirLastPass() throws {
        let model = try Oracle.model()
        let layers = model.config.layerCount
        model.passTokens = 3
        var probes = 0
        let exit = try EarlyExit(depths: [2], of: layers) { _ in
            probes += 1
            return true
        }
        let got = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: Oracle.prompt, outputs: .last)], exit: exit)
        #expect(probes == 1 && got.depth == 2)
        // The earlier passes ran every layer: the same as a full prefill then an exit on the last token.
        let seq = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: seq, tokens: Array(Oracle.prompt.dropLast()), outputs: .none)])
        let split = try model.forward([ForwardItem(sequence: seq, tokens: [Oracle.prompt.last!], outputs: .last)], exit: exit)
        #expect(split.logits[0].values == got.logits[0].values)
    }

    @Test func depthsAreChecked() throws {
        #expect(throws: RuntimeError.self) { try EarlyExit(depths: [-1], of: 6) { _ in true } }
        #expect(throws: RuntimeError.self) { try EarlyExit(depths: [6], of: 6) { _ in true } }
        #expect(throws: RuntimeError.self) { try EarlyExit(depths: [3, 2], of: 6) { _ in true } }
        let model = try Oracle.model()
        let tooDeep = try EarlyExit(depths: [7], of: 8) { _ in true }
        #expect(throws: RuntimeError.self) { try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: [1])], exit: tooDeep) }
    }
}
