import Testing
import Foundation
@testable import Graph

@Suite struct YAMLParserTests {
    static func parse(_ text: String) -> (YAMLNode?, [Diagnostic]) {
        YAMLParser.parse(Array(text.utf8), file: "t.yaml")
    }

    @Test func everyNodeCarriesItsOneBasedLocation() throws {
        let (root, diagnostics) = Self.parse("a: 1\nb:\n  - x\n  - {c: \"q\"}\n")
        #expect(diagnostics.isEmpty)
        guard case .mapping(let entries)? = root?.kind else { Issue.record("not a mapping"); return }
        #expect(root?.location == SourceLocation(file: "t.yaml", line: 1, column: 1))
        #expect(entries.map { $0.key.scalar } == ["a", "b"])
        #expect(entries[0].value.location == SourceLocation(file: "t.yaml", line: 1, column: 4))
        #expect(entries[0].value.kind == .scalar("1", plain: true))
        guard case .sequence(let items) = entries[1].value.kind else { Issue.record("not a sequence"); return }
        #expect(items[0].location.line == 3 && items[0].location.column == 5)
        guard case .mapping(let inner) = items[1].kind else { Issue.record("not a mapping"); return }
        #expect(inner[0].value.kind == .scalar("q", plain: false))
        #expect(inner[0].value.location == SourceLocation(file: "t.yaml", line: 4, column: 9))
    }

    @Test func columnsCountCharactersNotBytes() {
        let (root, _) = Self.parse("é: 1\nü: x\n")
        guard case .mapping(let entries)? = root?.kind else { Issue.record("not a mapping"); return }
        #expect(entries[1].value.location == SourceLocation(file: "t.yaml", line: 2, column: 4))
    }

    /// Every explicit tag is refused where it is written, the standard `!!` ones (which ask a loader
    /// to construct objects or decode bytes) as much as local ones.
    @Test(arguments: [("a: !!str 6\n", "!!str"), ("a: !!binary aGVsbG8=\n", "!!binary"),
                      ("a: !!python/object:os.system {}\n", "!!python/object:os.system"),
                      ("a: !foo [1]\n", "!foo"), ("a:\n  b: !<tag:example.com,2000:x> y\n", "tag:example.com,2000:x")])
    func explicitTagsAreRefused(_ text: String, _ tag: String) {
        let (_, diagnostics) = Self.parse(text)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.description.hasPrefix("t.yaml:\(text.contains("\n  b") ? "2:6" : "1:4"): error: YAML tag '\(tag)' is not supported") == true,
                "\(diagnostics)")
    }

    @Test func nestedDuplicatesAreAllReported() {
        let (_, diagnostics) = Self.parse("a:\n  x: 1\n  x: 2\nb: 1\nb: 2\n")
        #expect(diagnostics.map(\.location.line) == [3, 5])
        #expect(diagnostics.allSatisfy { $0.notes.count == 1 })
    }

    /// Every prefix of a valid file parses to a tree or a located error; never a crash.
    @Test func truncatedInputNeverCrashes() throws {
        let text = Array("graph: g\nnodes:\n  a: { op: x, from: [b, c], v: \"q\\n\" }\n  b: |\n    text\noutput: a\n".utf8)
        for n in 0...text.count {
            let (root, diagnostics) = YAMLParser.parse(Array(text.prefix(n)), file: "t.yaml")
            #expect(root != nil || diagnostics.containsErrors || n == 0 || text.prefix(n).allSatisfy { $0 == 0x20 || $0 == 0x0A })
            for d in diagnostics { #expect(d.location.line >= 1 && d.location.column >= 1) }
        }
    }
}

@Suite struct HostileInputTests {
    @Test func deepNestingIsRefusedNotRecursedInto() {
        let depth = 100_000
        let text = "graph: deep\nnodes: { a: { op: score, model: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + " } }\noutput: a\n"
        let result = GraphCompiler(registry: TestRegistry.registry).compile(source: text, file: "deep.yaml")
        #expect(result.plan == nil)
        // `nodes: { a: { … model: ` is 32 characters; the document, `nodes` and `a` are three levels,
        // so the `[` refused is number maximumDepth - 2, one column per `[`.
        #expect(result.diagnostics.map(\.description) == ["deep.yaml:2:\(32 + TreeBuilder.maximumDepth - 2): error: YAML nested more than \(TreeBuilder.maximumDepth) levels deep; a graph file is not that deep"])
    }

    /// Every prefix of every valid fixture compiles to a plan or to located errors; never a crash.
    @Test(arguments: ["valid/speculative.yaml", "valid/uses-nested.yaml", "valid/beam.yaml"])
    func truncatedGraphsNeverCrash(_ file: String) throws {
        let bytes = try Array(String(contentsOfFile: fixtures + "/" + file, encoding: .utf8).utf8)
        let compiler = GraphCompiler(registry: TestRegistry.registry, baseDirectory: fixtures)
        for n in stride(from: 0, through: bytes.count, by: 1) {
            let result = compiler.compile(source: String(decoding: bytes.prefix(n), as: UTF8.self), file: file)
            #expect(result.plan != nil || result.diagnostics.containsErrors)
        }
    }
}

@Suite struct SubgraphCycleTests {
    /// A file reached through a symbolic link to its own directory is the same file: the cycle is
    /// found at once, not after ever longer paths.
    @Test func cycleThroughSymbolicLinkIsFound() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("decograph-graph-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/d", withDestinationPath: ".")
        try "nodes:\n  again: { use: d/self.yaml }\noutput: again\n".write(toFile: directory.path + "/self.yaml", atomically: true, encoding: .utf8)
        let result = GraphCompiler(registry: TestRegistry.registry, baseDirectory: directory.path).compile(file: "self.yaml")
        #expect(result.rendered == "self.yaml:2:17: error: subgraph cycle: self.yaml → d/self.yaml")
    }
}
