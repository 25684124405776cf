import Foundation
import Graph
import ModelRuntime
import Operators
import Testing
@testable import Engine

/// graphs/entropy-route.yaml on the demo models (the draft as the small model): the run is the
/// method's definition, replayed here without the engine — the small model's rolling mean entropy
/// decides, step by step, which model's argmax is emitted — and the per-model calls are the
/// switch rate.
@Suite struct EntropyRouteTests {
    static let newTokens = 32
    static let large = try! DemoGraphs.resources.model(at: DemoGraphs.repository + "/models/demo-target").model
    static let small = try! DemoGraphs.resources.model(at: DemoGraphs.repository + "/models/demo-draft").model

    static let prompts: [[Int32]] = {
        let session = try! Session(plan: try! DemoGraphs.plan("greedy.yaml"), resources: DemoGraphs.resources)
        return try! DemoGraphs.prompt("prompts.txt").split(separator: "\n").map { try! session.encode(String($0)) }
    }()

    /// The method by its definition, in Double, each model on a fresh sequence fed every token.
    /// - Returns: the tokens and how many steps the large model decided.
    /// - Parameter smallDepth: the small model is the large one's first layers instead of the draft.
    static func reference(_ prompt: [Int32], threshold: Double, window: Int, smallDepth: Int? = nil) throws -> (tokens: [Int32], largeSteps: Int) {
        let models = [large, smallDepth == nil ? small : large]
        let layers = [nil, try smallDepth.map { try LayerSelection(depth: $0, of: large.config.layerCount) }]
        let sequences = models.map { $0.makeSequence() }
        func next(_ tokens: [Int32]) throws -> [[Float]] {
            try (0..<2).map { i in
                let items = [ForwardItem(sequence: sequences[i], tokens: tokens, outputs: .last)]
                return Array(try (layers[i].map { try models[i].forward(items, layers: $0) } ?? models[i].forward(items))[0].row(0))
            }
        }
        var rows = try next(prompt)
        var entropies: [Double] = []
        var out: [Int32] = []
        var largeSteps = 0
        while out.count < newTokens {
            let s = rows[1].map(Double.init)
            let top = s.max()!
            let total = s.reduce(0) { $0 + exp($1 - top) }
            entropies.append(-s.reduce(0) { acc, x in let p = exp(x - top) / total; return acc + (p > 0 ? p * log(p) : 0) })
            let recent = entropies.suffix(window)
            let useLarge = recent.reduce(0, +) / Double(recent.count) > threshold
            if useLarge { largeSteps += 1 }
            let row = useLarge ? rows[0] : rows[1]
            let token = Int32(row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }!)
            out.append(token)
            rows = try next([token])
        }
        return (out, largeSteps)
    }

    static func session(threshold: Double, window: Int) throws -> Session {
        let plan = try DemoGraphs.plan("entropy-route.yaml", edits: [
            ("threshold: 3.8, window: 4", "threshold: \(threshold), window: \(window)"),
            ("limits: { max_new_tokens: 256 }", "limits: { max_new_tokens: \(newTokens), ignore_eos: true }"),
        ])
        return try Session(plan: plan, resources: DemoGraphs.resources)
    }

    @Test(arguments: [(3.8, 4), (3.6, 1), (0.0, 4), (1e9, 2)] as [(Double, Int)])
    func runIsTheDefinition(threshold: Double, window: Int) throws {
        let session = try Self.session(threshold: threshold, window: window)
        var largeCalls = 0, smallCalls = 0, expectedLarge = 0
        for prompt in Self.prompts {
            let result = try session.run(prompt: prompt)
            let expected = try Self.reference(prompt, threshold: threshold, window: window)
            #expect(result.tokens == expected.tokens, "threshold \(threshold), window \(window), prompt \(prompt)")
            largeCalls += result.metrics.models.first { $0.name == "target" }?.fullCalls ?? -1
            smallCalls += result.metrics.models.first { $0.name == "small" }?.fullCalls ?? -1
            expectedLarge += expected.largeSteps
            #expect(result.metrics.targetCalls == expected.largeSteps, "target calls are the large model's")
        }
        #expect(largeCalls == expectedLarge)
        #expect(smallCalls == Self.prompts.count * Self.newTokens, "the small model scores every step")
        if threshold == 0 { #expect(largeCalls == smallCalls, "every step is routed to the large model") }
        if threshold == 1e9 { #expect(largeCalls == 0) }
        if threshold == 3.8 { #expect(largeCalls > 0 && largeCalls < smallCalls, "a threshold between the extremes switches") }
    }

    /// `small_layers` with `small` naming the large model: the target's first 2 layers decide
    /// the confident steps — the same definition with a partial-depth small model.
    /// Between the 2-layer model's entropies on the demo prompts, so both models decide some steps.
    static let partialThreshold = 1.5

    @Test func theTargetsFirstLayersServeAsTheSmallModel() throws {
        let plan = try DemoGraphs.plan("entropy-route.yaml", edits: [
            ("small: small, threshold: 3.8, window: 4", "small: target, small_layers: 2, threshold: \(Self.partialThreshold), window: 4"),
            ("limits: { max_new_tokens: 256 }", "limits: { max_new_tokens: \(Self.newTokens), ignore_eos: true }"),
        ])
        let session = try Session(plan: plan, resources: DemoGraphs.resources)
        var large = 0, steps = 0
        for prompt in Self.prompts.prefix(4) {
            let expected = try Self.reference(prompt, threshold: Self.partialThreshold, window: 4, smallDepth: 2)
            let result = try session.run(prompt: prompt)
            #expect(result.tokens == expected.tokens, "prompt \(prompt)")
            // The target's full calls are the steps it decided; its partial calls, every step's small scoring.
            #expect(result.metrics.models.first { $0.name == "target" }?.fullCalls == expected.largeSteps)
            #expect(result.metrics.models.first { $0.name == "target" }?.partialCalls == Self.newTokens, "the partial small model scores every step")
            large += expected.largeSteps
            steps += Self.newTokens
        }
        #expect(large > 0 && large < steps, "the threshold switches between the two")
    }
}
