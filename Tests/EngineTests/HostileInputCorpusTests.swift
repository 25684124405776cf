import DecographCLI
import Foundation
import Graph
import Operators
import Testing

/// The hostile-input corpus under `Tests/Fixtures/hostile/` (see its README): graphs that only
/// binding used to refuse, or that ran and did the wrong thing, which `decograph check` must now
/// refuse with exactly the diagnostics written beside them — and `decograph run` the same way,
/// before loading a model — and prompts `run` must refuse with a clear message.
@Suite struct HostileInputCorpusTests {
    static let fixtures = DemoGraphs.repository + "/Tests/Fixtures"
    static let graphs = fixtures + "/hostile/graphs"
    static let prompts = fixtures + "/hostile/prompts"

    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: graphs)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    @Test func corpusIsPresent() {
        #expect(Self.cases.count >= 16)
    }

    @Test(arguments: cases)
    func checkReportsExactlyTheExpectedDiagnostics(_ name: String) throws {
        let result = GraphCompiler(registry: OperatorRegistry.all, baseDirectory: Self.fixtures).compile(file: "hostile/graphs/" + name)
        let expected = try String(contentsOfFile: Self.graphs + "/" + name.dropLast(".yaml".count) + ".expected", encoding: .utf8)
        #expect(result.rendered + "\n" == expected)
        #expect(result.plan == nil)
    }

    /// `check` and `run` share one compile, so what `check` passes `run` binds, and what `run`
    /// would refuse `check` reports first, word for word.
    @Test(arguments: cases)
    func runRefusesWhatCheckRefuses(_ name: String) {
        let path = Self.graphs + "/" + name
        let check = CapturingOutput()
        #expect(DecographCLI.main(["check", path], context: check.context) == 1)
        let run = CapturingOutput()
        #expect(DecographCLI.main(["run", path, "--prompt-ids", "1 2 3"], context: run.context) == 1)
        #expect(!check.err.isEmpty)
        #expect(run.err == check.err)
        #expect(run.out.isEmpty)
    }

    struct PromptCase: Decodable, CustomTestStringConvertible, Sendable {
        var name: String
        var arguments: [String]
        var status: Int32
        var stderr: String
        var testDescription: String { name }
    }

    static let promptCases: [PromptCase] = {
        struct Manifest: Decodable { var cases: [PromptCase] }
        guard let data = FileManager.default.contents(atPath: prompts + "/manifest.json"),
              let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else { return [] }
        return manifest.cases
    }()

    @Test func promptManifestIsPresent() {
        #expect(Self.promptCases.count >= 8)
    }

    @Test(arguments: promptCases)
    func promptEndsAsTheManifestSays(_ prompt: PromptCase) {
        var arguments = prompt.arguments
        if let i = arguments.firstIndex(of: "--prompt-file"), i + 1 < arguments.count {
            arguments[i + 1] = Self.prompts + "/" + arguments[i + 1]
        }
        let capture = CapturingOutput()
        let status = DecographCLI.main(["run", Self.prompts + "/graph.yaml"] + arguments, context: capture.context)
        #expect(status == prompt.status, "\(capture.err)")
        #expect(capture.err.contains(prompt.stderr), "\(capture.err)")
        #expect(!capture.err.contains("Fatal error"))
    }

    /// A named pipe as the prompt file, the graph file, or the model's tokenizer.json is refused
    /// at once by path; reading it would wait for a writer forever.
    @Test func namedPipesAreRefusedNotRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let pipe = directory + "/pipe"
        #expect(mkfifo(pipe, 0o600) == 0)

        let prompt = CapturingOutput()
        #expect(DecographCLI.main(["run", Self.prompts + "/graph.yaml", "--prompt-file", pipe], context: prompt.context) == 1)
        #expect(prompt.err.contains("the prompt file '\(pipe)' is a named pipe (FIFO), not a regular file"), "\(prompt.err)")

        let graph = CapturingOutput()
        #expect(DecographCLI.main(["check", pipe], context: graph.context) == 1)
        #expect(graph.err.contains("\(pipe):1:1: error: cannot read the graph file: it is a named pipe (FIFO), not a regular file"), "\(graph.err)")

        let model = directory + "/model"
        try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
        for file in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: DemoGraphs.repository + "/models/demo-target/" + file, toPath: model + "/" + file)
        }
        #expect(mkfifo(model + "/tokenizer.json", 0o600) == 0)
        let yaml = try String(contentsOfFile: Self.prompts + "/graph.yaml", encoding: .utf8)
            .replacingOccurrences(of: "../../../../models/demo-target", with: model)
        try yaml.write(toFile: directory + "/graph.yaml", atomically: true, encoding: .utf8)
        let tokenizer = CapturingOutput()
        #expect(DecographCLI.main(["run", directory + "/graph.yaml", "--prompt-ids", "1 2"], context: tokenizer.context) == 1)
        #expect(tokenizer.err.contains("tokenizer.json is a named pipe (FIFO), not a regular file"), "\(tokenizer.err)")
    }
}
