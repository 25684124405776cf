import Testing
import Foundation
@testable import DecographCLI
import Graph

/// The repository root, found from this file.
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

@Suite struct GraphCommandsTests {
    @Test func languageReferenceIsGeneratedFromTheRegistry() throws {
        let document = try String(contentsOfFile: repositoryRoot + "/docs/graph-language.md", encoding: .utf8)
        let part = try #require(GraphReference.generatedPart(of: document), "docs/graph-language.md lost its generated-section markers")
        let expected = GraphReference.markdown(registry: DecographCLI.operatorRegistry())
        #expect(part == expected, "docs/graph-language.md is out of date: regenerate its section with 'decograph ops --markdown'")
    }

    @Test func checkReportsLocatedErrorsAndExitsOne() {
        let capture = CapturingOutput()
        // A YAML mistake, so the outcome does not depend on which ops are registered.
        let path = repositoryRoot + "/Tests/Fixtures/graphs/broken/01-tab-indentation.yaml"
        #expect(DecographCLI.main(["check", path], context: capture.context) == 1)
        #expect(capture.err == "\(path):3:1: error: tab character used for indentation; YAML indents with spaces\n")
        #expect(capture.out == "")
    }

    /// A model path that is not there: `run` fails to load it, so `check` refuses it, located at
    /// the model's entry; the repository's graphs, whose models exist, stay ok.
    @Test func checkRefusesAModelPathThatDoesNotExist() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("check-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let graph = directory + "/g.yaml"
        try """
            graph: g
            models:
              target: { path: no-such-model }
            nodes:
              scores: { op: score, model: target }
              pick: { op: sample, from: scores, temperature: 0 }
              accept: { op: verify, from: pick }
            output: accept
            """.write(toFile: graph, atomically: true, encoding: .utf8)
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["check", graph], context: capture.context) == 1)
        #expect(capture.err.contains("\(graph):3:3: error: model 'target' cannot be loaded: \(directory)/no-such-model: no such file or directory"), "\(capture.err)")
        #expect(capture.out == "")
        let greedy = CapturingOutput()
        #expect(DecographCLI.main(["check", repositoryRoot + "/graphs/greedy.yaml"], context: greedy.context) == 0, "\(greedy.err)")
    }

    @Test func unreadableGraphIsAFailureNotAUsageError() {
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["explain", "/no/such/graph.yaml"], context: capture.context) == 1)
        #expect(capture.err == "/no/such/graph.yaml:1:1: error: cannot read the graph file: no such file\n")
    }

    @Test func usageErrors() {
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["check"], context: capture.context) == 64)
        #expect(capture.err.hasPrefix("Error: Missing expected argument 'GRAPH'."))
        let both = CapturingOutput()
        #expect(DecographCLI.main(["ops", "--json", "--markdown"], context: both.context) == 64)
        let help = CapturingOutput()
        #expect(DecographCLI.main(["graph", "--help"], context: help.context) == 0)
        #expect(help.out.contains("--dot"))
    }

    @Test func opsPrintsTheRegistry() throws {
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["ops", "--json"], context: capture.context) == 0)
        let json = try JSONSerialization.jsonObject(with: Data(capture.out.utf8)) as? [String: Any]
        let ops = try #require(json?["ops"] as? [[String: Any]])
        #expect(ops.compactMap { $0["name"] as? String } == DecographCLI.operatorRegistry().names)
    }
}
