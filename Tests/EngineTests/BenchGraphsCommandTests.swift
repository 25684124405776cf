import DecographCLI
import Foundation
import Testing

/// `decograph bench graphs` on fixture models: interleaved runs, the identity column, usage errors.
@Suite struct BenchGraphsCommandTests {
    @Test func comparesGraphsOnTheSamePrompts() throws {
        let greedy = try RunCommandTests.graphFile("""
        graph: greedy
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        output: accept
        limits: { max_new_tokens: 8, ignore_eos: true }
        """)
        let speculative = try RunCommandTests.graphFile(RunCommandTests.speculative)
        let prompts = greedy + ".prompts"
        try "1 5 9 13\n4 4 4 4 4\n".write(toFile: prompts, atomically: true, encoding: .utf8)
        let capture = CapturingOutput()
        let status = DecographCLI.main(["bench", "graphs", "--graphs", "\(greedy),\(speculative)", "--prompts", prompts,
                                        "--max-tokens", "8", "--json"], context: capture.context)
        #expect(status == 0, "\(capture.err)")
        let json = try JSONSerialization.jsonObject(with: Data(capture.out.utf8)) as? [String: Any]
        let rows = try #require(json?["graphs"] as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(rows.map { $0["identical_prompts"] as? Int } == [2, 2])
        #expect(rows.map { $0["tokens"] as? Int } == [16, 16])
        #expect(rows.first?["speedup"] as? Double == 1)
        #expect(rows.first?["target_calls"] as? Int == 16)
    }

    @Test func missingPromptsIsAUsageError() {
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["bench", "graphs", "--graphs", "a.yaml"], context: capture.context) == 64)
        #expect(capture.err.contains("--prompts"))
    }
}
