import Foundation
import Graph
import Kernels
import ModelRuntime
import Operators
import Testing
@testable import Engine

/// DESIGN.md's oracle: under greedy decoding every lossless graph emits exactly the tokens of
/// plain greedy decoding of the same target, here computed without the engine, one forward per
/// token on a fresh sequence.
@Suite struct GraphGreedyIdentityTests {
    static let newTokens = 128
    static let limits = "limits: { max_new_tokens: \(newTokens), ignore_eos: true }"

    /// The repository's graphs/ directory.
    static let graphsDirectory = DemoGraphs.repository + "/graphs"

    /// Every graph of graphs/ that decodes greedily (every `sample` at temperature 0, a `verify`
    /// output), with its models pointed at the fixtures and its limits at 128 tokens without EOS.
    static let graphs: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: graphsDirectory)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.sorted().filter { file in
            guard let plan = try? Fixtures.plan(fixtureVersion(of: file)) else { return false }
            let samples = plan.nodes.filter { $0.op == SampleOp.spec.name }
            // Stores and constraints need a tokenizer, which the fixtures lack: NGramGraphTests and
            // ConstrainedGraphTests run those graphs on the demo models.
            guard plan.stores.isEmpty, !plan.nodes.contains(where: { $0.family == .filter }) else { return false }
            // A graph that scores with two models (contrastive decoding) decodes neither model's
            // distribution: ContrastiveGraphTests checks those against their own reference.
            let scoring = Set(plan.nodes.filter { $0.op == ScoreOp.spec.name }.compactMap { $0.reference("model") })
            guard scoring.count == 1 else { return false }
            // Lossy graphs (early exits) approximate the target, and a score node on a context of its
            // own (instructive decoding) contrasts the target with itself: neither is its greedy decoding.
            guard plan.isLossless, !plan.nodes.contains(where: { $0.parameters["prefix"] != nil }) else { return false }
            return plan.nodes[plan.output].op == VerifyOp.spec.name && !samples.isEmpty
                && samples.allSatisfy { $0.parameters["temperature"]?.number == 0 }
        }
    }()

    /// The graph with its models pointed at the fixtures, its limits at 128 tokens without EOS,
    /// and self-speculative layer choices fitted to the 2-layer fixture target (drafting from its
    /// first layer, or skipping its first).
    ///
    /// A graph a `draft.graph` node runs (`graph: stages/x.yaml`) gets the same treatment, written
    /// to a temporary file that the node then names by its absolute path.
    static func fixtureVersion(of file: String) throws -> String {
        let text = try String(contentsOfFile: graphsDirectory + "/" + file, encoding: .utf8)
        let directory = (file as NSString).deletingLastPathComponent
        return try text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            if line.hasPrefix("limits:") { return limits }
            var line = String(line).replacing(/(\.\.\/)+models\/demo-target/, with: Fixtures.target)
                .replacing(/(\.\.\/)+models\/demo-draft/, with: Fixtures.draft)
                .replacing(/skip_layers: \[[0-9, ]*\]/, with: "skip_layers: [0]")
                .replacing(/\blayers: [0-9]+/, with: "layers: 1")
            if let inner = line.firstMatch(of: /graph: ([A-Za-z0-9_.\/-]+\.yaml)/) {
                let name = String(inner.1)
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("inner-\(UUID().uuidString)-" + (name as NSString).lastPathComponent).path
                try fixtureVersion(of: directory.isEmpty ? name : directory + "/" + name).write(toFile: path, atomically: true, encoding: .utf8)
                line = line.replacingOccurrences(of: "graph: " + name, with: "graph: " + path)
            }
            return line
        }.joined(separator: "\n")
    }

    /// 24 prompts: random ids, and repetitive ones where lookup finds matches at once.
    static let prompts: [[Int32]] = {
        var rng = Xoshiro256StarStar(seed: 20_261_124)
        return (0..<24).map { i in
            let length = 3 + i % 9
            let base = (0..<length).map { _ in Int32(rng.next() % 80) }
            return i % 3 == 0 ? base + base : base
        }
    }()

    /// Plain greedy decoding: argmax after each token, one forward per token.
    static func reference(_ prompt: [Int32], model: Model, newTokens: Int = newTokens) throws -> [Int32] {
        let sequence = model.makeSequence()
        var logits = try model.forward([ForwardItem(sequence: sequence, tokens: prompt, outputs: .last)])[0]
        var out: [Int32] = []
        while out.count < newTokens {
            let next = Int32(try Distribution.argmax(Array(logits.row(0))))
            out.append(next)
            logits = try model.forward([ForwardItem(sequence: sequence, tokens: [next], outputs: .last)])[0]
        }
        return out
    }

    static let expected: [[Int32]] = {
        let model = try! Fixtures.resources.model(at: Fixtures.target).model
        return prompts.map { try! reference($0, model: model) }
    }()

    @Test func everyLosslessGraphIsCovered() {
        #expect(Set(Self.graphs).isSuperset(of: ["greedy.yaml", "lookup.yaml", "speculative.yaml", "tree.yaml",
                                                 "layerskip.yaml", "draft-verify.yaml", "recycle.yaml", "suffix.yaml",
                                                 "staged.yaml", "staged-lookup.yaml", "copyspec-sd.yaml", "sequoia.yaml", "cape.yaml",
                                                 "aded.yaml", "ouroboros.yaml", "phrases.yaml"]))
        #expect(!Self.graphs.contains("instructive.yaml") && !Self.graphs.contains("calm.yaml"))
        #expect(!Self.graphs.contains("sampling.yaml"))
        #expect(!Self.graphs.contains("contrastive.yaml") && !Self.graphs.contains("speculative-contrastive.yaml"))
    }

    @Test(arguments: graphs)
    func losslessGraphMatchesGreedy(name: String) throws {
        let session = try Session(plan: try Fixtures.plan(Self.fixtureVersion(of: name)), resources: Fixtures.resources)
        var targetCalls = 0
        for (prompt, expected) in zip(Self.prompts, Self.expected) {
            let result = try session.run(prompt: prompt)
            #expect(result.tokens == expected, "graph \(name), prompt \(prompt)")
            #expect(result.finishReason == "max_tokens")
            targetCalls += result.metrics.targetCalls
        }
        let tokens = Self.prompts.count * Self.newTokens
        if name == "greedy.yaml" {
            #expect(targetCalls == tokens)
        } else {
            // Drafts must be accepted sometimes, or the test would not exercise verification.
            #expect(targetCalls < tokens, "graph \(name) accepted no draft token in \(tokens) tokens")
        }
    }

    /// The bf16 activation mode keeps the oracle: a bf16 target declared with
    /// `activations: bf16` decodes and verifies bitwise alike, so the speculative graphs still
    /// emit plain greedy decoding of that model, token for token.
    @Test(arguments: ["speculative.yaml", "tree.yaml"])
    func bf16ActivationTargetMatchesGreedy(name: String) throws {
        let target = Fixtures.root + "/llama-bf16"
        let model = try Fixtures.resources.model(at: target, activations: .bf16).model
        #expect(model.activations == .bf16 && model.weightDType == .bf16)
        #expect(try Fixtures.resources.model(at: target, activations: .f32).model.activations == .f32, "each mode is its own load")
        let resolved = ActivationPrecision.auto.resolved(for: .bf16)
        #expect(try Fixtures.resources.model(at: target, activations: .auto) === Fixtures.resources.model(at: target, activations: resolved),
                "auto shares the service of the mode it resolves to")
        let yaml = try Self.fixtureVersion(of: name)
            .replacingOccurrences(of: "{ path: \(Fixtures.target) }", with: "{ path: \(target), activations: bf16 }")
        #expect(yaml.contains("activations: bf16"))
        let session = try Session(plan: try Fixtures.plan(yaml), resources: Fixtures.resources)
        var targetCalls = 0
        for prompt in Self.prompts.prefix(8) {
            let result = try session.run(prompt: prompt)
            #expect(result.tokens == (try Self.reference(prompt, model: model)), "graph \(name), prompt \(prompt)")
            targetCalls += result.metrics.targetCalls
        }
        #expect(targetCalls < 8 * Self.newTokens, "graph \(name) accepted no draft token")
    }
}
