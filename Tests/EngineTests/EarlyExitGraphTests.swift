import Foundation
import Graph
import ModelRuntime
import Operators
import Testing
@testable import Engine

/// graphs/calm.yaml, d3.yaml and skipdecode.yaml on the demo target, against the methods'
/// definitions replayed on the runtime without the engine: CALM exits where the softmax margin of
/// the exit's logits reaches the threshold (computed here in Double), D³ and SkipDecode run the
/// layer sets their schedules name (computed here from the papers' formulas). The runs are lossy
/// by design, so the oracle is the definition, not greedy decoding.
@Suite struct EarlyExitGraphTests {
    static let newTokens = 40
    static let model = try! DemoGraphs.resources.model(at: DemoGraphs.repository + "/models/demo-target").model
    static let prompts: [[Int32]] = {
        let session = try! Session(plan: try! DemoGraphs.plan("greedy.yaml"), resources: DemoGraphs.resources)
        return try! DemoGraphs.prompt("prompts.txt").split(separator: "\n").prefix(4).map { try! session.encode(String($0)) }
    }()

    static func argmax(_ row: ArraySlice<Float>) -> Int32 {
        Int32(row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! - row.startIndex)
    }

    /// Top-1 minus top-2 softmax probability, in Double.
    static func margin(_ row: ArraySlice<Float>) -> Double {
        let values = row.map(Double.init)
        let top = values.max()!
        let probabilities = values.map { exp($0 - top) }
        let total = probabilities.reduce(0, +)
        let sorted = probabilities.sorted(by: >)
        return (sorted[0] - sorted[1]) / total
    }

    /// CALM by its definition: the prompt at full depth, then each token exits at the first
    /// candidate depth whose margin reaches the threshold.
    static func calm(_ prompt: [Int32], threshold: Double, every: Int, minLayers: Int) throws -> (tokens: [Int32], exits: Int) {
        let layers = model.config.layerCount
        let sequence = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: sequence, tokens: Array(prompt.dropLast()), outputs: .none)])
        let exit = try EarlyExit(depths: Array(stride(from: minLayers, to: layers, by: every)), of: layers) {
            margin($0.logits[...]) >= threshold
        }
        var fed = [prompt.last!], out: [Int32] = [], exits = 0
        while out.count < newTokens {
            let result = try model.forward([ForwardItem(sequence: sequence, tokens: fed, outputs: .last)], exit: exit)
            if result.depth < layers { exits += 1 }
            out.append(argmax(result.logits[0].row(0)))
            fed = [out.last!]
        }
        return (out, exits)
    }

    /// D³ / SkipDecode by their definitions: token `i` runs the layers the schedule names.
    static func scheduled(_ prompt: [Int32], layersAt: (Int) -> [Int]) throws -> [Int32] {
        let total = model.config.layerCount
        let sequence = model.makeSequence()
        var fed = prompt, out: [Int32] = []
        while out.count < newTokens {
            let kept = layersAt(out.count)
            let selection = try LayerSelection(skipping: Set(0..<total).subtracting(kept), of: total)
            let logits = try model.forward([ForwardItem(sequence: sequence, tokens: fed, outputs: .last)], layers: selection)[0]
            out.append(argmax(logits.row(0)))
            fed = [out.last!]
        }
        return out
    }

    static func session(_ file: String, _ edits: [(String, String)]) throws -> Session {
        let plan = try DemoGraphs.plan(file, edits: edits + [("limits: { max_new_tokens: 256 }", "limits: { max_new_tokens: \(newTokens), ignore_eos: true }")])
        #expect(!plan.isLossless)
        return try Session(plan: plan, resources: DemoGraphs.resources)
    }

    @Test(arguments: [(0.9, 1, 2), (0.3, 2, 1), (0.0, 1, 3)] as [(Double, Int, Int)])
    func calmIsItsDefinition(threshold: Double, every: Int, minLayers: Int) throws {
        let session = try Self.session("calm.yaml", [("threshold: 0.9, every: 1, min_layers: 2", "threshold: \(threshold), every: \(every), min_layers: \(minLayers)")])
        var exits = 0, partial = 0
        for prompt in Self.prompts {
            let result = try session.run(prompt: prompt)
            let expected = try Self.calm(prompt, threshold: threshold, every: every, minLayers: minLayers)
            #expect(result.tokens == expected.tokens, "threshold \(threshold), prompt \(prompt)")
            exits += expected.exits
            partial += result.metrics.models.first { $0.name == "target" }?.partialCalls ?? -1
            #expect(result.metrics.targetCalls == Self.newTokens, "every step's scoring is a target call, whatever its depth")
        }
        #expect(partial == exits, "an exit is a partial call")
        if threshold == 0 { #expect(exits == Self.prompts.count * Self.newTokens, "a zero threshold always exits") }
        if threshold == 0.3 { #expect(exits > 0 && exits < Self.prompts.count * Self.newTokens, "a middling threshold exits on some tokens") }
    }

    @Test func d3IsItsDefinition() throws {
        let session = try Self.session("d3.yaml", [("alpha: 0.995, min_layers: 4", "alpha: 0.95, min_layers: 2")])
        let total = Self.model.config.layerCount
        for prompt in Self.prompts {
            let expected = try Self.scheduled(prompt) { i in
                let n = max(2, Int((Double(total) * pow(0.95, Double(i))).rounded(.down)))
                return Array(0..<1) + Array((total - (n - 1))..<total)
            }
            #expect(try session.run(prompt: prompt).tokens == expected)
        }
    }

    @Test func skipDecodeIsItsDefinition() throws {
        let session = try Self.session("skipdecode.yaml", [("span: 256, min_layers: 4", "span: 30, min_layers: 2")])
        let total = Self.model.config.layerCount
        for prompt in Self.prompts {
            let expected = try Self.scheduled(prompt) { i in
                let n = total - Int((Double(total - 2) * Double(min(i, 30)) / 30).rounded(.down))
                return Array((total - n)..<total)
            }
            #expect(try session.run(prompt: prompt).tokens == expected)
        }
    }
}
