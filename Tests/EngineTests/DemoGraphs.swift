import Foundation
import Graph
import Kernels
import Operators
import Testing
@testable import Engine

/// The repository's graphs run on the shipped demo models (which have a tokenizer, unlike the
/// random-weight fixtures), with paths made absolute and stores placed in a fresh directory.
enum DemoGraphs {
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// One registry for the demo tests: its models load once.
    static let resources = ResourceRegistry(pool: ComputePool(threadCount: 1))

    /// A graph of graphs/ with `../models/`, `../examples/`, `../stores/` and the graphs its
    /// `draft.graph` nodes run made absolute (stores into `storeDirectory`), then `edits` applied,
    /// compiled from a temporary file.
    static func plan(_ name: String, storeDirectory: String? = nil, edits: [(String, String)] = []) throws -> Plan {
        var text = try String(contentsOfFile: GraphGreedyIdentityTests.graphsDirectory + "/" + name, encoding: .utf8)
        text = text.replacingOccurrences(of: "../models/", with: repository + "/models/")
            .replacingOccurrences(of: "../examples/", with: repository + "/examples/")
        if let storeDirectory { text = text.replacingOccurrences(of: "../stores/", with: storeDirectory + "/") }
        // A graph a `draft.graph` node runs stays in graphs/, named by its absolute path.
        text = text.replacing(/graph: ([A-Za-z0-9_.-][A-Za-z0-9_.\/-]*\.yaml)/) { "graph: " + GraphGreedyIdentityTests.graphsDirectory + "/" + $0.1 }
        for (from, to) in edits {
            guard text.contains(from) else { throw EngineError("graphs/\(name) has no '\(from)' to edit") }
            text = text.replacingOccurrences(of: from, with: to)
        }
        return try Fixtures.plan(text, name: name)
    }

    /// Runs two sessions on the demo tokenizer's encoding of each text and expects the same
    /// answer and n-best list from both (a search and its exact variant).
    /// - Returns: each text's pair of results, `reference` first.
    @discardableResult
    static func expectSameSearch(_ reference: Session, _ variant: Session, texts: [String], maxNewTokens: Int,
                                 _ label: String = "") throws -> [(reference: RunResult, variant: RunResult)] {
        let tokenizer = try #require(reference.tokenizer)
        return try texts.map { text in
            let prompt = tokenizer.encode(text, addSpecialTokens: false)
            let expected = try reference.run(prompt: prompt, maxNewTokens: maxNewTokens)
            let result = try variant.run(prompt: prompt, maxNewTokens: maxNewTokens)
            #expect(result.tokens == expected.tokens, "\(label): \(text)")
            #expect(result.candidates.map(\.tokens) == expected.candidates.map(\.tokens), "\(label): \(text)")
            return (expected, result)
        }
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("demo-graphs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// The text of an example prompt file.
    static func prompt(_ file: String) throws -> String {
        try String(contentsOfFile: repository + "/examples/" + file, encoding: .utf8)
    }
}
