import Foundation
import ModelRuntime
import Operators
import Testing
@testable import Engine

/// `AcceptanceProfile` (`decograph bench acceptance`): each position's rank is the emitted token's
/// rank in the draft model's distribution after the same prefix, replayed here one position at a
/// time on a fresh sequence; q_1 is the draft's greedy agreement with the target.
@Suite struct AcceptanceProfileTests {
    @Test func ranksAreTheDraftsRanksOfTheEmittedTokens() throws {
        let session = try Session(plan: try DemoGraphs.plan("speculative.yaml"), resources: DemoGraphs.resources)
        let prompts = Array(GraphGreedyIdentityTests.prompts.prefix(3))
        let profile = try AcceptanceProfile.measure(session: session, prompts: prompts, maxNewTokens: 24, ranks: 4)
        let draft = try DemoGraphs.resources.model(at: DemoGraphs.repository + "/models/demo-draft").model
        var expected = [0, 0, 0, 0], positions = 0
        for prompt in prompts {
            let output = try session.run(prompt: prompt, maxNewTokens: 24).tokens
            for i in output.indices {
                let sequence = draft.makeSequence()
                let row = Array(try draft.forward([ForwardItem(sequence: sequence, tokens: prompt + output[..<i], outputs: .last)])[0].row(0))
                let rank = Distribution.topIndices(row, row.count).firstIndex(of: Int(output[i]))!
                if rank < 4 { expected[rank] += 1 }
                positions += 1
            }
        }
        #expect(profile.positions == positions)
        #expect(profile.ranks == expected)
        #expect(profile.shares.reduce(0, +) <= 1)
        #expect(profile.ranks[0] > 0 && profile.ranks[0] < positions, "the draft agrees sometimes, not always")
    }

    @Test func aGraphWithoutADraftModelIsRefused() throws {
        let session = try Session(plan: try DemoGraphs.plan("lookup.yaml"), resources: DemoGraphs.resources)
        #expect(throws: EngineError.self) {
            _ = try AcceptanceProfile.measure(session: session, prompts: [[1, 2, 3]], maxNewTokens: 4, ranks: 4)
        }
    }
}
