import Constraints
import Graph
@testable import Operators
import Testing
@testable import Engine

/// Constraints compose with the searches that re-open older hypotheses: a constraint's parser
/// follows each jump (it rolls back to the common prefix), so every candidate of a lattice, an
/// MCTS or φ-Decoding run is a valid prefix of the constraint, and a complete one when it ended
/// with EOS.
@Suite struct ConstrainedSearchTests {
    static let pattern = #"(x = [0-9]+\n)+"#

    static func plan(_ file: String, search: (String, String)) throws -> Plan {
        try DemoGraphs.plan(file, edits: [
            ("nodes:", "nodes:\n  form: { op: constrain.regex, pattern: \"(x = [0-9]+\\\\n)+\", forced: 0 }"),
            ("scores: { op: score, model: target }", "scores: { op: score, model: target, tree: form }"),
            search,
        ])
    }

    @Test(arguments: [
        ("lattice.yaml", ("budget: 96", "budget: 24"), 16),
        ("mcts.yaml", ("simulations: 32", "simulations: 6"), 16),
        ("phi-decoding.yaml", ("candidates: 4", "candidates: 3"), 24),
    ])
    func everyCandidateFollowsTheConstraint(file: String, search: (String, String), budget: Int) throws {
        let session = try Session(plan: try Self.plan(file, search: search))
        let tokenizer = try #require(session.tokenizer)
        let grammar = try Grammar.regex(Self.pattern)
        let result = try session.run(prompt: tokenizer.encode("def f():\n    # set x\n"), maxNewTokens: budget)
        #expect(!result.candidates.isEmpty)
        for candidate in result.candidates {
            let ended = session.eosTokens.contains(candidate.tokens.last ?? -1)
            let text = Array(tokenizer.decode(ended ? Array(candidate.tokens.dropLast()) : candidate.tokens, skipSpecialTokens: true).utf8)
            var walk = Constraint(grammar: grammar, vocabulary: ConstraintReward.bytes)
            #expect(walk.advance(bytes: text) == text.count, "\(file): '\(String(decoding: text, as: UTF8.self))' leaves the constraint")
            if ended { #expect(walk.isAccepting, "\(file): ended before the constraint was complete") }
        }
    }
}
