import Foundation
import NGramStore
import Testing
@testable import Engine

/// graphs/ngram.yaml with its store replaced by a suffix-array store over a corpus: drafts from
/// the corpus are lossless under greedy decoding and accepted where the output repeats the corpus,
/// and a suffix array cannot be declared `learn: true`.
@Suite(.serialized) struct SuffixArrayGraphTests {
    static let newTokens = 96
    /// The store's declaration after `DemoGraphs.plan` made its directory absolute: edited by its tail.
    static let storeLine = "learned.lmdb, learn: true }"
    static let recallLine = "recall: { op: draft.ngram, store: memory, tokens: 8, gates: lax }"
    static let learnLine = "  learn: { op: store.learn, store: memory, from: accept }\n"

    /// A suffix-array store over the prompts and their greedy continuations, in a new directory.
    static func corpusStore(_ greedy: Session, prompts: [[Int32]]) throws -> String {
        let directory = try DemoGraphs.temporaryDirectory()
        var builder = try SuffixArrayBuilder(tokenizerFingerprint: greedy.tokenizer!.vocabularyFingerprint)
        for prompt in prompts { try builder.add(prompt + greedy.run(prompt: prompt, maxNewTokens: newTokens).tokens) }
        try builder.write(to: directory + "/corpus.sa")
        return directory
    }

    @Test func greedyIdenticalAndDraftsFromTheCorpus() throws {
        let greedy = try Session(plan: try DemoGraphs.plan("greedy.yaml"), resources: DemoGraphs.resources)
        let prompts = try NGramGraphTests.prompts.map { try greedy.encode(try DemoGraphs.prompt($0)) }
        let directory = try Self.corpusStore(greedy, prompts: prompts)
        // The store tier alone against the context tier alone: no dynamic tier, nothing learned.
        let withStore = try DemoGraphs.plan("ngram.yaml", storeDirectory: directory, edits: [
            (Self.storeLine, "corpus.sa }"),
            (Self.recallLine, "recall: { op: draft.ngram, store: memory, tokens: 8, gates: lax, dynamic: false }"),
            (Self.learnLine, ""),
        ])
        let contextOnly = try DemoGraphs.plan("ngram.yaml", storeDirectory: directory, edits: [
            ("  memory: { path: " + directory + "/" + Self.storeLine + "\n", ""),
            ("stores:\n", ""),
            (Self.recallLine, "recall: { op: draft.ngram, tokens: 8, gates: lax, dynamic: false }"),
            (Self.learnLine, ""),
        ])
        for prompt in prompts {
            let expected = try greedy.run(prompt: prompt, maxNewTokens: Self.newTokens).tokens
            let drafted = try Session(plan: withStore, resources: DemoGraphs.resources).run(prompt: prompt, maxNewTokens: Self.newTokens)
            let baseline = try Session(plan: contextOnly, resources: DemoGraphs.resources).run(prompt: prompt, maxNewTokens: Self.newTokens)
            #expect(drafted.tokens == expected)
            #expect(baseline.tokens == expected)
            #expect(drafted.metrics.meanAcceptedTokens > baseline.metrics.meanAcceptedTokens + 1,
                    "MAT \(drafted.metrics.meanAcceptedTokens) with the corpus, \(baseline.metrics.meanAcceptedTokens) without")
        }
    }

    @Test func aSuffixArrayDeclaredLearnTrueIsRefusedWhenCompiled() throws {
        let greedy = try Session(plan: try DemoGraphs.plan("greedy.yaml"), resources: DemoGraphs.resources)
        let directory = try Self.corpusStore(greedy, prompts: [[1, 2, 3]])
        // As `decograph check` reports it: located at the node that names the store, both the
        // reader and the learner.
        #expect {
            try DemoGraphs.plan("ngram.yaml", storeDirectory: directory, edits: [("learned.lmdb", "corpus.sa")])
        } throws: { error in
            let text = "\(error)"
            return text.contains("ngram.yaml:") && text.contains("(draft.ngram)") && text.contains("(store.learn)")
                && text.contains("suffix-array store") && text.contains("remove learn: true")
        }
        // Without a store.learn node, draft.ngram alone refuses it too: run would open it writable.
        #expect {
            try DemoGraphs.plan("ngram.yaml", storeDirectory: directory, edits: [("learned.lmdb", "corpus.sa"), (Self.learnLine, "")])
        } throws: { error in
            "\(error)".contains("(draft.ngram)") && "\(error)".contains("read-only")
        }
    }

    @Test func aSuffixArrayOfAnotherTokenizerIsRefused() throws {
        let directory = try DemoGraphs.temporaryDirectory()
        var builder = try SuffixArrayBuilder(tokenizerFingerprint: "another-tokenizer")
        try builder.add([1, 2, 3] as [Int32])
        try builder.write(to: directory + "/corpus.sa")
        let plan = try DemoGraphs.plan("ngram.yaml", storeDirectory: directory, edits: [
            (Self.storeLine, "corpus.sa }"), (Self.learnLine, ""),
        ])
        #expect {
            try Session(plan: plan, resources: ResourceRegistry(pool: DemoGraphs.resources.pool))
        } throws: { error in
            "\(error)".contains("another-tokenizer") && "\(error)".contains("store 'memory'")
        }
    }
}
