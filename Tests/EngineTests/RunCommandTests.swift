import DecographCLI
import Foundation
import Testing
@testable import Engine

/// `decograph run` end to end on a fixture model (no tokenizer: token ids are the text).
@Suite struct RunCommandTests {
    static func graphFile(_ yaml: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("run-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("g.yaml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    static let speculative = """
    graph: speculative
    \(Fixtures.models)
    nodes:
      small: { op: draft.model, model: draft, tokens: 3 }
      scores: { op: score, model: target, tree: small }
      pick: { op: sample, from: scores, temperature: 0 }
      accept: { op: verify, from: pick }
    output: accept
    limits: { max_new_tokens: 16, ignore_eos: true }
    """

    @Test func streamsTokensAndMetrics() throws {
        let file = try Self.graphFile(Self.speculative)
        let capture = CapturingOutput()
        let status = DecographCLI.main(["run", file, "--prompt-ids", "1 5 9 13", "--max-tokens", "12"], context: capture.context)
        #expect(status == 0, "\(capture.err)")
        let ids = capture.out.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        #expect(ids.count == 12)
        // The same tokens as the engine gives directly.
        let session = try Session(plan: try Fixtures.plan(Self.speculative))
        #expect(ids == (try session.run(prompt: [1, 5, 9, 13], maxNewTokens: 12).tokens))
        #expect(capture.err.contains("finished: max_tokens"))
        #expect(capture.err.contains("target calls"))
        #expect(capture.err.contains("small (draft.model)"))
    }

    /// `--param NAME=VALUE` sets a declared parameter, checked against its range as a server
    /// request's field is.
    @Test func paramSetsTheGraphsDeclaredParameters() throws {
        let yaml = """
        graph: parameterised
        params:
          tokens: { type: int, default: 3, range: [1, 8] }
        \(Fixtures.models)
        nodes:
          small: { op: draft.model, model: draft, tokens: $tokens }
          scores: { op: score, model: target, tree: small }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        output: accept
        limits: { max_new_tokens: 16, ignore_eos: true }
        """
        let file = try Self.graphFile(yaml)
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["run", file, "--prompt-ids", "1 5 9 13", "--param", "tokens=6", "--jsonl"], context: capture.context) == 0, "\(capture.err)")
        let proposed = capture.out.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["proposed"] as? Int
        }
        #expect(proposed.max() == 6)
        let refused = CapturingOutput()
        #expect(DecographCLI.main(["run", file, "--prompt-ids", "1 5", "--param", "tokens=9"], context: refused.context) != 0)
        #expect(refused.err.contains("parameter 'tokens' must be in [1, 8], got 9"))
        let unknown = CapturingOutput()
        #expect(DecographCLI.main(["run", file, "--prompt-ids", "1 5", "--param", "token=2"], context: unknown.context) != 0)
        #expect(unknown.err.contains("did you mean 'tokens'?"))
    }

    @Test func nBestListsTheSearchsFinishedHypotheses() throws {
        let yaml = """
        graph: diverse
        \(Fixtures.models)
        nodes:
          scores: { op: score, model: target }
          beams: { op: search.beam, from: scores, width: 4, groups: 2, diversity_penalty: 1.0 }
        output: beams
        limits: { max_new_tokens: 8 }
        """
        let file = try Self.graphFile(yaml)
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["run", file, "--prompt-ids", "1 5 9", "--n-best", "--jsonl"], context: capture.context) == 0, "\(capture.err)")
        let last = try #require(capture.out.split(separator: "\n").last)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        let listed = try #require(object["candidates"] as? [[String: Any]])
        let direct = try Session(plan: try Fixtures.plan(yaml)).run(prompt: [1, 5, 9])
        #expect(listed.map { ($0["tokens"] as? [Int]) ?? [] } == direct.candidates.map { $0.tokens.map(Int.init) })
        #expect(listed.count >= 2)
        let plain = CapturingOutput()
        #expect(DecographCLI.main(["run", file, "--prompt-ids", "1 5 9", "--n-best"], context: plain.context) == 0)
        #expect(plain.out.split(separator: "\n").filter { $0.hasPrefix("#") }.count == listed.count)
        let refused = CapturingOutput()
        #expect(DecographCLI.main(["run", try Self.graphFile(Self.speculative), "--prompt-ids", "1", "--n-best"], context: refused.context) != 0)
        #expect(refused.err.contains("search graph"))
    }

    @Test func jsonlEventsAndTrace() throws {
        let file = try Self.graphFile(Self.speculative)
        let trace = file + ".trace.json"
        let capture = CapturingOutput()
        let status = DecographCLI.main(["run", file, "--prompt-ids", "3,4,5", "--jsonl", "--trace", trace], context: capture.context)
        #expect(status == 0, "\(capture.err)")
        let events = try capture.out.split(separator: "\n").map {
            try JSONDecoder.snakeCase.decode(SessionEvent.self, from: Data($0.utf8))
        }
        #expect(events.reduce(0) { $0 + $1.tokens.count } == 16)
        #expect(events.allSatisfy { $0.tokens.count == $0.accepted + 1 || $0.finishReason != nil })
        #expect(events.last?.finishReason == "max_tokens")
        let json = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: trace))) as? [String: Any]
        let spans = try #require(json?["traceEvents"] as? [[String: Any]])
        let names = Set(spans.compactMap { $0["name"] as? String })
        #expect(names.isSuperset(of: ["small", "scores", "pick", "accept"]))
        #expect(spans.allSatisfy { $0["ph"] as? String == "X" && $0["dur"] is Double })
    }

    /// `--logprobs N` adds each step's entries to its JSON object; without `--jsonl` it is refused.
    @Test func jsonlEventsCarryLogProbabilities() throws {
        let file = try Self.graphFile(Self.speculative)
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["run", file, "--prompt-ids", "3,4,5", "--jsonl", "--logprobs", "2"], context: capture.context) == 0, "\(capture.err)")
        let decoder = JSONDecoder.snakeCase
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let events = try capture.out.split(separator: "\n").map { try decoder.decode(SessionEvent.self, from: Data($0.utf8)) }
        for event in events {
            let entries = try #require(event.logProbabilities)
            #expect(entries.map(\.token) == event.tokens)
            #expect(entries.allSatisfy { $0.alternatives.count == 2 && $0.logProbability <= 0 })
        }
        let refused = CapturingOutput()
        #expect(DecographCLI.main(["run", file, "--prompt-ids", "3", "--logprobs", "2"], context: refused.context) != 0)
        #expect(refused.err.contains("--jsonl"))
    }

    @Test func badGraphFailsWithLocatedDiagnostics() throws {
        let file = try Self.graphFile(Self.speculative.replacingOccurrences(of: "op: draft.model", with: "op: draft.modle"))
        let capture = CapturingOutput()
        let status = DecographCLI.main(["run", file, "--prompt-ids", "1 2"], context: capture.context)
        #expect(status == 1)
        #expect(capture.err.contains("\(file):6:16: error: unknown op 'draft.modle' (did you mean 'draft.model'?)"))
        #expect(capture.out.isEmpty)
    }

    @Test(arguments: [
        (["--max-tokens", "3"], "Missing the prompt"),
        (["--prompt", "a", "--prompt-ids", "1"], "only one of"),
        (["--prompt-ids", "1 x"], "--prompt-ids"),
        (["--prompt-ids", "1", "--seed", "-1"], "--seed"),
        (["--prompt-ids", "1", "--max-tokens", "0"], "--max-tokens"),
    ])
    func usageErrorsExit64(extra: [String], message: String) throws {
        let file = try Self.graphFile(Self.speculative)
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["run", file] + extra, context: capture.context) == 64)
        #expect(capture.err.contains(message))
    }

    @Test func runtimeFailuresAreLocated() throws {
        let file = try Self.graphFile(Self.speculative)
        let capture = CapturingOutput()
        // Vocabulary 80: token 500 cannot be scored; text needs a tokenizer the fixture lacks.
        #expect(DecographCLI.main(["run", file, "--prompt-ids", "1 500"], context: capture.context) == 1)
        #expect(capture.err.contains("outside the target's vocabulary of 80"))
        let text = CapturingOutput()
        #expect(DecographCLI.main(["run", file, "--prompt", "hello"], context: text.context) == 1)
        #expect(text.err.contains("no tokenizer.json"))
    }
}

extension JSONDecoder {
    static var snakeCase: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}

/// `decograph run` past a model's trained context: the run goes on, and stderr says where and why.
@Suite struct RunContextWarningTests {
    @Test func warnsPastTheTrainedContext() throws {
        let file = try RunCommandTests.graphFile(RunCommandTests.speculative)
        let prompt = (0..<130).map { String($0 % 80) }.joined(separator: " ")
        let capture = CapturingOutput()
        let status = DecographCLI.main(["run", file, "--prompt-ids", prompt, "--max-tokens", "4"], context: capture.context)
        #expect(status == 0, "\(capture.err)")
        #expect(capture.err.contains("g.yaml:3:"), "located at the model entry: \(capture.err)")
        #expect(capture.err.contains("warning:") && capture.err.contains("max_position_embeddings"), "\(capture.err)")
    }
}
