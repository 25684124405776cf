import Testing
import Foundation
@testable import Graph

/// Every graph under `Tests/Fixtures/graphs/broken/` compiles to exactly the diagnostics written
/// beside it in `<name>.expected` (hand-written: the message a user should see for that mistake).
@Suite struct BrokenGraphCorpusTests {
    static let directory = fixtures + "/broken"

    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    @Test func corpusIsLargeEnough() {
        #expect(Self.cases.count >= 30)
    }

    @Test(arguments: cases)
    func reportsExactlyTheExpectedDiagnostics(_ name: String) throws {
        let compiler = GraphCompiler(registry: TestRegistry.registry, baseDirectory: fixtures)
        let result = compiler.compile(file: "broken/" + name)
        let expectedPath = Self.directory + "/" + name.dropLast(".yaml".count) + ".expected"
        let expected = try String(contentsOfFile: expectedPath, encoding: .utf8)
        #expect(result.rendered + "\n" == expected)
        #expect(result.plan == nil, "a broken graph must not lower to a plan")
        #expect(result.diagnostics.containsErrors)
    }
}
