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
        #expect(rows.first?["hypotheses_per_step"] as? Double == 1)
        // Calls per model, summed over the prompts: the greedy graph calls only its target.
        let models = rows.map { ($0["models"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0["full_calls"] as? Int ?? -1) } }
        #expect(models.first?.first { $0.0 == "target" }?.1 == 16)
        #expect(models.last?.first { $0.0 == "draft" }.map { $0.1 > 0 } == true)
    }

    /// `bench acceptance`: the rank shares of the positions read, the static trees' expected
    /// tokens, and the line for a draft.model node; a graph without a draft model is refused.
    @Test func acceptanceProfilePrintsTheVector() throws {
        let speculative = try RunCommandTests.graphFile(RunCommandTests.speculative)
        let prompts = speculative + ".prompts"
        try "1 5 9 13\n4 4 4 4 4\n".write(toFile: prompts, atomically: true, encoding: .utf8)
        let capture = CapturingOutput()
        let status = DecographCLI.main(["bench", "acceptance", "--graph", speculative, "--prompts", prompts, "--max-tokens", "8", "--ranks", "3"],
                                       context: capture.context)
        #expect(status == 0, "\(capture.err)")
        #expect(capture.out.contains("positions read: 16"))
        let line = try #require(capture.out.split(separator: "\n").first { $0.hasPrefix("acceptance: [") })
        let shares = line.dropFirst("acceptance: [".count).dropLast().split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        #expect(shares.count == 3 && shares.reduce(0, +) <= 1.0001)
        let refused = CapturingOutput()
        let lookup = try RunCommandTests.graphFile(RunCommandTests.speculative.replacingOccurrences(of: "op: draft.model, model: draft", with: "op: draft.lookup"))
        #expect(DecographCLI.main(["bench", "acceptance", "--graph", lookup, "--prompts", prompts], context: refused.context) != 0)
        #expect(refused.err.contains("draft.model"))
    }

    /// A search's row reports its frontier: hypotheses per step between 1 (the prompt's step) and
    /// the width, and the milliseconds each step took.
    @Test func searchRowsReportTheFrontierPerStep() throws {
        let beam = try RunCommandTests.graphFile("""
        graph: beam
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          beams: { op: search.beam, from: scores, width: 4 }
        output: beams
        limits: { max_new_tokens: 8, ignore_eos: true }
        """)
        let prompts = beam + ".prompts"
        try "1 5 9 13\n".write(toFile: prompts, atomically: true, encoding: .utf8)
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["bench", "graphs", "--graphs", beam, "--prompts", prompts, "--json"], context: capture.context) == 0, "\(capture.err)")
        let json = try JSONSerialization.jsonObject(with: Data(capture.out.utf8)) as? [String: Any]
        let row = try #require((json?["graphs"] as? [[String: Any]])?.first)
        let perStep = try #require(row["hypotheses_per_step"] as? Double)
        // Eight steps: the prompt's one hypothesis, then four beams each step.
        #expect(perStep == (1 + 4 * 7) / 8.0)
        #expect((row["ms_per_step"] as? Double ?? 0) > 0)
    }

    @Test func missingPromptsIsAUsageError() {
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["bench", "graphs", "--graphs", "a.yaml"], context: capture.context) == 64)
        #expect(capture.err.contains("--prompts"))
    }
}

/// `bench graphs --prompts FILE.jsonl` and `--model`: prompts as text, ids or chats, one JSON object
/// per line, with located errors; a model swapped in from the command line.
@Suite struct BenchGraphsPromptFileTests {
    /// A greedy graph on `model` that always emits `tokens` new tokens.
    static func greedy(_ model: String, tokens: Int = 6) -> String {
        """
        graph: greedy
        models:
          target: { path: \(model) }
        nodes:
          scores: { op: score, model: target }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        output: accept
        limits: { max_new_tokens: \(tokens), ignore_eos: true }
        """
    }

    static func tokens(_ arguments: [String]) throws -> Int {
        let capture = CapturingOutput()
        let status = DecographCLI.main(arguments + ["--json"], context: capture.context)
        #expect(status == 0, "\(capture.err)")
        let json = try JSONSerialization.jsonObject(with: Data(capture.out.utf8)) as? [String: Any]
        let rows = try #require(json?["graphs"] as? [[String: Any]])
        return try #require(rows.first?["tokens"] as? Int)
    }

    /// Text and ids lines in one JSONL file, a multi-line prompt included; the same prompts as a
    /// plain text file give the same run.
    @Test func jsonLinesHoldTextAndIds() throws {
        let graph = try RunCommandTests.graphFile(Self.greedy(DemoGraphs.repository + "/models/demo-target"))
        let jsonl = graph + ".jsonl"
        try #"""
        {"prompt": "def add(a, b):\n    return"}

        {"ids": [5, 9, 13]}
        """#.write(toFile: jsonl, atomically: true, encoding: .utf8)
        #expect(try Self.tokens(["bench", "graphs", "--graphs", graph, "--prompts", jsonl]) == 12)
    }

    /// A bad line is an error naming the file and line.
    @Test func badLinesAreLocated() throws {
        let graph = try RunCommandTests.graphFile(Self.greedy(DemoGraphs.repository + "/models/demo-target"))
        for (body, expected) in [("{\"prompt\": \"a\"}\n[1, 2]\n", ":2: not a JSON object"),
                                 ("{\"prompt\": \"a\", \"ids\": [1]}\n", ":1: give exactly one of"),
                                 ("\n\n{\"ids\": [1, -3]}\n", ":3: 'ids' must be"),
                                 ("{\"messages\": []}\n", ":1: 'messages' must be a non-empty list")] {
            let jsonl = graph + "-\(UUID().uuidString).jsonl"
            try body.write(toFile: jsonl, atomically: true, encoding: .utf8)
            let capture = CapturingOutput()
            #expect(DecographCLI.main(["bench", "graphs", "--graphs", graph, "--prompts", jsonl], context: capture.context) != 0)
            #expect(capture.err.contains(jsonl + expected), "\(capture.err)")
        }
    }

    /// `--model PATH` runs the graph on another model: the same figures as a graph naming it.
    @Test func modelOptionReplacesTheTarget() throws {
        let declared = try RunCommandTests.graphFile(Self.greedy(Fixtures.target))
        let other = try RunCommandTests.graphFile(Self.greedy(Fixtures.draft))
        let prompts = declared + ".prompts"
        try "1 5 9 13\n".write(toFile: prompts, atomically: true, encoding: .utf8)
        func output(_ arguments: [String]) -> String {
            let capture = CapturingOutput()
            #expect(DecographCLI.main(arguments, context: capture.context) == 0, "\(capture.err)")
            return capture.out
        }
        let swapped = output(["run", declared, "--prompt-ids", "1 5 9 13", "--model", Fixtures.draft])
        #expect(swapped == output(["run", other, "--prompt-ids", "1 5 9 13"]))
        #expect(swapped != output(["run", declared, "--prompt-ids", "1 5 9 13"]))
        #expect(swapped == output(["run", declared, "--prompt-ids", "1 5 9 13", "--model", "target=" + Fixtures.draft]))
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["run", declared, "--prompt-ids", "1", "--model", "draft=" + Fixtures.draft], context: capture.context) != 0)
        #expect(capture.err.contains("declares no model 'draft'"), "\(capture.err)")
        #expect(DecographCLI.main(["run", declared, "--prompt-ids", "1", "--model", "/nonexistent/m.gguf"], context: capture.context) != 0)
        #expect(capture.err.contains("does not exist"), "\(capture.err)")
    }
}
