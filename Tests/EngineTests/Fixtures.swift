import Foundation
import Graph
import Kernels
import Operators
@testable import Engine

/// Fixture models and temporary graph files for engine tests.
enum Fixtures {
    static let root = DemoGraphs.repository + "/Tests/Fixtures/runtime"

    /// One compute thread: these models are tiny, and on a loaded machine a pass's hand-offs
    /// between threads cost more than its arithmetic.
    static let resources = ResourceRegistry(pool: ComputePool(threadCount: 1))

    /// The random-weight target and draft (both vocabulary 80; any two fixtures agree on it).
    static let target = root + "/llama-gqa-tied"
    static let draft = root + "/llama-mha-untied"

    /// Writes a graph into a fresh temporary directory and compiles it.
    static func plan(_ yaml: String, name: String = "g.yaml") throws -> Plan {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("engine-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent(name).path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let result = GraphCompiler(registry: OperatorRegistry.all).compile(file: file)
        guard let plan = result.plan else {
            throw EngineError(result.diagnostics.map(\.description).joined(separator: "\n"))
        }
        return plan
    }

    static let models = """
    models:
      target: { path: \(target) }
      draft: { path: \(draft) }
    """
}
