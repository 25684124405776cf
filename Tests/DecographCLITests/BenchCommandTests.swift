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
