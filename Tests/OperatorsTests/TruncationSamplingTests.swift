import Foundation
import Graph
import Testing
@testable import Operators

/// Typical, epsilon and eta sampling through the `sample` op: a graph node's parameters reach the
/// processors, and seeded draws follow the truncated distribution worked out by hand (Pearson's
/// χ², α = 0.001). Values against transformers are in `LogitsPipelineTests`.
@Suite struct TruncationSamplingTests {
    /// A graph whose `sample` node has these parameters, compiled.
    static func compile(_ parameters: String) -> GraphCompiler.Compilation {
        let source = """
        graph: truncation
        models:
          target: { path: target }
        nodes:
          scores: { op: score, model: target }
          pick: { op: sample, from: scores, \(parameters) }
          accept: { op: verify, from: pick }
        output: accept
        """
        return GraphCompiler(registry: OperatorRegistry.all).compile(source: source, file: "truncation.yaml")
    }

    /// The shaping pipeline of that `sample` node.
    static func pipeline(_ parameters: String) throws -> LogitsPipeline {
        let result = compile(parameters)
        let plan = try #require(result.plan, "\(result.rendered)")
        return try SampleOp.pipeline(try #require(plan.nodes.first { $0.op == "sample" }))
    }

    static let draws = 20_000
    static let alpha = 1e-3

    /// Each case: parameters, the probabilities the logits are the logs of, and what survives.
    ///
    /// - typical_p 0.5 on (0.4, 0.12 × 5): H = −0.4 ln 0.4 − 0.6 ln 0.12 = 1.639 nats. The 0.12
    ///   tokens are 0.482 from it (−ln 0.12 = 2.120), the 0.4 token 0.723 (−ln 0.4 = 0.916). In
    ///   that order the cumulative mass first reaches 0.5 at the fifth 0.12 token, so the five tied
    ///   tokens stay and the mode goes: uniform over tokens 1–5.
    /// - epsilon_cutoff 0.1 on (0.5, 0.3, 0.15, 0.05): only the 0.05 token is below the floor.
    /// - eta_cutoff 0.5 on the same: H = 1.142 nats, η = min(0.5, √0.5 · e^−1.142 = 0.2256), so the
    ///   0.15 token goes too (epsilon sampling at 0.5 would keep only the 0.5 token).
    static let cases: [(parameters: String, probabilities: [Double], kept: [Double])] = [
        ("typical_p: 0.5", [0.4, 0.12, 0.12, 0.12, 0.12, 0.12], [0, 0.2, 0.2, 0.2, 0.2, 0.2]),
        ("epsilon_cutoff: 0.1", [0.5, 0.3, 0.15, 0.05], [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0]),
        ("eta_cutoff: 0.5", [0.5, 0.3, 0.15, 0.05], [0.5 / 0.8, 0.3 / 0.8, 0, 0]),
    ]

    @Test(arguments: cases.indices)
    func drawsFollowTheTruncatedDistribution(index: Int) throws {
        let c = Self.cases[index]
        let pipeline = try Self.pipeline(c.parameters)
        #expect(pipeline.processors.map(\.name) == [String(c.parameters.prefix { $0 != ":" })])
        let logits = c.probabilities.map { Float(Foundation.log($0)) }
        var rng = Xoshiro256StarStar(seed: UInt64(index) + 11)
        var counts = [Int](repeating: 0, count: logits.count)
        for _ in 0..<Self.draws {
            counts[Int(try pipeline.select(logits, context: LogitsContext(tokens: [], promptCount: 0), using: &rng))] += 1
        }
        // A draw of a removed token (expected 0) gives p = 0.
        let result = ChiSquared.test(observed: counts, expected: c.kept)
        #expect(result.pValue > Self.alpha, "\(c.parameters): \(counts) \(result)")
    }

    /// Values the warpers cannot use are compile errors naming the parameter (transformers ignores
    /// typical_p > 1 and cutoffs ≥ 1 without a word).
    @Test(arguments: ["typical_p: 0", "typical_p: 1.5", "epsilon_cutoff: 1", "epsilon_cutoff: -0.1", "eta_cutoff: 1", "eta_cutoff: -0.001"])
    func outOfRangeParametersAreCompileErrors(parameters: String) {
        let result = Self.compile(parameters)
        let name = String(parameters.prefix { $0 != ":" })
        #expect(result.plan == nil && result.rendered.contains("truncation.yaml:6:") && result.rendered.contains("'\(name)'"), "\(result.rendered)")
    }

    /// draft.model declares the same table, so a drafter's q is truncated the same way.
    @Test func draftModelReadsTheSameParameters() throws {
        let source = """
        graph: drafted
        models:
          target: { path: target }
          draft: { path: draft }
        nodes:
          proposals: { op: draft.model, model: draft, tokens: 2, temperature: 1, typical_p: 0.9, epsilon_cutoff: 0.001, eta_cutoff: 0.002 }
          scores: { op: score, model: target, tree: proposals }
          pick: { op: sample, from: scores }
          accept: { op: verify, from: pick }
        output: accept
        """
        let result = GraphCompiler(registry: OperatorRegistry.all).compile(source: source, file: "drafted.yaml")
        let plan = try #require(result.plan, "\(result.rendered)")
        let settings = try DraftModelOp.sampling.settings(of: try #require(plan.nodes.first { $0.op == "draft.model" }))
        #expect(settings.typicalP == 0.9 && settings.epsilonCutoff == 0.001 && settings.etaCutoff == 0.002)
        #expect(try LogitsPipeline(settings).processors.map(\.name) == ["typical_p", "epsilon_cutoff", "eta_cutoff"])
    }

    /// The neutral values build no processor, and greedy decoding skips the warpers.
    @Test func defaultsAreOffAndGreedySkipsThem() throws {
        #expect(try Self.pipeline("typical_p: 1, epsilon_cutoff: 0, eta_cutoff: 0").processors.isEmpty)
        #expect(try Self.pipeline("temperature: 0, typical_p: 0.5, epsilon_cutoff: 0.1, eta_cutoff: 0.1").processors.isEmpty)
    }

    /// The tokens a filter left, after checking it changed nothing else (a survivor keeps its logit,
    /// a removed token becomes -inf).
    static func survivors(_ processed: [Float], of original: [Float]) -> [Int] {
        let kept = processed.indices.filter { processed[$0] > -.infinity }
        #expect(kept.allSatisfy { processed[$0] == original[$0] }, "a survivor's logit changed")
        return kept
    }

    /// min_tokens_to_keep: epsilon and eta keep the k largest logits (ties with the k-th too);
    /// typical keeps the k nearest the entropy, which need not be the most likely.
    @Test func minTokensToKeepFollowsEachWarpersOrder() throws {
        let context = LogitsContext(tokens: [], promptCount: 0)
        // Probabilities ≈ (0.747, 0.101, 0.101, 0.037, 0.014): all below 0.99.
        let row: [Float] = [3, 1, 1, 0, -1]
        var logits = row
        try EpsilonProcessor(epsilon: 0.99, minTokensToKeep: 2).process(&logits, context: context)
        #expect(Self.survivors(logits, of: row) == [0, 1, 2])
        // H ≈ 0.862 nats, η = min(0.99, √0.99 · e^−0.862 ≈ 0.42): only the first stays.
        logits = row
        try EtaProcessor(epsilon: 0.99, minTokensToKeep: 1).process(&logits, context: context)
        #expect(Self.survivors(logits, of: row) == [0])
        // (0.5, 0.2, 0.15, 0.1, 0.05): H = 1.333 nats; distances of −ln p from it are 0.640, 0.276,
        // 0.564, 0.969, 1.662. Mass 0.1 is reached by token 1 alone; keeping two adds token 2, the
        // next nearest, while the mode (token 0) goes.
        logits = [0.5, 0.2, 0.15, 0.1, 0.05].map { Float(Foundation.log($0)) }
        let original = logits
        try TypicalProcessor(mass: 0.1, minTokensToKeep: 2).process(&logits, context: context)
        #expect(Self.survivors(logits, of: original) == [1, 2])
        logits = original
        try TypicalProcessor(mass: 0.1, minTokensToKeep: 1).process(&logits, context: context)
        #expect(Self.survivors(logits, of: original) == [1])
    }
}
