import Testing
import Foundation
@testable import DecographCLI

@Suite struct BenchCommandTests {
    static let fixtureModel: String = {
        var url = URL(fileURLWithPath: #filePath)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        return url.appendingPathComponent("Fixtures/runtime/llama-gqa-tied").path
    }()

    /// The JSON report has every figure the runtime issue asks for, with sane values.
    @Test func runtimeBenchmarkReportsEveryFigure() throws {
        let capture = CapturingOutput()
        let status = DecographCLI.main(["bench", "runtime", "--model", Self.fixtureModel, "--json", "--threads", "2", "--decode-steps", "2"],
                                       context: capture.context)
        #expect(status == 0, "\(capture.err)")
        let object = try JSONSerialization.jsonObject(with: Data(capture.out.utf8)) as? [String: Any]
        let report = try #require(object)
        let decode = try #require(report["decode"] as? [[String: Any]])
        #expect(decode.map { $0["threads"] as? Int } == [1, 2])
        for d in decode {
            #expect((d["bandwidth_bytes_per_s"] as? Double ?? 0) > 1e8, "a real machine reads more than 100 MB/s")
            #expect((d["tokens_per_s"] as? Double ?? 0) > 0)
            #expect((d["fraction_of_bound"] as? Double ?? 0) > 0)
        }
        let verify = try #require(report["verify_cost"] as? [String: Double])
        #expect(Set(verify.keys) == ["1", "2", "4", "8", "16"])
        #expect(verify.values.allSatisfy { $0 > 0 })
        #expect((report["prefill_tokens_per_s"] as? Double ?? 0) > 0)
        #expect(report["activations"] as? String == "f32")
    }

    /// `--activations bf16` on a bf16 model runs the rounded-activation products and says so.
    @Test func runtimeBenchmarkInBF16ActivationMode() throws {
        let capture = CapturingOutput()
        let bf16Model = URL(fileURLWithPath: Self.fixtureModel).deletingLastPathComponent().appendingPathComponent("llama-bf16").path
        let status = DecographCLI.main(["bench", "runtime", "--model", bf16Model, "--json", "--threads", "1", "--decode-steps", "2",
                                        "--activations", "bf16"], context: capture.context)
        #expect(status == 0, "\(capture.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(capture.out.utf8)) as? [String: Any])
        #expect(report["activations"] as? String == "bf16")
        #expect(report["dtype"] as? String == "bf16")
        #expect((report["multiply_adds_per_s"] as? Double ?? 0) > 0)
    }

    @Test func usageErrorsExit64() {
        for args in [["bench", "runtime"], ["bench", "runtime", "--random", "7B"], ["bench", "runtime", "--random", "134M", "--dtype", "q4"],
                     ["bench", "runtime", "--random", "134M", "--threads", "0"], ["bench", "kernels", "--dtype", "int8"],
                     ["bench", "runtime", "--random", "134M", "--activations", "f16"]] {
            let capture = CapturingOutput()
            #expect(DecographCLI.main(args, context: capture.context) == 64, "\(args)")
            #expect(capture.err.hasPrefix("Error: "))
        }
    }

    @Test func missingModelIsARuntimeFailure() {
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["bench", "runtime", "--model", "/nonexistent/model"], context: capture.context) == 1)
        #expect(capture.err.contains("/nonexistent/model"))
    }
}

/// `bench graphs` with categorised prompts: a table per category and overall, the JSON's
/// `categories`, and the SVG chart (parsed back as XML, one bar per graph and group).
@Suite struct BenchGraphsCategoryTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func categoriesSplitTheFigures() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-categories-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let prompts = [#"{"category": "defs", "prompt": "def synopsis(filename, cache={}):"}"#,
                       #"{"category": "loops", "prompt": "    for key, value in sorted(mapping.items()):"}"#,
                       #"{"category": "defs", "prompt": "def encode_long(x):"}"#]
        let file = dir.appendingPathComponent("p.jsonl"), svg = dir.appendingPathComponent("c.svg")
        try prompts.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let graphs = ["greedy", "suffix"].map { Self.repository + "/graphs/\($0).yaml" }.joined(separator: ",")
        let text = ConstrainCommandTests.run(["bench", "graphs", "--graphs", graphs, "--prompts", file.path, "--max-tokens", "6", "--svg", svg.path])
        #expect(text.status == 0, "\(text.err)")
        #expect(text.out.contains("defs (2 prompts)") && text.out.contains("loops (1 prompts)") && text.out.contains("overall (3 prompts)"))
        let chart = try String(contentsOf: svg, encoding: .utf8)
        #expect(chart.hasPrefix("<svg") && chart.components(separatedBy: "<title>").count - 1 == 2 * 3 * 2, "2 panels × 3 groups × 2 graphs")
        let json = ConstrainCommandTests.run(["bench", "graphs", "--graphs", graphs, "--prompts", file.path, "--max-tokens", "6", "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        let categories = try #require(object["categories"] as? [[String: Any]])
        #expect(categories.map { $0["category"] as? String } == ["defs", "loops"])
        let bad = dir.appendingPathComponent("bad.jsonl")
        try #"{"category": 3, "prompt": "x"}"#.write(to: bad, atomically: true, encoding: .utf8)
        let refused = ConstrainCommandTests.run(["bench", "graphs", "--graphs", graphs, "--prompts", bad.path])
        #expect(refused.status != 0 && refused.err.contains("bad.jsonl:1: 'category' must be a non-empty string"), "\(refused.err)")
    }
}
