import Foundation
import Testing
@testable import Engine

/// `Session.run(control:)`: a caller that turns drafting off for some steps changes no committed
/// token (only how many the target calls commit), and one that cancels ends the run at the next
/// step with what was committed so far.
@Suite struct RunControlTests {
    static let prompt: [Int32] = Array(GraphGreedyIdentityTests.prompts[0].prefix(24))

    @Test(arguments: ["speculative.yaml", "lookup.yaml", "suffix.yaml"])
    func draftingOffForSomeStepsKeepsTheTokens(graph: String) throws {
        let plan = try DemoGraphs.plan(graph)
        let session = try Session(plan: plan, resources: DemoGraphs.resources)
        let free = try session.run(prompt: Self.prompt, maxNewTokens: 64)
        var steps = 0
        let alternating = try session.run(prompt: Self.prompt, maxNewTokens: 64, control: RunControl(allowsDrafting: {
            steps += 1
            return steps % 2 == 0
        }))
        let never = try session.run(prompt: Self.prompt, maxNewTokens: 64, control: RunControl(allowsDrafting: { false }))
        #expect(alternating.tokens == free.tokens)
        #expect(never.tokens == free.tokens)
        // Without drafts every target call commits one token.
        #expect(never.metrics.targetCalls == never.tokens.count)
        #expect(free.metrics.targetCalls < free.tokens.count)
    }

    @Test func cancellingEndsTheRunAtTheNextStep() throws {
        let session = try Session(plan: try DemoGraphs.plan("greedy.yaml"), resources: DemoGraphs.resources)
        var steps = 0
        var events: [SessionEvent] = []
        let result = try session.run(prompt: Self.prompt, maxNewTokens: 64, control: RunControl(isCancelled: {
            steps += 1
            return steps > 5
        })) { events.append($0) }
        #expect(result.finishReason == "cancelled")
        #expect(result.tokens.count == 5)
        #expect(events.last?.finishReason == "cancelled")
        let whole = try session.run(prompt: Self.prompt, maxNewTokens: 64)
        #expect(Array(whole.tokens.prefix(5)) == result.tokens)
    }
}
