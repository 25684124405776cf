import Testing
@testable import Operators

/// Sampling exactness: the first two tokens that speculative decoding commits must be distributed
/// as p(x₁)·p(x₂ | x₁) under the shaped target, for chains and trees, several temperatures and
/// truncations. Pearson χ² over the joint cells (cells with expected count < 5 pooled), at
/// α = 0.001 per test; with the 12 configurations below the family-wise false-alarm rate is at
/// most 1.2 % (Bonferroni). Every run is seeded, so the outcome is reproducible.
@Suite struct SpeculativeSamplingTests {
    static let alpha = 0.001
    static let vocabulary = 8
    static let trials = 4_000
    static let target = try! TableModel(vocabularySize: vocabulary, order: 2, seed: 11, scale: 1.5)
    /// A drafter that agrees with the target often but not always.
    static let draft = target.perturbed(seed: 12, noise: 1.0)
    static let prompt: [Int32] = [1, 4, 2, 4, 2]

    enum Shape: String, CaseIterable, Sendable {
        case chain           // one sampled chain of 4 (Leviathan et al.)
        case tree            // three i.i.d. sampled chains + a deterministic lookup chain, merged (SpecInfer)
        case budgetedTree    // the same under a budget that trims by rank
        case deduplicated    // merged with .deduplicateAll: everything deterministic
    }

    typealias Verifier = @Sendable (TokenTree, [[Float]], inout Xoshiro256StarStar) throws -> Verdict

    static func proposal(_ shape: Shape, context: [Int32], drafter: ModelDrafter, rng: inout Xoshiro256StarStar) throws -> TokenTree {
        let history = LogitsContext(tokens: context, promptCount: prompt.count)
        if shape == .chain { return try drafter.draft(model: draft, context: history, using: &rng) }
        var trees = try (0..<3).map { _ in try drafter.draft(model: draft, context: history, using: &rng) }
        trees.append(try PromptLookupDrafter(maxTokens: 3).draft(context: context))
        switch shape {
        case .budgetedTree: return try TokenTree.merged(trees, budget: 6)
        case .deduplicated: return try TokenTree.merged(trees, budget: 16, rule: .deduplicateAll)
        default: return try TokenTree.merged(trees, budget: 16)
        }
    }

    /// Runs speculative steps until two tokens are committed; returns them.
    static func firstTwoTokens(_ shape: Shape, pipeline: LogitsPipeline, drafter: ModelDrafter, verify: Verifier,
                               rng: inout Xoshiro256StarStar) throws -> (Int, Int) {
        var context = prompt
        while context.count < prompt.count + 2 {
            let tree = try proposal(shape, context: context, drafter: drafter, rng: &rng)
            let logits = try target.score(context: context, tree: tree)
            let p = try pipeline.distributions(treeLogits: logits, context: LogitsContext(tokens: context, promptCount: prompt.count), tree: tree)
            context += try verify(tree, p, &rng).tokens
        }
        return (Int(context[prompt.count]), Int(context[prompt.count + 1]))
    }

    static func exactJoint(pipeline: LogitsPipeline) throws -> [Double] {
        let first = try pipeline.distribution(try target.logits(after: prompt), context: LogitsContext(tokens: prompt, promptCount: prompt.count))
        var joint: [Double] = []
        for a in 0..<vocabulary {
            let next = prompt + [Int32(a)]
            let second = try pipeline.distribution(try target.logits(after: next), context: LogitsContext(tokens: next, promptCount: prompt.count))
            joint += second.map { Double(first[a]) * Double($0) }
        }
        return joint
    }

    static func goodnessOfFit(_ shape: Shape, _ settings: SamplingSettings, seed: UInt64, verify: @escaping Verifier) throws -> ChiSquared.Result {
        let pipeline = try LogitsPipeline(settings)
        let drafter = try ModelDrafter(tokens: 4, settings: settings)
        var rng = Xoshiro256StarStar(seed: seed)
        var counts = [Int](repeating: 0, count: vocabulary * vocabulary)
        for _ in 0..<trials {
            let (a, b) = try firstTwoTokens(shape, pipeline: pipeline, drafter: drafter, verify: verify, rng: &rng)
            counts[a * vocabulary + b] += 1
        }
        return ChiSquared.test(observed: counts, expected: try exactJoint(pipeline: pipeline))
    }

    static let settings: [SamplingSettings] = [
        SamplingSettings(temperature: 1), SamplingSettings(temperature: 0.6, topP: 0.9), SamplingSettings(temperature: 1.4, topK: 5, minP: 0.05),
    ]

    static let exact: Verifier = { try SpeculativeVerifier.verify(tree: $0, targetDistributions: $1, using: &$2) }

    @Test(arguments: Shape.allCases, [0, 1, 2])
    func reproducesTheTargetDistribution(shape: Shape, settingsIndex: Int) throws {
        let result = try Self.goodnessOfFit(shape, Self.settings[settingsIndex], seed: 1000 + UInt64(settingsIndex), verify: Self.exact)
        let s = Self.settings[settingsIndex]
        print("χ² \(shape) T=\(s.temperature) top-k=\(s.topK) top-p=\(s.topP) min-p=\(s.minP): \(result)")
        #expect(result.pValue > Self.alpha, "\(shape) \(Self.settings[settingsIndex]): \(result)")
    }

    /// The same test rejects two classic mistakes, so it has power at this sample size: on
    /// rejection sampling from p instead of the residual, and trying siblings without updating the
    /// residual between them.
    @Test func detectsVerifiersThatSkipTheResidual() throws {
        let noResidual: Verifier = { tree, p, rng in try Self.wrongVerify(tree: tree, p: p, rng: &rng, zeroRejected: false) }
        let staleSiblings: Verifier = { tree, p, rng in try Self.wrongVerify(tree: tree, p: p, rng: &rng, zeroRejected: true) }
        let chain = try Self.goodnessOfFit(.chain, SamplingSettings(temperature: 1), seed: 5, verify: noResidual)
        print("χ² wrong chain verifier: \(chain)")
        #expect(chain.pValue < Self.alpha, "\(chain)")
        let tree = try Self.goodnessOfFit(.tree, SamplingSettings(temperature: 1), seed: 6, verify: staleSiblings)
        print("χ² wrong tree verifier: \(tree)")
        #expect(tree.pValue < Self.alpha, "\(tree)")
    }

    /// Deliberately wrong verification, for the power test only.
    static func wrongVerify(tree: TokenTree, p: [[Float]], rng: inout Xoshiro256StarStar, zeroRejected: Bool) throws -> Verdict {
        let children = tree.childLists()
        var accepted: [Int] = []
        var position = 0
        var residual = p[0].map(Double.init)
        descent: while true {
            for child in children[position] {
                let x = Int(tree.nodes[child].token)
                let q = tree.nodes[child].draftDistribution.map { Double($0[x]) } ?? 1
                if Distribution.unitDouble(using: &rng) * q < residual[x] {
                    accepted.append(child)
                    position = child + 1
                    residual = p[position].map(Double.init)
                    continue descent
                }
                if zeroRejected {
                    // Zeroes only the rejected token, ignoring q: wrong for sampled drafts.
                    residual[x] = 0
                    let total = residual.reduce(0, +)
                    if total > 0 { residual = residual.map { $0 / total } }
                }
            }
            break
        }
        let next = Int32(try Distribution.sample(residual, using: &rng))
        return Verdict(acceptedNodes: accepted, acceptedTokens: accepted.map { tree.nodes[$0].token }, nextToken: next)
    }

    @Test func rejectsRowsThatDoNotMatchTheTree() throws {
        var rng = Xoshiro256StarStar(seed: 1)
        let tree = try TokenTree.chain([1, 2], source: "x")
        #expect { try SpeculativeVerifier.verify(tree: tree, targetDistributions: [[0.5, 0.5, 0]], using: &rng) } throws: {
            ($0 as? OperatorError)?.code == .shapeMismatch
        }
        #expect { try SpeculativeVerifier.verify(tree: tree, targetDistributions: [[0, 0, 0], [0, 0, 1], [1, 0, 0]], using: &rng) } throws: {
            ($0 as? OperatorError)?.code == .invalidDistribution
        }
        #expect { try GreedyVerifier.verify(tree: tree, rows: [[1, 2]]) } throws: { ($0 as? OperatorError)?.code == .shapeMismatch }
    }
}
