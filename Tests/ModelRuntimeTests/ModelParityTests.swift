import Testing
import Foundation
import Kernels
@testable import ModelRuntime

/// Logits parity with Hugging Face transformers (the oracle) on small random-weight models of
/// every supported architecture: prefill, cached decode, trees, fork, truncate, batching.
@Suite struct ModelParityTests {
    static let tolerance: Float = 1e-4

    static func load(_ name: String) throws -> (Model, [Fixtures.Sequence]) {
        let dir = Fixtures.root + "/runtime/" + name
        return (try Model(directory: dir, kvCacheBytes: 16 << 20, pool: ComputePool(threadCount: 2), activations: .f32),
                try Fixtures.sequences(dir))
    }

    @Test func fixturesArePresent() {
        #expect(Fixtures.runtimeCases.count >= 9, "expected the 9 transformers fixtures in Tests/Fixtures/runtime")
    }

    @Test(arguments: Fixtures.runtimeCases)
    func prefillMatchesTransformers(_ name: String) throws {
        let (model, sequences) = try Self.load(name)
        #expect(!sequences.isEmpty)
        for s in sequences {
            let seq = model.makeSequence()
            let out = try model.forward([ForwardItem(sequence: seq, tokens: s.tokens)])[0]
            #expect(out.rows == s.tokens.count)
            for i in 0..<out.rows {
                let e = relativeError(out.row(i), s.logits[i])
                #expect(e <= Self.tolerance, "\(name) position \(i): relative error \(e)")
            }
        }
    }

    @Test(arguments: Fixtures.runtimeCases)
    func cachedDecodeMatchesTransformers(_ name: String) throws {
        let (model, sequences) = try Self.load(name)
        let s = sequences[0]
        let seq = model.makeSequence()
        // Prefill 5 tokens, then one token per call.
        let first = try model.forward([ForwardItem(sequence: seq, tokens: Array(s.tokens[0..<5]), outputs: .last)])[0]
        #expect(relativeError(first.row(0), s.logits[4]) <= Self.tolerance)
        for i in 5..<s.tokens.count {
            let out = try model.forward([ForwardItem(sequence: seq, tokens: [s.tokens[i]])])[0]
            let e = relativeError(out.row(0), s.logits[i])
            #expect(e <= Self.tolerance, "\(name) decode position \(i): relative error \(e)")
        }
        #expect(seq.length == s.tokens.count)
    }

    /// Decoding token by token and scoring the same tokens as one chain (as a verifier does) give
    /// bitwise-identical logits: speculative greedy decoding must equal plain greedy exactly.
    @Test(arguments: Fixtures.runtimeCases)
    func verifyingEqualsDecodingBitwise(_ name: String) throws {
        let (model, sequences) = try Self.load(name)
        let prefix = 6
        let (decoded, verified) = try decodedAndVerified(model, tokens: sequences[1].tokens, prefix: prefix)
        #expect(decoded.count == verified.count)
        for i in 0..<decoded.count { #expect(verified[i] == decoded[i], "\(name) position \(prefix + i)") }
    }

    @Test(arguments: Fixtures.runtimeCases)
    func batchedItemsMatchTransformers(_ name: String) throws {
        let (model, sequences) = try Self.load(name)
        let seqs = sequences.map { _ in model.makeSequence() }
        let outs = try model.forward(zip(seqs, sequences).map { ForwardItem(sequence: $0, tokens: $1.tokens) })
        for (out, s) in zip(outs, sequences) {
            for i in 0..<s.tokens.count { #expect(relativeError(out.row(i), s.logits[i]) <= Self.tolerance) }
        }
    }

    /// Each tree node's logits equal those of its root-to-node path run as a chain.
    @Test(arguments: Fixtures.runtimeCases)
    func treeMatchesChains(_ name: String) throws {
        let (model, sequences) = try Self.load(name)
        let s = sequences[0]
        let prefix = 11  // not a multiple of the block size
        let V = Int32(model.config.vocabularySize)
        // Tree: branch A = the fixture's true continuation (4 tokens); branch B forks after A's
        // first token; branch C starts at the root.
        let a = Array(s.tokens[prefix..<(prefix + 4)])
        let tokens: [Int32] = a + [(a[1] + 7) % V, (a[2] + 3) % V, (a[0] + 5) % V, (a[0] + 9) % V]
        let parents = [-1, 0, 1, 2, 0, 4, -1, 6]
        let seq = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: seq, tokens: Array(s.tokens[0..<prefix]), outputs: .none)])
        let tree = try model.forward([ForwardItem(sequence: seq, tokens: tokens, parents: parents)])[0]
        for i in 0..<4 {
            #expect(relativeError(tree.row(i), s.logits[prefix + i]) <= Self.tolerance, "\(name) tree node \(i) vs transformers")
        }
        for node in 4..<tokens.count {
            var path: [Int32] = []
            var n = node
            while n >= 0 { path.insert(tokens[n], at: 0); n = parents[n] }
            let chain = model.makeSequence()
            let out = try model.forward([ForwardItem(sequence: chain, tokens: Array(s.tokens[0..<prefix]) + path, outputs: .last)])[0]
            #expect(relativeError(tree.row(node), out.row(0)) <= Self.tolerance, "\(name) tree node \(node) vs its chain")
        }
        // Keep branch B (nodes 0, 4, 5), then continue: must equal the chain of that path.
        try seq.keepPath(base: prefix, path: [0, 4, 5])
        #expect(seq.length == prefix + 3)
        let next: Int32 = 3
        let cont = try model.forward([ForwardItem(sequence: seq, tokens: [next])])[0]
        let chain = model.makeSequence()
        let ref = try model.forward([ForwardItem(sequence: chain, tokens: Array(s.tokens[0..<prefix]) + [tokens[0], tokens[4], tokens[5], next], outputs: .last)])[0]
        #expect(relativeError(cont.row(0), ref.row(0)) <= Self.tolerance)
    }

    /// `forward(depth:)` equals transformers with the model cut to its first layers (final norm
    /// and LM head kept): the self-speculative draft path. Fixtures from
    /// tools/oracle/make_partial_depth_fixture.py.
    @Test(arguments: ["llama-gqa-tied", "qwen2-bias", "mistral-sliding"])
    func partialDepthMatchesTruncatedTransformers(_ name: String) throws {
        let (model, _) = try Self.load(name)
        let dir = Fixtures.root + "/runtime/" + name
        let sequences = try Fixtures.sequences(dir, file: "expected-depth1.safetensors")
        #expect(!sequences.isEmpty)
        for s in sequences {
            let seq = model.makeSequence()
            // Prefill at depth 1, then decode one token at depth 1 (uses the shallow cache).
            let head = try model.forward([ForwardItem(sequence: seq, tokens: Array(s.tokens.dropLast()))], depth: 1)[0]
            let last = try model.forward([ForwardItem(sequence: seq, tokens: [s.tokens.last!])], depth: 1)[0]
            for i in 0..<head.rows { #expect(relativeError(head.row(i), s.logits[i]) <= Self.tolerance, "\(name) depth 1 position \(i)") }
            #expect(relativeError(last.row(0), s.logits[s.tokens.count - 1]) <= Self.tolerance)
            #expect(seq.fullLength == 0 && seq.shallowDepth == 1)
        }
    }

    @Test(arguments: Fixtures.runtimeCases)
    func forkAndTruncateMatchTransformers(_ name: String) throws {
        let (model, sequences) = try Self.load(name)
        let s = sequences[0]
        let prefix = 13
        let base = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: base, tokens: Array(s.tokens[0..<prefix]), outputs: .none)])
        let fork = base.fork()
        // The fork diverges first (copy-on-write of the shared partial block)…
        _ = try model.forward([ForwardItem(sequence: fork, tokens: [(s.tokens[prefix] + 1) % Int32(model.config.vocabularySize)])])
        // …and the original must be unaffected.
        let rest = Array(s.tokens[prefix...])
        let out = try model.forward([ForwardItem(sequence: base, tokens: rest)])[0]
        for (i, row) in (prefix..<s.tokens.count).enumerated() {
            #expect(relativeError(out.row(i), s.logits[row]) <= Self.tolerance, "\(name) original after fork, position \(row)")
        }
        // The fork rolls back its divergent token and follows the fixture.
        fork.truncate(to: prefix)
        let forkOut = try model.forward([ForwardItem(sequence: fork, tokens: rest)])[0]
        for (i, row) in (prefix..<s.tokens.count).enumerated() {
            #expect(relativeError(forkOut.row(i), s.logits[row]) <= Self.tolerance, "\(name) fork, position \(row)")
        }
        // Truncate + re-extend on the original.
        base.truncate(to: 7)
        let again = try model.forward([ForwardItem(sequence: base, tokens: Array(s.tokens[7...]))])[0]
        for (i, row) in (7..<s.tokens.count).enumerated() {
            #expect(relativeError(again.row(i), s.logits[row]) <= Self.tolerance, "\(name) after truncate, position \(row)")
        }
    }
}
