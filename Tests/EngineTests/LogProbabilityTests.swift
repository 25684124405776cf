import Foundation
import Operators
import Testing
@testable import Engine

/// `Session.run(logProbabilities:)`: every emitted token's log-probability is the target's
/// full-depth log-softmax at its position, read from a fresh sequence (the oracle: what plain
/// decoding's row was), whatever graph committed it — plain, drafted and verified, sampled at a
/// temperature, or closed by a constraint.
@Suite struct LogProbabilityTests {
    static let prompt: [Int32] = Array(GraphGreedyIdentityTests.prompts[1].prefix(24))
    /// Row independence makes the verifier's rows the plain pass's to rounding.
    static let tolerance: Float = 1e-4

    /// Checks `entries` against the target's own rows after `prompt`.
    static func expectOracle(_ entries: [TokenLogProbability], tokens: [Int32], prompt: [Int32], session: Session, top: Int,
                             greedy: Bool) throws {
        #expect(entries.map(\.token) == tokens)
        guard !tokens.isEmpty else { return }
        let rows = try session.fullDepthRows(of: tokens, after: prompt)
        for (i, entry) in entries.enumerated() {
            let expected = try Distribution.logSoftmax(rows[i])
            #expect(abs(entry.logProbability - expected[Int(entry.token)]) <= tolerance, "token \(i)")
            #expect(entry.alternatives.count == top)
            #expect(zip(entry.alternatives, entry.alternatives.dropFirst()).allSatisfy { $0.logProbability >= $1.logProbability })
            if let best = entry.alternatives.first {
                #expect(abs(best.logProbability - expected.max()!) <= tolerance)
                if greedy { #expect(best.token == entry.token, "token \(i): greedy chose the most likely") }
            }
            #expect(entry.logProbability <= 0)
        }
    }

    @Test(arguments: ["greedy.yaml", "speculative.yaml", "lookup.yaml", "suffix.yaml", "recycle.yaml"])
    func everyTokenCarriesTheTargetsLogProbability(graph: String) throws {
        let session = try Session(plan: try DemoGraphs.plan(graph), resources: DemoGraphs.resources)
        var events: [SessionEvent] = []
        let result = try session.run(prompt: Self.prompt, maxNewTokens: 48, logProbabilities: 3) { events.append($0) }
        let entries = try #require(result.logProbabilities)
        try Self.expectOracle(entries, tokens: result.tokens, prompt: Self.prompt, session: session, top: 3, greedy: true)
        // The events carry the same entries, step by step.
        #expect(events.flatMap { $0.logProbabilities ?? [] } == entries)
        for event in events { #expect(event.logProbabilities?.count == event.tokens.count) }
        // Asking changes no token.
        #expect(try session.run(prompt: Self.prompt, maxNewTokens: 48).tokens == result.tokens)
    }

    @Test func sampledTokensCarryTheUntemperedDistribution() throws {
        let plan = try DemoGraphs.plan("sampling.yaml")
        let session = try Session(plan: plan, resources: DemoGraphs.resources)
        let result = try session.run(prompt: Self.prompt, maxNewTokens: 32, seed: 7, logProbabilities: 2)
        try Self.expectOracle(try #require(result.logProbabilities), tokens: result.tokens, prompt: Self.prompt, session: session, top: 2, greedy: false)
    }

    @Test func aStopStringKeepsTheEntriesOfTheKeptTokens() throws {
        let session = try Session(plan: try DemoGraphs.plan("greedy.yaml"), resources: DemoGraphs.resources)
        let free = try session.run(prompt: Self.prompt, maxNewTokens: 40)
        // A stop string from the middle of the free run's text.
        let characters = Array(free.text)
        let stop = String(characters[(characters.count / 2)..<min(characters.count, characters.count / 2 + 3)])
        let cut = try session.run(prompt: Self.prompt, maxNewTokens: 40, stop: [stop], logProbabilities: 1)
        #expect(cut.finishReason == "stop")
        #expect(cut.tokens.count < free.tokens.count)
        try Self.expectOracle(try #require(cut.logProbabilities), tokens: cut.tokens, prompt: Self.prompt, session: session, top: 1, greedy: true)
    }

    @Test func closingTokensAreReadByTheTarget() throws {
        let session = try Session(plan: try DemoGraphs.plan("json.yaml"), resources: DemoGraphs.resources)
        let prompt = try session.encode(try DemoGraphs.prompt("prompt-release.py"))
        var events: [SessionEvent] = []
        let result = try session.run(prompt: prompt, maxNewTokens: 9, logProbabilities: 2) { events.append($0) }
        #expect(result.finishReason == "closed")
        let entries = try #require(result.logProbabilities)
        // The closing tokens are the constraint's, not the target's choice: only their values are checked.
        try Self.expectOracle(entries, tokens: result.tokens, prompt: prompt, session: session, top: 2, greedy: false)
        #expect(events.last?.logProbabilities?.count == events.last?.tokens.count)
    }

    @Test func aSearchOutputRefusesThem() throws {
        let session = try Session(plan: try DemoGraphs.plan("beam.yaml"), resources: DemoGraphs.resources)
        #expect(throws: EngineError.self) { try session.run(prompt: Self.prompt, maxNewTokens: 8, logProbabilities: 1) }
    }

    @Test func entriesFollowThePathThroughTheScoredTree() throws {
        // Root row → token 2; node 1 (token 2, under the root) holds the row for token 0; the
        // verifier's own last token is read at node 2's row (token 0 under node 1).
        var tree = TokenTree()
        try tree.append(1, parent: TokenTree.root, source: "test")
        try tree.append(2, parent: TokenTree.root, source: "test")
        try tree.append(0, parent: 1, source: "test")
        let rows: [[Float]] = [[0, 0, 5], [9, 0, 0], [0, 6, 0], [0, 0, 3]]
        let entries = try #require(try TokenLogProbability.readings([2, 0, 1], tree: tree, logits: rows, top: 1))
        #expect(entries.map { $0.alternatives[0].token } == [2, 1, 2])
        // A committed token the tree does not hold, before the last, has no row.
        #expect(try TokenLogProbability.readings([1, 1, 1], tree: tree, logits: rows, top: 1) == nil)
    }
}
