import Testing
@testable import ModelRuntime

/// `Model.layerStep`: one decoder layer over candidate residual-stream rows of one token, reading
/// the cached prefix and writing nothing — the primitive of CLaSp's layer-by-layer search.
@Suite struct LayerStepTests {
    typealias Oracle = LayerSelectionTests

    /// Chained over every layer from the token's embedding, one row is the token's forward pass:
    /// its final-normed state equals the pass's, and the cache is left as it was.
    @Test func chainedStepsAreTheForwardPass() throws {
        let model = try Oracle.model()
        let prompt = Oracle.prompt
        let sequence = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: sequence, tokens: Array(prompt.dropLast()), outputs: .none)])
        let position = prompt.count - 1
        var x = try model.embedding(of: prompt.last!)
        for layer in 0..<model.config.layerCount {
            x = try model.layerStep(layer, states: x, position: position, sequence: sequence)
        }
        #expect(sequence.length == position)
        let pass = try model.forward([ForwardItem(sequence: sequence.fork(), tokens: [prompt.last!], outputs: .last, states: .last)])[0]
        let drift = zip(model.finalNormed(x), pass.state(0)).map { abs($0 - $1) }.max()!
        #expect(drift < 1e-4, "\(drift)")
        // The cache still decodes as before the steps.
        let again = try model.forward([ForwardItem(sequence: sequence, tokens: [prompt.last!], outputs: .last, states: .last)])[0]
        #expect(Array(again.state(0)) == Array(pass.state(0)))
    }

    /// Rows are independent: a row's result does not depend on the rows beside it, and a skipped
    /// layer chain (rows carried past a layer unchanged) is the model with that layer skipped.
    @Test func rowsAreIndependentAndSkipsAreTheSelection() throws {
        let model = try Oracle.model()
        let prompt = Oracle.prompt
        let sequence = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: sequence, tokens: Array(prompt.dropLast()), outputs: .none)])
        let position = prompt.count - 1
        let H = model.config.hiddenSize
        let x0 = try model.embedding(of: prompt.last!)
        let other = try model.embedding(of: 3)
        let alone = try model.layerStep(0, states: x0, position: position, sequence: sequence)
        let together = try model.layerStep(0, states: other + x0, position: position, sequence: sequence)
        #expect(zip(alone, together[H...]).map { abs($0 - $1) }.max()! < 1e-5)
        #expect(together[..<H].elementsEqual(try model.layerStep(0, states: other, position: position, sequence: sequence)))
        // Skipping layer 1 of the chain against the runtime's own skip selection.
        var x = x0
        for layer in 0..<model.config.layerCount where layer != 1 {
            x = try model.layerStep(layer, states: x, position: position, sequence: sequence)
        }
        let selection = try LayerSelection(skipping: [1], of: model.config.layerCount)
        let skipped = try model.forward([ForwardItem(sequence: sequence.fork(), tokens: [prompt.last!], outputs: .last, states: .last)],
                                        layers: selection)[0]
        #expect(zip(model.finalNormed(x), skipped.state(0)).map { abs($0 - $1) }.max()! < 1e-4)
    }

    @Test func badInputIsRefused() throws {
        let model = try Oracle.model()
        let sequence = model.makeSequence()
        let x = try model.embedding(of: 1)
        #expect(throws: RuntimeError.self) { try model.layerStep(model.config.layerCount, states: x, position: 0, sequence: sequence) }
        #expect(throws: RuntimeError.self) { try model.layerStep(0, states: x, position: 1, sequence: sequence) }
        #expect(throws: RuntimeError.self) { try model.layerStep(0, states: Array(x.dropLast()), position: 0, sequence: sequence) }
        #expect(throws: RuntimeError.self) { try model.embedding(of: Int32(model.config.vocabularySize)) }
    }
}
