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
}
