import Foundation
import Kernels
import Testing
@testable import ModelRuntime

/// Skipped layers against an independent oracle: a layer whose output projections (`o_proj`,
/// `down_proj`) are zero adds nothing to the residual stream, so the model with those weights
/// zeroed computes exactly what the model with the layer skipped computes — bitwise, since
/// `x + 0 = x`. The demo target has six layers, so skip sets can sit anywhere.
@Suite struct LayerSelectionTests {
    static let directory = Fixtures.root + "/../../models/demo-target"

    /// The demo target's weights with the output projections of `zeroed` layers replaced by zeros.
    final class ZeroedLayers: WeightSource, @unchecked Sendable {
        let base: ModelWeights
        let zeroed: Set<Int>
        var buffers: [UnsafeMutablePointer<Float>] = []
        init(_ base: ModelWeights, zeroed: Set<Int>) {
            self.base = base
            self.zeroed = zeroed
        }
        deinit { buffers.forEach { $0.deallocate() } }
        func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
            let zero = zeroed.contains { name == "model.layers.\($0).self_attn.o_proj.weight" || name == "model.layers.\($0).mlp.down_proj.weight" }
            guard zero else { return try base.matrix(name, rows: rows, columns: columns) }
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: rows * columns)
            buffer.initialize(repeating: 0, count: rows * columns)
            buffers.append(buffer)
            return WeightMatrix(base: UnsafeRawPointer(buffer), dtype: .f32, rows: rows, columns: columns)
        }
        func vector(_ name: String, count: Int) throws -> [Float] { try base.vector(name, count: count) }
        func contains(_ name: String) -> Bool { base.contains(name) }
        func checkNoLayers(beyond layerCount: Int) throws { try base.checkNoLayers(beyond: layerCount) }
    }

    static func model(zeroing layers: Set<Int> = []) throws -> Model {
        let config = try ModelConfig(directory: directory)
        let weights = try ModelWeights(directory: directory)
        let source = ZeroedLayers(weights, zeroed: layers)
        return try Model(config: config, weights: source, storage: source, name: directory, dtype: weights.predominantDType,
                         kvCacheBytes: 8 << 20, pool: .shared, activations: .f32)
    }

    static let prompt: [Int32] = [5, 301, 77, 1024, 9, 33, 600, 2]

    @Test(arguments: [[0], [2, 3], [5], [1, 3, 4]] as [[Int]])
    func skippingIsZeroingTheLayer(skipped: [Int]) throws {
        let model = try Self.model()
        let oracle = try Self.model(zeroing: Set(skipped))
        let selection = try LayerSelection(skipping: Set(skipped), of: model.config.layerCount)
        // A prompt, then two single tokens on the same sequences: the later passes attend to the
        // positions the earlier partial passes wrote, at the layers that run.
        let seq = model.makeSequence(), reference = oracle.makeSequence()
        for tokens in [Self.prompt, [41], [42]] {
            let got = try model.forward([ForwardItem(sequence: seq, tokens: tokens)], layers: selection)[0]
            let want = try oracle.forward([ForwardItem(sequence: reference, tokens: tokens)])[0]
            #expect(got.values == want.values, "skipping \(skipped)")
        }
        #expect(seq.fullLength == 0 && seq.length == Self.prompt.count + 2)
        #expect(seq.partialLayers == selection)
        // Positions without a layer cannot serve a pass that runs it.
        #expect(throws: RuntimeError.self) { try model.forward([ForwardItem(sequence: seq, tokens: [43])]) }
        let other = try LayerSelection(skipping: [skipped[0] == 0 ? 1 : 0], of: model.config.layerCount)
        #expect(throws: RuntimeError.self) { try model.forward([ForwardItem(sequence: seq, tokens: [43])], layers: other) }
        // A subset of the held layers may run over them.
        let fewer = try LayerSelection(skipping: Set(skipped + [skipped[0] == 5 ? 4 : 5]), of: model.config.layerCount)
        #expect(selection.covers(fewer) && !fewer.covers(selection))
        _ = try model.forward([ForwardItem(sequence: seq, tokens: [43])], layers: fewer)
        #expect(seq.partialLayers == fewer)
    }

    @Test func selectionsAreChecked() throws {
        #expect(throws: RuntimeError.self) { try LayerSelection(depth: 0, of: 6) }
        #expect(throws: RuntimeError.self) { try LayerSelection(depth: 7, of: 6) }
        #expect(throws: RuntimeError.self) { try LayerSelection(skipping: [6], of: 6) }
        #expect(throws: RuntimeError.self) { try LayerSelection(skipping: Set(0..<6), of: 6) }
        #expect(try LayerSelection(skipping: [], of: 6) == .all(6))
        #expect(try LayerSelection(depth: 6, of: 6).isComplete)
        #expect(try LayerSelection(depth: 2, of: 6).description == "first 2 of 6 layers")
        #expect(try LayerSelection(skipping: [1, 4], of: 6).layers == [0, 2, 3, 5])
        let model = try Self.model()
        let wrong = try LayerSelection(depth: 2, of: 8)
        #expect(throws: RuntimeError.self) { try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: [1])], layers: wrong) }
    }
}
