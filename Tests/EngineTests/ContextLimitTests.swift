import Foundation
import Graph
import Kernels
import Testing
@testable import Engine

/// A run checks its prompt against each model's KV cache and trained context before it starts.
@Suite struct ContextLimitTests {
    static func graph(_ modelFields: String) -> String {
        """
        models:
          target: { path: \(Fixtures.root)/qwen2-bias\(modelFields) }
        nodes:
          scores: { op: score, model: target }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        output: accept
        limits: { max_new_tokens: 4 }
        """
    }

    /// A prompt that cannot fit the cache is refused before any pass, at the model's declaration,
    /// naming the field and the option that raise the limit and by how much.
    @Test func promptPastTheCacheIsALocatedError() throws {
        let resources = ResourceRegistry(pool: ComputePool(threadCount: 1))
        let session = try Session(plan: try Fixtures.plan(Self.graph(", kv_cache_mb: 1")), resources: resources)
        let capacity = session.modelUses[0].service.model.cache.tokenCapacity
        #expect(capacity > 16 && capacity < 100_000)
        let prompt = [Int32](repeating: 3, count: capacity)
        do {
            _ = try session.run(prompt: prompt)
            Issue.record("a prompt of \(capacity) tokens plus 4 new ones ran in a cache of \(capacity)")
        } catch let error as EngineError {
            #expect(error.location?.line == 2, "located at the model entry: \(error)")
            #expect(error.message.contains("kv_cache_mb") && error.message.contains("--kv-cache-mb"), "\(error)")
            #expect(error.message.contains("holds \(capacity)"), "\(error)")
        }
        #expect(session.modelUses[0].service.model.cache.blocksInUse == 0, "nothing was prefilled")
        // What fits runs.
        let fitting = try session.run(prompt: Array(prompt.prefix(capacity - 4)))
        #expect(fitting.tokens.count == 4)
    }

    /// A larger `kv_cache_mb` is a larger cache; the command line's override wins over the graph.
    @Test func cacheSizeComesFromTheGraphOrTheOverride() throws {
        let small = ResourceRegistry(pool: ComputePool(threadCount: 1))
        let large = ResourceRegistry(pool: ComputePool(threadCount: 1))
        let a = try Session(plan: try Fixtures.plan(Self.graph(", kv_cache_mb: 1")), resources: small)
        let b = try Session(plan: try Fixtures.plan(Self.graph(", kv_cache_mb: 3")), resources: large)
        let capacityA = a.modelUses[0].service.model.cache.tokenCapacity
        let capacityB = b.modelUses[0].service.model.cache.tokenCapacity
        #expect(capacityB >= 3 * capacityA - 16 && capacityB <= 3 * capacityA + 16)
        let overridden = ResourceRegistry(pool: ComputePool(threadCount: 1))
        overridden.kvCacheOverride.store(2 << 20, ordering: .relaxed)
        let c = try Session(plan: try Fixtures.plan(Self.graph(", kv_cache_mb: 3")), resources: overridden)
        let capacityC = c.modelUses[0].service.model.cache.tokenCapacity
        #expect(capacityC >= 2 * capacityA - 16 && capacityC <= 2 * capacityA + 16)
        // A second graph asking the loaded model for more than its cache is told so.
        #expect(throws: EngineError.self) {
            _ = try Session(plan: try Fixtures.plan(Self.graph(", kv_cache_mb: 64")), resources: small)
        }
    }

    /// Past `max_position_embeddings` the run goes on with a warning that names the limit.
    @Test func pastTheTrainedContextWarns() throws {
        let resources = ResourceRegistry(pool: ComputePool(threadCount: 1))
        let session = try Session(plan: try Fixtures.plan(Self.graph("")), resources: resources)
        let trained = session.modelUses[0].service.model.config.maxPositionEmbeddings
        #expect(try session.admit(promptTokens: trained - 4, maxNewTokens: 4).isEmpty)
        let warnings = try session.admit(promptTokens: trained - 3, maxNewTokens: 4)
        #expect(warnings.count == 1 && warnings[0].contains("max_position_embeddings") && warnings[0].contains("\(trained)"))
        let result = try session.run(prompt: [Int32](repeating: 5, count: trained + 10))
        #expect(result.tokens.count == 4)
    }
}
