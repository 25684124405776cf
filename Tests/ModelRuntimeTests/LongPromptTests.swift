import Foundation
import Testing
import Kernels
@testable import ModelRuntime

/// Long prompts: causal prefill plans no per-query lists, runs in passes of bounded size through
/// the tiled attention kernel, and gives what decoding the same tokens one by one gives.
@Suite struct LongPromptTests {
    /// A prompt of `count` tokens cycling through the vocabulary with a stride, so positions differ.
    static func prompt(_ count: Int, vocabulary: Int) -> [Int32] {
        (0..<count).map { Int32(($0 * 7 + 3) % vocabulary) }
    }

    /// The model's logits for the token after `prompt`, decoded one token per pass (the per-token
    /// kernel at every position: the reference).
    static func decoded(_ model: Model, _ prompt: [Int32]) throws -> [Float] {
        let sequence = model.makeSequence()
        var last: [Float] = []
        for token in prompt { last = Array(try model.forward([ForwardItem(sequence: sequence, tokens: [token])])[0].row(0)) }
        return last
    }

    /// Prefill through the tiled kernel, cut into passes of 37 tokens, against decoding one token
    /// at a time: a sliding-window model (window 8, so tiles are cut by the window) and a GQA one,
    /// at lengths past a tile, past a pass and past several.
    @Test(arguments: ["mistral-sliding", "llama-gqa-tied"], [20, 150])
    func chunkedPrefillMatchesDecoding(fixture: String, length: Int) throws {
        let model = try Model(directory: Fixtures.root + "/runtime/" + fixture, kvCacheBytes: 8 << 20,
                              pool: ComputePool(threadCount: 2), activations: .f32)
        model.passTokens = 37
        let prompt = Self.prompt(length, vocabulary: model.config.vocabularySize)
        let sequence = model.makeSequence()
        let prefilled = try model.forward([ForwardItem(sequence: sequence, tokens: prompt, outputs: .last)])[0]
        #expect(prefilled.rows == 1 && sequence.length == length)
        let reference = try Self.decoded(model, prompt)
        #expect(relativeError(prefilled.row(0), reference) < 1e-4)
        // Decoding after a tiled prefill reads the keys and values it wrote.
        let next = try model.forward([ForwardItem(sequence: sequence, tokens: [5])])[0]
        let referenceNext = try Self.decoded(model, prompt + [5])
        #expect(relativeError(next.row(0), referenceNext) < 1e-4)
    }

    /// A prompt fed as one `.last` item gives the logits of the same prompt fed as a `.none` item
    /// and then its last token (how sessions prefill), whatever the pass size. (Not bitwise: the
    /// last row's products run in a wide pass through `sgemm` in one case and alone through the
    /// small-batch kernel in the other.)
    @Test func prefillDoesNotDependOnHowItIsCut() throws {
        let model = try Model(directory: Fixtures.root + "/runtime/llama-gqa-tied", kvCacheBytes: 8 << 20,
                              pool: ComputePool(threadCount: 2), activations: .f32)
        let prompt = Self.prompt(300, vocabulary: model.config.vocabularySize)
        var rows: [[Float]] = []
        for passTokens in [16, 512] {
            model.passTokens = passTokens
            let whole = model.makeSequence()
            let a = try model.forward([ForwardItem(sequence: whole, tokens: prompt, outputs: .last)])[0]
            let split = model.makeSequence()
            _ = try model.forward([ForwardItem(sequence: split, tokens: Array(prompt.dropLast()), outputs: .none)])
            let b = try model.forward([ForwardItem(sequence: split, tokens: [prompt.last!])])[0]
            #expect(relativeError(a.row(0), b.row(0)) < 1e-5, "pass size \(passTokens)")
            rows.append(Array(a.row(0)))
        }
        #expect(relativeError(rows[0], rows[1]) < 1e-5)
    }

    /// Several items in one call, one of them a tree, packed into passes: each item gets the logits
    /// it would get alone.
    @Test func batchedItemsAcrossPasses() throws {
        let model = try Model(directory: Fixtures.root + "/runtime/llama-gqa-tied", kvCacheBytes: 8 << 20,
                              pool: ComputePool(threadCount: 1), activations: .f32)
        model.passTokens = 40
        let v = model.config.vocabularySize
        let long = Self.prompt(130, vocabulary: v), short = Array(Self.prompt(9, vocabulary: v).reversed())
        let tree: [Int32] = [4, 9, 11, 2], parents = [-1, 0, 0, 2]
        let (s1, s2, s3) = (model.makeSequence(), model.makeSequence(), model.makeSequence())
        _ = try model.forward([ForwardItem(sequence: s3, tokens: short, outputs: .none)])
        let together = try model.forward([
            ForwardItem(sequence: s1, tokens: long, outputs: .last),
            ForwardItem(sequence: s2, tokens: short, outputs: .all),
            ForwardItem(sequence: s3, tokens: tree, parents: parents, outputs: .all),
        ])
        #expect(together.map(\.rows) == [1, short.count, tree.count])
        #expect([s1.length, s2.length, s3.length] as [Int] == [long.count, short.count, short.count + tree.count])
        model.passTokens = 10_000
        let (a1, a2, a3) = (model.makeSequence(), model.makeSequence(), model.makeSequence())
        let alone1 = try model.forward([ForwardItem(sequence: a1, tokens: long, outputs: .last)])[0]
        let alone2 = try model.forward([ForwardItem(sequence: a2, tokens: short, outputs: .all)])[0]
        _ = try model.forward([ForwardItem(sequence: a3, tokens: short, outputs: .none)])
        let alone3 = try model.forward([ForwardItem(sequence: a3, tokens: tree, parents: parents, outputs: .all)])[0]
        #expect(relativeError(together[0].values, alone1.values) < 1e-5)
        #expect(relativeError(together[1].values, alone2.values) < 1e-5)
        #expect(relativeError(together[2].values, alone3.values) < 1e-5)
    }

    /// Resident memory of a 32k-token prefill beyond weights and KV cache is O(pass), not O(n²):
    /// per-query lists of visible slots alone would have held 32k²/2 four-byte integers (2 GiB).
    /// One layer of one 16-wide head keeps the quadratic attention itself to a few seconds.
    @Test func longPrefillMemoryStaysLinear() throws {
        let config = ModelConfig(hiddenSize: 16, intermediateSize: 32, layerCount: 1, headCount: 1, kvHeadCount: 1,
                                 vocabularySize: 64)
        let length = 32_768
        let model = try Model.random(config: config, dtype: .f32, kvCacheBytes: (length + 64) * 1024,
                                     pool: ComputePool(threadCount: 2), activations: .f32)
        let prompt = Self.prompt(length, vocabulary: 64)
        let before = ProcessMemory.resident
        ProcessMemory.resetPeak()
        let sequence = model.makeSequence()
        let logits = try model.forward([ForwardItem(sequence: sequence, tokens: prompt, outputs: .last)])[0]
        let growth = ProcessMemory.peak - before
        #expect(logits.values.allSatisfy(\.isFinite) && sequence.length == length)
        // The KV cache (16 × 4 B × 2 per token: 4 MiB here) plus passes of 512 tokens (a few MiB
        // alone); the bound leaves room for the suite's other tests, which run beside this one
        // (~270 MiB of their allocations were seen in one such window).
        #expect(growth < 1 << 30, "peak resident memory grew by \(growth >> 20) MiB")
    }

    @Test func passesPackChainsAndKeepTreesWhole() {
        typealias P = Model.Piece
        #expect(Model.passes([5, 3], chained: [true, true], limit: 4)
                == [[P(item: 0, tokens: 0..<4)], [P(item: 0, tokens: 4..<5), P(item: 1, tokens: 0..<3)]])
        #expect(Model.passes([2, 6, 1], chained: [true, false, true], limit: 4)
                == [[P(item: 0, tokens: 0..<2)], [P(item: 1, tokens: 0..<6)], [P(item: 2, tokens: 0..<1)]])
        #expect(Model.passes([0, 3], chained: [true, true], limit: 2)
                == [[P(item: 0, tokens: 0..<0), P(item: 1, tokens: 0..<2)], [P(item: 1, tokens: 2..<3)]])
    }
}
