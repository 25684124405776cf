import Foundation
import Operators
import Testing
@testable import Engine

/// The propose family's `unless` port (graphs/copyspec-sd.yaml): the draft model runs exactly on
/// the steps where the copy drafter found nothing to copy, and the tokens stay greedy's.
@Suite struct FallbackDrafterTests {
    @Test func theFallbackRunsOnlyWhereTheFirstDrafterProposedNothing() throws {
        let session = try Session(plan: try DemoGraphs.plan("copyspec-sd.yaml"), resources: DemoGraphs.resources)
        let greedy = try Session(plan: try DemoGraphs.plan("greedy.yaml"), resources: DemoGraphs.resources)
        // The copy drafter of the graph, to replay what it saw at each step.
        let copy = try PromptLookupDrafter(minMatch: 5, maxMatch: 5, maxTokens: 64, occurrence: .first)
        var copied = 0, fellBack = 0
        for prompt in GraphGreedyIdentityTests.prompts.prefix(9) {
            var events: [SessionEvent] = []
            let result = try session.run(prompt: prompt, maxNewTokens: 96) { events.append($0) }
            #expect(result.tokens == (try greedy.run(prompt: prompt, maxNewTokens: 96)).tokens)
            var context = prompt
            var expectedCalls = 0
            for event in events {
                if copy.draft(context: context).isEmpty { expectedCalls += 1 } else { copied += 1 }
                context += event.tokens
            }
            let calls = result.metrics.nodes.first { $0.name == "small" }?.calls ?? -1
            #expect(calls == expectedCalls, "the draft model ran \(calls) times; the copy drafter was empty on \(expectedCalls) of \(events.count) steps")
            fellBack += expectedCalls
        }
        // Both branches were exercised.
        #expect(copied > 0 && fellBack > 0)
    }
}
