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

    /// PG-TD's beam roll-outs: the rewarded sequence of each simulation is the best complete beam
    /// (summed log-probability over length) of a beam search from its leaf, which is never worse
    /// by that measure than the greedy roll-out from the same leaf; every step's frontier holds
    /// each roll-out's hypotheses, at most `rolloutBeams` per simulation.
    @Test func beamRollOutsRewardTheBestBeam() throws {
        let search = try TokenMCTS(simulations: 12, parallel: 2, branch: 2, exploration: 1, rolloutBeams: 3, maxNewTokens: 6, eosTokens: [0],
                                   reward: { _, mean in mean })
        var state = try search.start()
        var widest = 0
        while !state.isDone {
            #expect(state.inFlight.allSatisfy { $0.beams.count + $0.done.count <= 3 })
            widest = max(widest, state.running.count)
            try search.step(&state, logits: state.running.map { try Scripted().nextLogits(context: [1] + $0) })
        }
        #expect(widest > 2, "no roll-out ran more than one hypothesis")
        // The first simulation rolls out from the root: its sequence is the beam search's best.
        let first = try #require(state.complete.first)
        let greedy = try Self.run(TokenMCTS(simulations: 1, parallel: 1, branch: 2, exploration: 1, maxNewTokens: 6, eosTokens: [0],
                                            reward: { _, mean in mean })).complete[0]
        #expect(first.meanLogProbability >= greedy.meanLogProbability - 1e-9)
        #expect(try first.tokens == Self.beamSearch(width: 3, maxNewTokens: 6), "the roll-out is a plain beam search from the leaf")
        #expect(state.nodes.allSatisfy { $0.pending == 0 })
        #expect(state.nodes[0].visits == 12)
    }

    /// A direct beam search on the scripted model with the roll-out's rules, for the oracle above.
    static func beamSearch(width: Int, maxNewTokens: Int) throws -> [Int32] {
        var beams: [([Int32], Double)] = [([], 0)], done: [([Int32], Double)] = []
        while !beams.isEmpty {
            var extensions: [([Int32], Double)] = []
            for (tokens, lp) in beams {
                let row = try Distribution.logSoftmax(try Scripted().nextLogits(context: [1] + tokens))
                for t in Distribution.topIndices(row, width) { extensions.append((tokens + [Int32(t)], lp + Double(row[t]))) }
            }
            let ranked = extensions.enumerated().sorted { ($0.element.1, -$0.offset) > ($1.element.1, -$1.offset) }.map(\.element)
            beams = []
            for candidate in ranked.prefix(width - done.count) {
                if candidate.0.last == 0 || candidate.0.count >= maxNewTokens { done.append(candidate) } else { beams.append(candidate) }
            }
        }
        return done.enumerated().max { ($0.element.1 / Double($0.element.0.count), -$0.offset) < ($1.element.1 / Double($1.element.0.count), -$1.offset) }!.element.0
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
