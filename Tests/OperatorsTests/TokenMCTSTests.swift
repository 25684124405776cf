import Constraints
import Foundation
import Testing
@testable import Operators

/// Monte Carlo tree search over tokens on scripted distributions, and the command reward.
@Suite struct TokenMCTSTests {
    /// Six tokens (0 is EOS); token 5 is never the most likely, so greedy decoding never emits it.
    struct Scripted: TreeScorer {
        let vocabularySize = 6
        func score(context: [Int32], tree: TokenTree) throws -> [[Float]] {
            let last = Int(context.last ?? 1), n = Float(context.count)
            return [(0 ..< 6).map { t in
                t == 0 ? n * 0.35 - 2.5 : t == 5 ? 1.45 : Float((t * 3 + last * 2) % 5) * 0.3 + 1
            }]
        }
    }

    static func run(_ search: TokenMCTS, prompt: [Int32] = [1]) throws -> TokenMCTS.State {
        var state = try search.start()
        while !state.isDone {
            try search.step(&state, logits: state.running.map { try Scripted().nextLogits(context: prompt + $0) })
        }
        return state
    }

    @Test func findsWhatGreedyMissesWhenTheRewardAsksForIt() throws {
        let needle: @Sendable ([Int32], Double) -> Double = { tokens, _ in tokens.contains(5) ? 1 : 0 }
        let search = try TokenMCTS(simulations: 40, parallel: 4, branch: 4, exploration: 1.5, maxNewTokens: 6, eosTokens: [0], reward: needle)
        let state = try Self.run(search)
        // The first simulation is the greedy roll-out from the root: it misses the needle.
        #expect(state.complete.first?.reward == 0)
        #expect(state.finished.first?.score == 1, "\(state.finished.prefix(3).map(\.tokens))")
        #expect(state.finished.first?.tokens.contains(5) == true)
        #expect(state.nodes[0].visits == 40)
        for node in state.nodes where !node.children.isEmpty {
            #expect(node.children.reduce(0) { $0 + state.nodes[$1].visits } <= node.visits)
        }
        #expect(state.nodes.allSatisfy { $0.pending == 0 })
    }

    @Test func loglikRewardNeverDoesWorseThanGreedyAndIsDeterministic() throws {
        let search = try TokenMCTS(simulations: 24, parallel: 3, branch: 2, exploration: 1, maxNewTokens: 8, eosTokens: [0],
                                   reward: { _, mean in mean })
        let a = try Self.run(search), b = try Self.run(search)
        #expect(a.finished == b.finished)
        let greedy = try #require(a.complete.first)
        #expect(Double(a.finished[0].score) >= greedy.reward - 1e-6)
        #expect(Set(a.complete.map(\.tokens)).count == a.complete.count)
    }

    @Test func commandRewardReadsTheVerdict() throws {
        #expect(try CommandReward.run(["cat"], input: "partial\n0.25\n", timeout: 10) == 0.25)
        #expect(try CommandReward.run(["true"], input: "x", timeout: 10) == 1)
        #expect(try CommandReward.run(["false"], input: "x", timeout: 10) == 0)
        #expect(try CommandReward.run(["grep", "-q", "needle"], input: "a needle here", timeout: 10) == 1)
        // Only PATH reaches the program, and it runs in a fresh directory.
        #expect(try CommandReward.run(["sh", "-c", "test -z \"$HOME\" && test -z \"$(ls)\""], input: "", timeout: 10) == 1)
        let started = Date()
        #expect(try CommandReward.run(["sleep", "5"], input: "", timeout: 0.3) == 0)
        #expect(Date().timeIntervalSince(started) < 4.5, "the program was not killed at its time limit")
        #expect(throws: OperatorError.self) { try CommandReward.run(["no-such-program-decograph"], input: "", timeout: 1) }
    }

    /// A reward's program is fed and read on threads of its own: with Dispatch's global queue busy
    /// with blocking work (other rewards, other work of the process), it still gets its input and
    /// its verdict is read, rather than timing out with reward 0.
    @Test func commandRewardDoesNotWaitForTheGlobalQueue() throws {
        let release = DispatchSemaphore(value: 0)
        let busy = 4 * ProcessInfo.processInfo.activeProcessorCount + 8
        for _ in 0..<busy { DispatchQueue.global().async { _ = release.wait(timeout: .now() + 20) } }
        defer { for _ in 0..<busy { release.signal() } }
        #expect(try CommandReward.run(["cat"], input: "0.5\n", timeout: 3) == 0.5)
    }
}

/// The constraint reward: 1 for a complete, valid text, else half the share of bytes accepted.
@Suite struct ConstraintRewardTests {
    @Test func scoresValidityWithPartialCredit() throws {
        let grammar = try Grammar.regex("ab+c")
        #expect(ConstraintReward.score(Array("abbbc".utf8), grammar: grammar) == 1)
        #expect(ConstraintReward.score(Array("abx".utf8), grammar: grammar) == 0.5 * 2 / 3)
        #expect(ConstraintReward.score(Array("abb".utf8), grammar: grammar) == 0.5, "a valid prefix that is not complete")
        #expect(ConstraintReward.score(Array("x".utf8), grammar: grammar) == 0)
        #expect(ConstraintReward.score([], grammar: grammar) == 0)
    }
}
