import Graph
import DecographCLI
import Foundation
import Operators
import Testing
@testable import Engine

/// `search.lattice` through the engine: re-opened nodes forked from the running hypothesis with
/// the longest shared prefix give what the search gives scoring every context afresh, one pass per
/// step; graphs with per-hypothesis state are refused; `run --lattice` writes the lattice.
@Suite struct LatticeSessionTests {
    static let yaml = """
    graph: lattice
    \(Fixtures.models)
    nodes:
      scores: { op: score, model: target }
      lattice: { op: search.lattice, from: scores, width: 3, branch: 3, budget: 30, ngram: 2 }
    output: lattice
    limits: { max_new_tokens: 10 }
    """

    @Test func engineLatticeMatchesDirectSearch() throws {
        let resources = ResourceRegistry(pool: Fixtures.resources.pool)
        let session = try Session(plan: try Fixtures.plan(Self.yaml), resources: resources)
        let service = try resources.model(at: Fixtures.target)
        for prompt: [Int32] in [[1, 7, 9], [4, 4, 4, 20]] {
            let passes = service.counters.passes
            let engine = try session.run(prompt: prompt)
            // One pass per step: the tokens a re-opened node lacks are fed in it (a chain that
            // returns only its last row); these short prompts ride in the first step's pass too.
            let used = service.counters.passes - passes
            #expect(used == engine.metrics.steps)
            let search = try LatticeSearch(width: 3, branch: 3, budget: 30, ngram: 2, maxNewTokens: 10, eosTokens: session.eosTokens)
            var state = search.start()
            let fresh = FreshScorer(service: service)
            while !state.isDone {
                try search.step(&state, logits: state.running.map { try fresh.nextLogits(context: prompt + $0) })
            }
            #expect(engine.candidates.map(\.tokens) == state.finished.map(\.tokens), "prompt \(prompt)")
            #expect(engine.lattice?.arcs.count == state.lattice.arcs.count)
            #expect(engine.lattice?.distinctPaths == state.lattice.distinctPaths)
            #expect(engine.tokens == state.finished.first?.tokens)
        }
    }

    /// `check` refuses what the session would: the compiler runs the same test.
    @Test func statefulNodesAreRefused() throws {
        #expect(throws: (any Error).self) { try Fixtures.plan("""
        graph: lattice
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target, tree: lookup }
          lookup: { op: draft.lookup, tokens: 2 }
          lattice: { op: search.lattice, from: scores }
        output: lattice
        """) }
        // search.mcts steps its greedy roll-outs through drafts, but a draft model's cache cannot
        // follow a simulation re-opened elsewhere, and beam roll-outs read root rows only.
        func mcts(_ drafter: String, rollout: String = "") throws -> Graph.Plan {
            try Fixtures.plan(Self.yaml.replacingOccurrences(of: "search.lattice", with: "search.mcts")
                .replacingOccurrences(of: ", width: 3, branch: 3, budget: 30, ngram: 2", with: rollout)
                .replacingOccurrences(of: "scores: { op: score, model: target }", with: "scores: { op: score, model: target, tree: lookup }\n  lookup: \(drafter)"))
        }
        #expect(throws: (any Error).self) { try mcts("{ op: draft.model, model: draft, tokens: 2 }") }
        #expect(throws: (any Error).self) { try mcts("{ op: draft.lookup, tokens: 2 }", rollout: ", rollout_beams: 2") }
        _ = try mcts("{ op: draft.lookup, tokens: 2 }")
    }

    @Test func runWritesTheLattice() throws {
        let file = try RunCommandTests.graphFile(Self.yaml)
        for format in ["json", "fst", "dot"] {
            let out = file + ".\(format)"
            let capture = CapturingOutput()
            #expect(DecographCLI.main(["run", file, "--prompt-ids", "1 7 9", "--lattice", out], context: capture.context) == 0, "\(capture.err)")
            #expect(capture.err.contains("distinct paths → \(out)"))
            let text = try String(contentsOfFile: out, encoding: .utf8)
            #expect(!text.isEmpty)
            if format == "json" {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
                let direct = try Session(plan: try Fixtures.plan(Self.yaml)).run(prompt: [1, 7, 9])
                #expect(object["distinct_paths"] as? Double == direct.lattice?.distinctPaths)
            }
        }
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["run", file, "--prompt-ids", "1", "--lattice", file + ".txt"], context: capture.context) != 0)
    }
}
