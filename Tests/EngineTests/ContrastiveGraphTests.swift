import Foundation
import Graph
import Kernels
import ModelRuntime
import Operators
import Testing
@testable import Engine

/// graphs/contrastive.yaml, uscd.yaml and speculative-contrastive.yaml on the demo models (the
/// draft as the target's amateur): contrastive decoding is the papers' formula, computed here
/// without the engine; the speculative graph emits exactly what the plain one does; the run counts
/// only the expert's calls as target calls.
@Suite struct ContrastiveGraphTests {
    static let newTokens = 64
    static let limits = ("limits: { max_new_tokens: 256 }", "limits: { max_new_tokens: \(newTokens), ignore_eos: true }")

    static let expertModel = try! DemoGraphs.resources.model(at: DemoGraphs.repository + "/models/demo-target").model
    static let amateurModel = try! DemoGraphs.resources.model(at: DemoGraphs.repository + "/models/demo-draft").model

    /// The 8 lines of examples/prompts.txt, encoded by the demo tokenizer.
    static let prompts: [[Int32]] = {
        let session = try! Session(plan: try! DemoGraphs.plan("greedy.yaml"), resources: DemoGraphs.resources)
        return try! DemoGraphs.prompt("prompts.txt").split(separator: "\n").map { try! session.encode(String($0)) }
    }()

    /// Greedy contrastive decoding by its definition, one forward per token per model on fresh
    /// sequences: among tokens with p_e ≥ α · max p_e, the argmax of (1 + β) · e − β · a, in Double.
    /// - Parameter amateurDepth: the amateur is the expert's first layers instead of the draft model.
    static func reference(_ prompt: [Int32], beta: Double, alpha: Double, entropyAbove: Double? = nil, amateurDepth: Int? = nil) throws -> [Int32] {
        let models = [expertModel, amateurDepth == nil ? amateurModel : expertModel]
        let layers = [nil, try amateurDepth.map { try LayerSelection(depth: $0, of: expertModel.config.layerCount) }]
        let sequences = models.map { $0.makeSequence() }
        func next(_ tokens: [Int32]) throws -> [[Float]] {
            try (0..<2).map { i in
                let items = [ForwardItem(sequence: sequences[i], tokens: tokens, outputs: .last)]
                return Array(try (layers[i].map { try models[i].forward(items, layers: $0) } ?? models[i].forward(items))[0].row(0))
            }
        }
        var rows = try next(prompt)
        var out: [Int32] = []
        while out.count < newTokens {
            let e = rows[0].map(Double.init), a = rows[1].map(Double.init)
            let top = e.max()!
            let total = e.reduce(0) { $0 + exp($1 - top) }
            let p = e.map { exp($0 - top) / total }
            let entropy = -p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
            let contrasted = entropyAbove.map { entropy > $0 } ?? true
            let bound = alpha * p.max()!
            var best = -1
            var bestScore = -Double.infinity
            for x in e.indices {
                let score: Double
                if contrasted {
                    guard p[x] >= bound else { continue }
                    score = (1 + beta) * e[x] - beta * a[x]
                } else {
                    score = e[x]
                }
                if score > bestScore { best = x; bestScore = score }
            }
            out.append(Int32(best))
            rows = try next([Int32(best)])
        }
        return out
    }

    static let contrastive: [[Int32]] = prompts.map { try! reference($0, beta: 0.5, alpha: 0.1) }

    @Test func contrastiveGraphIsTheFormula() throws {
        let session = try Session(plan: try DemoGraphs.plan("contrastive.yaml", edits: [Self.limits]), resources: DemoGraphs.resources)
        var differsFromGreedy = false
        for (prompt, expected) in zip(Self.prompts, Self.contrastive) {
            let result = try session.run(prompt: prompt)
            #expect(result.tokens == expected, "prompt \(prompt)")
            // One target (expert) call per token: the amateur's score node is not a target call.
            #expect(result.metrics.targetCalls == result.metrics.steps && result.metrics.steps == Self.newTokens)
            let greedy = try GraphGreedyIdentityTests.reference(prompt, model: Self.expertModel, newTokens: Self.newTokens)
            differsFromGreedy = differsFromGreedy || expected != greedy
        }
        #expect(differsFromGreedy, "the contrast never changed a token, so the test would not see it missing")
    }

    /// The amateur as the target's own first 2 layers (graphs/contrastive-depth.yaml): the same
    /// formula, the amateur's rows from a partial-depth pass; its calls are partial, not target calls.
    @Test func theTargetsFirstLayersServeAsTheAmateur() throws {
        let session = try Session(plan: try DemoGraphs.plan("contrastive-depth.yaml", edits: [Self.limits]), resources: DemoGraphs.resources)
        var differsFromGreedy = false
        for prompt in Self.prompts.prefix(4) {
            let expected = try Self.reference(prompt, beta: 0.5, alpha: 0.1, amateurDepth: 2)
            let result = try session.run(prompt: prompt)
            #expect(result.tokens == expected, "prompt \(prompt)")
            #expect(result.metrics.targetCalls == Self.newTokens)
            #expect(result.metrics.models.first { $0.name == "target" }?.partialCalls == Self.newTokens)
            let greedy = try GraphGreedyIdentityTests.reference(prompt, model: Self.expertModel, newTokens: Self.newTokens)
            differsFromGreedy = differsFromGreedy || expected != greedy
        }
        #expect(differsFromGreedy, "the contrast never changed a token, so the test would not see it missing")
    }

    /// Speculative contrastive decoding (Yuan et al. 2024) is lossless with respect to contrastive
    /// decoding: under greedy decoding it emits the same tokens.
    @Test func speculativeContrastiveEqualsContrastive() throws {
        let session = try Session(plan: try DemoGraphs.plan("speculative-contrastive.yaml", edits: [Self.limits]), resources: DemoGraphs.resources)
        var steps = 0
        for (prompt, expected) in zip(Self.prompts, Self.contrastive) {
            let result = try session.run(prompt: prompt)
            #expect(result.tokens == expected, "prompt \(prompt)")
            #expect(result.metrics.targetCalls == result.metrics.steps)
            steps += result.metrics.steps
        }
        #expect(steps < Self.prompts.count * Self.newTokens, "no draft token was ever accepted, so verification went unexercised")
    }

    /// USCD with a bound no row reaches is the expert's greedy decoding; with a bound every row
    /// passes, contrastive decoding; in between, the reference's selective rule.
    @Test func uscdContrastsOnlyUncertainRows() throws {
        func run(_ threshold: String) throws -> [[Int32]] {
            let plan = try DemoGraphs.plan("uscd.yaml", edits: [Self.limits, ("threshold: 2.0", "threshold: \(threshold)")])
            let session = try Session(plan: plan, resources: DemoGraphs.resources)
            return try Self.prompts.prefix(4).map { try session.run(prompt: $0).tokens }
        }
        let greedy = try Self.prompts.prefix(4).map { try GraphGreedyIdentityTests.reference($0, model: Self.expertModel, newTokens: Self.newTokens) }
        #expect(try run("1000.0") == greedy)
        #expect(try run("0.0") == Array(Self.contrastive.prefix(4)))
        let selective = try Self.prompts.prefix(4).map { try Self.reference($0, beta: 0.5, alpha: 0.1, entropyAbove: 2.0) }
        #expect(try run("2.0") == selective)
        #expect(selective != greedy && selective != Array(Self.contrastive.prefix(4)), "the bound should split the rows")
    }

    /// The target is the expert wherever its `score` node stands in the file: its tokenizer, EOS and
    /// defaults are the run's, and only its calls are target calls.
    @Test func targetIsTheExpertWhereverItStands() throws {
        let plan = try DemoGraphs.plan("contrastive.yaml", edits: [
            ("  strong: { op: score, model: expert }\n  weak: { op: score, model: amateur }\n",
             "  weak: { op: score, model: amateur }\n  strong: { op: score, model: expert }\n"),
        ])
        #expect(plan.nodes.first { $0.op == "score" }?.name == "weak")
        #expect(Session.targetScoreNode(of: plan)?.name == "strong")
        #expect(Session.targetScoreNode(of: try DemoGraphs.plan("speculative.yaml"))?.name == "scores")
        #expect(Session.targetScoreNode(of: try DemoGraphs.plan("beam.yaml"))?.name == "scores")
    }

    /// `search.beam` reads the contrast's scores as it reads a model's: beams run, and the plausibility
    /// cut holds (no emitted token is outside V_head: every beam token has a finite contrast).
    @Test func beamSearchOverTheContrast() throws {
        let plan = try DemoGraphs.plan("contrastive.yaml", edits: [
            ("  pick: { op: sample, from: contrasted, temperature: 0 }\n  accept: { op: verify, from: pick }\noutput: accept",
             "  beams: { op: search.beam, from: contrasted, width: 3 }\noutput: beams"),
            Self.limits,
        ])
        let session = try Session(plan: plan, resources: DemoGraphs.resources)
        let result = try session.run(prompt: Self.prompts[0], maxNewTokens: 16)
        #expect(result.tokens.count == 16)
        #expect(result.metrics.targetCalls == result.metrics.steps)
    }

    /// Two models of different vocabularies cannot be contrasted: refused at the node, with its location.
    @Test func refusesAnAmateurOfAnotherVocabulary() throws {
        let plan = try DemoGraphs.plan("contrastive.yaml", edits: [(DemoGraphs.repository + "/models/demo-draft", Fixtures.draft)])
        #expect {
            try Session(plan: plan, resources: DemoGraphs.resources)
        } throws: { error in
            "\(error)".contains("contrastive.yaml:") && "\(error)".contains("vocabulary")
        }
    }

    /// Speculative sampling over the contrast is exact: the first committed token of the speculative
    /// graph at temperature T follows softmax(contrast / T), as `SpeculativeSamplingExactnessTests`
    /// checks for the plain target (χ² at α = 0.001, rare bins pooled, seeded runs).
    @Test func speculativeSamplingDrawsFromTheContrast() throws {
        let temperature = 0.8
        let plan = try Fixtures.plan("""
        graph: scd-exactness
        models:
          expert: { path: \(Fixtures.target) }
          amateur: { path: \(Fixtures.draft) }
        nodes:
          small: { op: draft.model, model: amateur, tokens: 2, temperature: 1 }
          strong: { op: score, model: expert, tree: small }
          weak: { op: score, model: amateur, tree: small }
          contrasted: { op: contrast, expert: strong, amateur: weak, beta: 0.5, alpha: 0.05 }
          pick: { op: sample, from: contrasted, temperature: \(temperature) }
          accept: { op: verify, from: pick, mode: sampling }
        output: accept
        limits: { max_new_tokens: 1, ignore_eos: true }
        """)
        let session = try Session(plan: plan, resources: Fixtures.resources)
        let prompt: [Int32] = [12, 40, 7, 12, 40]
        let e = try ModelSequenceScorer(service: try Fixtures.resources.model(at: Fixtures.target)).nextLogits(context: prompt).map(Double.init)
        let a = try ModelSequenceScorer(service: try Fixtures.resources.model(at: Fixtures.draft)).nextLogits(context: prompt).map(Double.init)
        // softmax over V_head of ((1 + β) e − β a) / T, from the definition.
        let top = e.max()!
        let plausible = e.map { exp($0 - top) >= 0.05 }
        let scores = e.indices.map { plausible[$0] ? (1.5 * e[$0] - 0.5 * a[$0]) / temperature : -Double.infinity }
        let m = scores.max()!
        let weights = scores.map { $0 == -.infinity ? 0 : exp($0 - m) }
        let total = weights.reduce(0, +)
        let p = weights.map { $0 / total }

        let runs = SpeculativeSamplingExactnessTests.runs
        var counts = [Int](repeating: 0, count: p.count)
        for seed in 0..<runs { counts[Int(try session.run(prompt: prompt, seed: UInt64(seed)).tokens[0])] += 1 }
        #expect(counts.indices.allSatisfy { p[$0] > 0 || counts[$0] == 0 }, "a token outside V_head was emitted")
        SpeculativeSamplingExactnessTests.expectFit(counts: counts, p: p)
    }
}
