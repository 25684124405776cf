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
