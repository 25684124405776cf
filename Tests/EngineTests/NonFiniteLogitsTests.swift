import Foundation
import Graph
import Operators
import Testing
@testable import Engine

/// A model whose logits are NaN (weights that overflowed, a broken config) and a row where every
/// token is forbidden end the run with an error naming the node, the model and the step — where
/// greedy decoding used to emit token 0 forever.
@Suite struct NonFiniteLogitsTests {
    /// A copy of the fixture target whose final norm gains are NaN, so every logit is NaN.
    static let poisoned: String = {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nan-model-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try! FileManager.default.copyItem(atPath: Fixtures.target + "/config.json", toPath: directory + "/config.json")
        var bytes = try! [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.target + "/model.safetensors")))
        let length = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let header = try! JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as! [String: Any]
        let offsets = (header["model.norm.weight"] as! [String: Any])["data_offsets"] as! [Int]
        let nan = withUnsafeBytes(of: Float.nan) { Array($0) }
        for at in stride(from: 8 + length + offsets[0], to: 8 + length + offsets[1], by: 4) { bytes.replaceSubrange(at..<(at + 4), with: nan) }
        try! Data(bytes).write(to: URL(fileURLWithPath: directory + "/model.safetensors"))
        return directory
    }()

    static func run(_ yaml: String) throws -> RunResult {
        let session = try Session(plan: try Fixtures.plan(yaml), resources: Fixtures.resources)
        return try session.run(prompt: [1, 5, 9], maxNewTokens: 8)
    }

    static func expectFailure(_ yaml: String, mentions: [String]) {
        do {
            let result = try run(yaml)
            Issue.record("the run succeeded with \(result.tokens); expected an error")
        } catch {
            for m in mentions { #expect("\(error)".contains(m), "'\(error)' should mention '\(m)'") }
        }
    }

    /// A graph over `models` whose target is scored, shaped by `pick` and verified, with `drafter`
    /// (a node line feeding `score`, or empty).
    static func graph(models: String, drafter: String = "", pick: String, limits: String = "{ ignore_eos: true }") -> String {
        """
        graph: hostile
        models:
        \(models)
        nodes:
        \(drafter.isEmpty ? "" : "  small: " + drafter + "\n")  scores: { op: score, model: target\(drafter.isEmpty ? "" : ", tree: small") }
          pick: { op: sample, from: scores, \(pick) }
          accept: { op: verify, from: pick }
        output: accept
        limits: \(limits)
        """
    }

    @Test(arguments: ["temperature: 0", "temperature: 0.7"])
    func nanLogitsOfTheTargetFailTheRun(_ shaping: String) {
        Self.expectFailure(Self.graph(models: "  target: { path: \(Self.poisoned) }", pick: shaping),
                           mentions: ["node 'scores' (score) at step 0", "model 'target' produced logit nan for token 0"])
    }

    @Test(arguments: ["temperature: 0", "temperature: 0.7"])
    func nanLogitsOfTheDraftFailTheRun(_ shaping: String) {
        Self.expectFailure(Self.graph(models: "  target: { path: \(Fixtures.target) }\n  draft: { path: \(Self.poisoned) }",
                                      drafter: "{ op: draft.model, model: draft, tokens: 3, \(shaping) }", pick: "temperature: 0"),
                           mentions: ["node 'small' (draft.model) at step 0", "logit nan at token 0 is not a number"])
    }

    /// Every token suppressed, end-of-sequence included: nothing may come next, so the greedy
    /// step is an error, not a forbidden token.
    @Test func fullyMaskedRowFailsTheRun() {
        let everyToken = (0..<80).map(String.init).joined(separator: ", ")
        Self.expectFailure(Self.graph(models: "  target: { path: \(Fixtures.target) }",
                                      pick: "temperature: 0, suppress_tokens: [\(everyToken)]", limits: "{}"),
                           mentions: ["node 'pick' (sample) at step 0", "every token is masked"])
    }

    /// Beam search over NaN logits: the scores are refused where they enter the graph.
    @Test func nanLogitsFailABeamSearch() {
        Self.expectFailure("""
            graph: nan-beam
            models:
              target: { path: \(Self.poisoned) }
            nodes:
              scores: { op: score, model: target }
              beams: { op: search.beam, from: scores, width: 2 }
            output: beams
            limits: { ignore_eos: true }
            """, mentions: ["node 'scores' (score) at step 0", "model 'target' produced logit nan"])
    }
}
