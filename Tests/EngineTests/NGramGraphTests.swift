import Foundation
import NGramStore
import Testing
@testable import Engine

/// graphs/ngram.yaml on the demo target: retrieval drafts from the context, the session's earlier
/// outputs and a persistent store are lossless under greedy decoding, and a store that learned a
/// run makes the next run on the same text accept more per target call.
@Suite(.serialized) struct NGramGraphTests {
    static let prompts = ["prompt-uuid-uuid1.py", "prompt-pydoc-synopsis.py"]
    static let newTokens = 96

    @Test func greedyIdenticalAndImprovesAfterLearning() throws {
        let storeDirectory = try DemoGraphs.temporaryDirectory()
        let greedy = try Session(plan: try DemoGraphs.plan("greedy.yaml"), resources: DemoGraphs.resources)
        let plan = try DemoGraphs.plan("ngram.yaml", storeDirectory: storeDirectory)
        let storePath = storeDirectory + "/learned.lmdb"
        for file in Self.prompts {
            let prompt = try greedy.encode(try DemoGraphs.prompt(file))
            let expected = try greedy.run(prompt: prompt, maxNewTokens: Self.newTokens).tokens
            // Each run in a new session, as two invocations of `decograph run` would be: the
            // session's dynamic tier starts empty, so what the second run gains comes from the store.
            let first = try Session(plan: plan, resources: DemoGraphs.resources).run(prompt: prompt, maxNewTokens: Self.newTokens)
            let store = try DemoGraphs.resources.store(at: storePath, writable: true,
                                                       tokenizerFingerprint: greedy.tokenizer!.vocabularyFingerprint)
            let learned = try store.withReadTransaction { $0.tokensLearned }
            let second = try Session(plan: plan, resources: DemoGraphs.resources).run(prompt: prompt, maxNewTokens: Self.newTokens)
            #expect(first.tokens == expected, "first run of \(file) differs from greedy")
            #expect(second.tokens == expected, "second run of \(file) differs from greedy")
            #expect(learned >= UInt64(expected.count), "store.learn did not add the run's \(expected.count) tokens (store holds \(learned))")
            #expect(second.metrics.meanAcceptedTokens > first.metrics.meanAcceptedTokens + 0.5,
                    "\(file): MAT \(first.metrics.meanAcceptedTokens) before learning, \(second.metrics.meanAcceptedTokens) after")
        }
    }

    @Test func dynamicTierRemembersEarlierRunsOfTheSession() throws {
        // No store: the second run of one session drafts from the first run's output.
        let plan = try DemoGraphs.plan("ngram.yaml", edits: [
            ("stores:\n  memory: { path: ../stores/learned.lmdb, learn: true }\n", ""),
            ("  recall: { op: draft.ngram, store: memory, tokens: 8, gates: lax }", "  recall: { op: draft.ngram, tokens: 8, gates: lax }"),
            ("  learn: { op: store.learn, store: memory, from: accept }\n", ""),
        ])
        let session = try Session(plan: plan, resources: DemoGraphs.resources)
        let prompt = try session.encode(try DemoGraphs.prompt(Self.prompts[0]))
        let first = try session.run(prompt: prompt, maxNewTokens: Self.newTokens)
        let second = try session.run(prompt: prompt, maxNewTokens: Self.newTokens)
        #expect(second.tokens == first.tokens)
        #expect(second.metrics.meanAcceptedTokens > first.metrics.meanAcceptedTokens + 0.5,
                "MAT \(first.metrics.meanAcceptedTokens) then \(second.metrics.meanAcceptedTokens)")
    }

    @Test func learningNeedsADeclarationThatAllowsIt() throws {
        let storeDirectory = try DemoGraphs.temporaryDirectory()
        let fingerprint = try #require(try DemoGraphs.resources.tokenizer(at: DemoGraphs.repository + "/models/demo-target")).vocabularyFingerprint
        _ = try NGramStore.create(at: storeDirectory + "/learned.lmdb", tokenizerFingerprint: fingerprint)
        // Refused when the graph is compiled, as `decograph check` reports it, located at the node.
        #expect {
            try DemoGraphs.plan("ngram.yaml", storeDirectory: storeDirectory, edits: [("learned.lmdb, learn: true }", "learned.lmdb }")])
        } throws: { error in
            "\(error)".contains("learn: true") && "\(error)".contains("ngram.yaml:") && "\(error)".contains("(store.learn)")
        }
    }

    @Test func aStoreOfAnotherTokenizerIsRefused() throws {
        let storeDirectory = try DemoGraphs.temporaryDirectory()
        let path = storeDirectory + "/learned.lmdb"
        _ = try NGramStore.create(at: path, tokenizerFingerprint: "another-tokenizer")
        let plan = try DemoGraphs.plan("ngram.yaml", storeDirectory: storeDirectory)
        #expect {
            try Session(plan: plan, resources: ResourceRegistry(pool: DemoGraphs.resources.pool))
        } throws: { error in
            "\(error)".contains("tokenizer") && "\(error)".contains("store 'memory'")
        }
    }
}
