import Foundation
import Operators
import Testing
@testable import Engine

/// DESIGN.md's sampling oracle through the whole engine: the first token a speculative graph
/// commits (accepted draft or residual draw) is distributed as the target's shaped next-token
/// distribution. Pearson's χ² goodness of fit at significance α = 0.001, bins with expected
/// count below 5 pooled; the runs are seeded, so the outcome is reproducible.
@Suite struct SpeculativeSamplingExactnessTests {
    static let runs = 1500
    /// z for an upper tail of 0.001.
    static let zAlpha = 3.090

    /// The critical value of χ² with `k` degrees of freedom (Wilson & Hilferty 1931).
    static func critical(_ k: Int) -> Double {
        let h = 2.0 / (9.0 * Double(k))
        return Double(k) * pow(1 - h + zAlpha * h.squareRoot(), 3)
    }

    static let chain = "  proposals: { op: draft.model, model: draft, tokens: 2, temperature: 1 }\n"
    static let configurations: [(name: String, temperature: Double, topP: Double, drafters: String)] = [
        ("chain T=1", 1, 1, chain),
        ("chain T=0.7 top_p=0.9", 0.7, 0.9, chain),
        ("tree T=1.3", 1.3, 1, """
              small: { op: draft.model, model: draft, tokens: 2, temperature: 1 }
              recall: { op: draft.lookup, tokens: 3 }
              proposals: { op: tree.merge, from: [small, recall] }
            """),
        // Self-speculation: the target's own first layer (or the target without it) drafts,
        // sharing the target's KV sequence.
        ("layer-skip first 1 T=1", 1, 1, "  proposals: { op: draft.model, model: target, layers: 1, tokens: 3, temperature: 1 }\n"),
        ("layer-skip skip [0] T=0.8 top_p=0.95", 0.8, 0.95,
         "  proposals: { op: draft.model, model: target, skip_layers: [0], tokens: 3, temperature: 0.9 }\n"),
        // Token Recycling: its table, filled by a warm-up run of the same session, drafts a tree.
        ("recycle T=1", 1, 1, "  proposals: { op: draft.recycle, scores: scores, widths: [3, 2, 1] }\n"),
        // Ouroboros: a sampled chain lengthened with deterministic phrases from the pool a warm-up
        // run filled, and the pool alone drafting below the context (its phrases are the root's
        // children, so they decide the first token).
        ("ouroboros T=1", 1, 1, """
              small: { op: draft.model, model: draft, tokens: 2, temperature: 1 }
              proposals: { op: draft.phrases, tree: small, scores: scores }
            """),
        ("phrases T=0.8", 0.8, 1, "  proposals: { op: draft.phrases, scores: scores, branches: 3 }\n"),
        // SuffixDecoding: the prompt's suffix [12, 40] recurs in it.
        ("suffix T=0.9", 0.9, 1, "  proposals: { op: draft.suffix, min_match: 1, factor: 2 }\n"),
        // The shared gate (its length comes from earlier commits only) and a CLaSp-searched skip set.
        ("lookup gated T=1", 1, 1, "  proposals: { op: draft.lookup, tokens: 3, schedule: optimal, row_cost: 0.1 }\n"),
        ("clasp T=1", 1, 1, "  proposals: { op: draft.model, model: target, skip_ratio: 0.5, skip_search: clasp, tokens: 3, temperature: 1 }\n"),
        // Lookahead decoding: its guesses are deterministic given the history; the prompt's
        // n-grams (the reference's POOL_FROM_PROMPT) give it some at the first step.
        ("lookahead T=1", 1, 1, "  proposals: { op: draft.lookahead, scores: scores, window: 3, ngram: 3, guesses: 2, prompt_pool: true }\n"),
        // Staged speculation: the draft model, sped up by prompt lookup, drafts greedily (deterministic).
        ("staged T=1", 1, 1, "  proposals: { op: draft.graph, graph: \(stagedDrafter), tokens: 3 }\n"),
        // ADED: the prompt's pair (12, 40) was followed by 7, so its tri-gram matrix drafts.
        ("aded T=1", 1, 1, "  proposals: { op: draft.aded, depth: 3, tokens: 6 }\n"),
        // A fallback drafter (`unless`): a 3-token match the prompt lacks leaves lookup empty, so
        // the sampled draft model proposes.
        ("fallback T=1", 1, 1, """
              recall: { op: draft.lookup, min_match: 3, max_match: 3, tokens: 3 }
              small: { op: draft.model, model: draft, tokens: 2, temperature: 1, unless: recall }
              proposals: { op: tree.merge, from: [recall, small] }
            """),
    ]

    /// A drafting graph for `draft.graph`: the fixture draft model decoding greedily, verifying
    /// prompt-lookup chains.
    static let stagedDrafter = try! DraftGraphTests.drafting("{ op: draft.lookup, tokens: 3 }")

    @Test(arguments: configurations.map(\.name))
    func firstTokenFollowsTheTarget(name: String) throws {
        let c = try #require(Self.configurations.first { $0.name == name })
        let drafters = c.drafters
        let plan = try Fixtures.plan("""
        graph: exactness
        \(Fixtures.models)
        nodes:
        \(drafters)
          scores: { op: score, model: target, tree: proposals }
          pick: { op: sample, from: scores, temperature: \(c.temperature), top_p: \(c.topP) }
          accept: { op: verify, from: pick, mode: sampling }
        output: accept
        limits: { max_new_tokens: 1, ignore_eos: true }
        """)
        let session = try Session(plan: plan, resources: Fixtures.resources)
        // A prompt whose suffix recurs, so the lookup drafter proposes too.
        let prompt: [Int32] = [12, 40, 7, 12, 40]
        let target = try Fixtures.resources.model(at: Fixtures.target)
        let logits = try ModelSequenceScorer(service: target).nextLogits(context: prompt)
        let pipeline = try LogitsPipeline(SamplingSettings(temperature: Float(c.temperature), topP: Float(c.topP)))
        let p = try pipeline.distribution(logits, context: LogitsContext(tokens: prompt, promptCount: prompt.count)).map(Double.init)

        // Drafters that learn from the target's scores get a warm-up run of the same session.
        let learns = ["draft.recycle", "draft.phrases"].contains { drafters.contains($0) }
        if learns { _ = try session.run(prompt: prompt, maxNewTokens: 24, seed: 99) }
        var counts = [Int](repeating: 0, count: p.count)
        var proposed = 0
        for seed in 0..<Self.runs {
            let result = try session.run(prompt: prompt, seed: UInt64(seed))
            counts[Int(result.tokens[0])] += 1
            proposed += result.metrics.proposedByPosition.first ?? 0
        }
        #expect(proposed > Self.runs / 2, "the drafter proposed in only \(proposed) of \(Self.runs) runs")
        #expect(counts.indices.allSatisfy { p[$0] > 0 || counts[$0] == 0 }, "a token outside the target's support was emitted")
        Self.expectFit(counts: counts, p: p)
    }

    /// Pearson's χ² of `counts` against `p` (bins with an expected count below 5 pooled into one),
    /// expected below the critical value at `zAlpha`, with at least 3 degrees of freedom.
    /// - Parameters:
    ///   - counts: observed draws per token.
    ///   - p: the distribution they should follow.
    static func expectFit(counts: [Int], p: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        let runs = counts.reduce(0, +)
        var bins: [(observed: Int, expected: Double)] = []
        var rare = (observed: 0, expected: 0.0)
        for t in p.indices {
            let e = p[t] * Double(runs)
            if e >= 5 { bins.append((counts[t], e)) } else { rare.observed += counts[t]; rare.expected += e }
        }
        if rare.expected > 0 { bins.append(rare) }
        let statistic = bins.reduce(0.0) { $0 + pow(Double($1.observed) - $1.expected, 2) / $1.expected }
        let k = bins.count - 1
        #expect(k >= 3, "too few bins for a meaningful test", sourceLocation: sourceLocation)
        #expect(statistic < critical(k), "χ² = \(statistic) with \(k) degrees of freedom exceeds \(critical(k))", sourceLocation: sourceLocation)
    }
}
