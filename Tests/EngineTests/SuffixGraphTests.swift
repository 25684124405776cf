import Foundation
import Graph
import Testing
@testable import Engine

/// graphs/suffix.yaml keeps the session's outputs as its global corpus: a prompt answered once is
/// answered again with long drafts from the first answer, the same tokens in far fewer target
/// calls (greedy identity itself is `GraphGreedyIdentityTests`).
@Suite struct SuffixGraphTests {
    @Test func laterRunsDraftFromEarlierOutputs() throws {
        let plan = try Fixtures.plan(try GraphGreedyIdentityTests.fixtureVersion(of: "suffix.yaml"))
        let session = try Session(plan: plan, resources: Fixtures.resources)
        let prompt: [Int32] = [3, 14, 15, 9, 26, 5]
        let first = try session.run(prompt: prompt)
        let second = try session.run(prompt: prompt)
        #expect(second.tokens == first.tokens)
        #expect(second.metrics.targetCalls * 3 < first.metrics.targetCalls, "first \(first.metrics.targetCalls), second \(second.metrics.targetCalls) target calls")
    }

    /// The shared length policy applies: under `schedule: heuristic` the graph still emits plain
    /// greedy decoding, and the length follows acceptance (fewer tokens proposed than the fixed cap).
    @Test func heuristicLengthKeepsGreedyIdentity() throws {
        let text = try GraphGreedyIdentityTests.fixtureVersion(of: "suffix.yaml")
        let fixed = try Session(plan: try Fixtures.plan(text), resources: Fixtures.resources)
        let adaptive = try Session(plan: try Fixtures.plan(text.replacingOccurrences(of: "factor: 1 }", with: "factor: 4, schedule: heuristic }").replacingOccurrences(of: "tokens: 16", with: "tokens: 2")),
                                   resources: Fixtures.resources)
        var proposedFixed = 0, proposedAdaptive = 0
        for (prompt, expected) in zip(GraphGreedyIdentityTests.prompts.prefix(8), GraphGreedyIdentityTests.expected) {
            let a = try adaptive.run(prompt: prompt), f = try fixed.run(prompt: prompt)
            #expect(a.tokens == expected && f.tokens == expected)
            proposedAdaptive += a.metrics.proposedByPosition.reduce(0, +)
            proposedFixed += f.metrics.proposedByPosition.reduce(0, +)
        }
        #expect(proposedAdaptive > 0 && proposedAdaptive != proposedFixed)
    }
}
