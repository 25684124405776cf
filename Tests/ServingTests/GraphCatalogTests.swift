import Engine
import Foundation
import Graph
import Operators
import Testing
@testable import Serving

/// The catalog's variant cache: a variant's plan dropped to make room takes its idle sessions with
/// it, so requests with ever-new parameter values or schemas cannot pile up sessions.
@Suite struct GraphCatalogTests {
    @Test func anEvictedVariantKeepsNoIdleSessions() throws {
        let fixture = try ServerFixture(graphs: ["sampling.yaml"])
        defer { fixture.server.shutdown() }
        let catalog = try GraphCatalog(directory: fixture.directory, registry: OperatorRegistry.all, resources: ServerFixture.resources,
                                       maxIdlePerPlan: 4, maxPlans: 2, transform: { $0 }, log: { _ in })
        let entry = try catalog.entry(named: "sampling")
        var keys: [String] = []
        for t in ["0.1", "0.2", "0.3"] {
            let value = YAMLNode(.scalar(t, plain: true), at: CompletionRequest.origin)
            let (plan, key) = try catalog.plan(for: entry, arguments: [("temperature", value)], schema: nil)
            catalog.recycle(try catalog.session(for: plan, key: key), key: key)
            keys.append(key)
        }
        // Two plans fit: the graph's own and one variant; each new variant evicted the one before.
        #expect(catalog.idleSessions(key: keys[0]) == 0)
        #expect(catalog.idleSessions(key: keys[1]) == 0)
        #expect(catalog.idleSessions(key: keys[2]) == 1)
    }
}
