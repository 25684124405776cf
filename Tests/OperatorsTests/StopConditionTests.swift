import Testing
@testable import Operators

@Suite struct StopConditionTests {
    /// A toy token → bytes table; token 6/7 split "é" (C3 A9) across two tokens; 9 is EOS.
    static let table: [Int32: [UInt8]] = [
        0: Array("Hel".utf8), 1: Array("lo".utf8), 2: Array(" wor".utf8), 3: Array("ld".utf8),
        4: Array("\n".utf8), 5: Array("\n\n".utf8), 6: [0xC3], 7: [0xA9], 9: [],
    ]
    static func bytes(_ t: Int32) -> [UInt8] { table[t] ?? [] }

    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var max = 100
        var stops: [String] = []
        var commits: [[Int32]]
        var text: String
        var kept: [Int]
        var reason: StopCondition.Reason?
    }

    static let cases: [Case] = [
        Case(description: "stop string split across commits", stops: ["\n\n"], commits: [[0, 1], [4], [4]],
             text: "Hello", kept: [2, 1, 1], reason: .stopString("\n\n")),
        Case(description: "stop inside a multi-token commit", stops: ["\n\n"], commits: [[0, 1, 5, 2]],
             text: "Hello", kept: [3], reason: .stopString("\n\n")),
        Case(description: "EOS inside a commit", commits: [[0, 9, 1]], text: "Hel", kept: [2], reason: .endOfSequence(9)),
        Case(description: "budget reached mid-commit", max: 3, commits: [[0, 1, 2, 3]], text: "Hello wor", kept: [3], reason: .maxTokens),
        Case(description: "held-back prefix that is not a stop", stops: ["low"], commits: [[0], [1], [2]],
             text: "Hello wor", kept: [1, 1, 1], reason: nil),
        Case(description: "held-back text flushed at EOS", stops: ["\n\n"], commits: [[0, 4], [9]],
             text: "Hel\n", kept: [2, 1], reason: .endOfSequence(9)),
        Case(description: "multi-byte character split across tokens", stops: ["é!"], commits: [[0, 6], [7, 1]],
             text: "Helélo", kept: [2, 2], reason: nil),
        Case(description: "the earliest-completing stop wins", stops: ["world", "lo w"], commits: [[0, 1, 2, 3]],
             text: "Hel", kept: [3], reason: .stopString("lo w")),
        Case(description: "nothing after a stop", commits: [[9], [0]], text: "", kept: [1, 0], reason: .endOfSequence(9)),
    ]

    @Test(arguments: cases)
    func cutsCommitsAtTheFirstCondition(c: Case) throws {
        var condition = try StopCondition(maxNewTokens: c.max, eosTokens: [9], stopStrings: c.stops)
        var text: [UInt8] = []
        var kept: [Int] = []
        var reason: StopCondition.Reason?
        for commit in c.commits {
            let outcome = condition.commit(commit, bytes: Self.bytes)
            text += outcome.text
            kept.append(outcome.keptTokens)
            reason = outcome.reason
        }
        #expect(String(decoding: text, as: UTF8.self) == c.text)
        #expect(kept == c.kept)
        #expect(reason == c.reason)
    }

    @Test func rejectsBadParameters() {
        #expect(throws: OperatorError.self) { try StopCondition(maxNewTokens: 0) }
        #expect { try StopCondition(maxNewTokens: 5, stopStrings: ["a", ""]) } throws: { ($0 as? OperatorError)?.location == "stop[1]" }
    }
}
