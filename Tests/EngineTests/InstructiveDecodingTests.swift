import Foundation
import Graph
import Operators
import ModelRuntime
import Testing
@testable import Engine

/// graphs/instructive.yaml (Kim et al. 2024) on the demo target against its definition replayed
/// on the runtime: each step, the model's logits after the prompt and after the prompt with the
/// distorted instruction spliced in (encoded here with the tokenizer, placed by the rule the op
/// documents), combined as clean − ε · distorted, argmax emitted — token for token.
@Suite struct InstructiveDecodingTests {
    static let newTokens = 24
    static let epsilon = 0.3
    static let distortion = "Always respond with the opposite of what you're asked. You never get it right.\n"
    static let model = try! DemoGraphs.resources.model(at: DemoGraphs.repository + "/models/demo-target").model
    static let tokenizer = try! DemoGraphs.resources.tokenizer(at: DemoGraphs.repository + "/models/demo-target")!

    static func logits(_ context: [Int32]) throws -> [Float] {
        Array(try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: context, outputs: .last)])[0].row(0))
    }

    /// The method by its definition, every step's contexts scored afresh.
    static func reference(_ prompt: [Int32], insertAt: Int) throws -> [Int32] {
        let prefix = tokenizer.encode(distortion, addSpecialTokens: false)
        var generated: [Int32] = []
        while generated.count < newTokens {
            let clean = try logits(prompt + generated)
            let distorted = try logits(Array(prompt[..<insertAt]) + prefix + Array(prompt[insertAt...]) + generated)
            let combined = zip(clean, distorted).map { Double($0) - epsilon * Double($1) }
            generated.append(Int32(combined.indices.max { combined[$0] < combined[$1] || (combined[$0] == combined[$1] && $0 > $1) }!))
        }
        return generated
    }

    static func session(after: String?) throws -> Session {
        var edits = [("limits: { max_new_tokens: 256 }", "limits: { max_new_tokens: \(newTokens), ignore_eos: true }")]
        if let after { edits.append(("You never get it right.\\n\" }", "You never get it right.\\n\", after: \"\(after)\" }")) }
        return try Session(plan: try DemoGraphs.plan("instructive.yaml", edits: edits), resources: DemoGraphs.resources)
    }

    static let prompts: [String] = try! DemoGraphs.prompt("prompts.txt").split(separator: "\n").map(String.init).filter { $0.hasPrefix("def ") }

    @Test func afterTheLeadingSpecialTokens() throws {
        let session = try Self.session(after: nil)
        for text in Self.prompts.prefix(3) {
            let prompt = try session.encode(text)
            let lead = prompt.prefix { Self.tokenizer.isSpecial($0) }.count
            #expect(lead == 1, "the demo tokenizer starts a prompt with BOS")
            let result = try session.run(prompt: prompt)
            #expect(result.tokens == (try Self.reference(prompt, insertAt: lead)), "\(text)")
            #expect(result.metrics.targetCalls == 2 * Self.newTokens, "both nodes call the target each step")
        }
    }

    @Test func afterAMarker() throws {
        let session = try Self.session(after: "def")
        let marker = Self.tokenizer.encode("def", addSpecialTokens: false)
        for text in Self.prompts.prefix(2) {
            let prompt = try session.encode(text)
            let at = try #require((0...(prompt.count - marker.count)).reversed().first { Array(prompt[$0..<($0 + marker.count)]) == marker })
            #expect(try session.run(prompt: prompt).tokens == (try Self.reference(prompt, insertAt: at + marker.count)), "\(text)")
        }
        #expect(throws: (any Error).self) { try session.run(prompt: try session.encode("class Frame:")) }
    }

    @Test func aMarkerNeedsAPrefix() throws {
        let source = "graph: g\nmodels: { target: { path: t } }\nnodes:\n  s: { op: score, model: target, after: x }\n  p: { op: sample, from: s }\n  v: { op: verify, from: p }\noutput: v\n"
        let result = GraphCompiler(registry: OperatorRegistry.all).compile(source: source, file: "g.yaml")
        #expect(result.plan == nil)
        #expect(result.rendered.contains("g.yaml:4:41: error: 'after' of node 's' (score): says where to insert a prefix, and the node has none"), "\(result.rendered)")
    }

    @Test func theDistortionChangesTheOutput() throws {
        let greedy = try Session(plan: try DemoGraphs.plan("greedy.yaml", edits: [("max_new_tokens: 256", "max_new_tokens: \(Self.newTokens), ignore_eos: true")]),
                                 resources: DemoGraphs.resources)
        let session = try Self.session(after: nil)
        let differs = try Self.prompts.contains { text in
            let prompt = try session.encode(text)
            return try session.run(prompt: prompt).tokens != greedy.run(prompt: prompt).tokens
        }
        #expect(differs)
    }
}
