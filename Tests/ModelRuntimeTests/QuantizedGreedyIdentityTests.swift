import Testing
import Kernels
@testable import ModelRuntime

/// Speculative greedy ≡ plain greedy on quantized weights, for every block-quantized type: small
/// random-weight models whose matrices are quantized with `dg_quantize`, decoded one token per
/// forward pass (M = 1 rows through the quantized kernel) and verified k drafted tokens at a time
/// (M = k + 1), on two threads so that thread ranges split the kernel's 8-row tiles.
@Suite struct QuantizedGreedyIdentityTests {
    /// Widths are multiples of 256, so every type (the K-quants' super-blocks) stores the rows;
    /// 13 tokens of context before verification exceed one 8-row tile of activation rows.
    static let config = ModelConfig(hiddenSize: 256, intermediateSize: 512, layerCount: 2, headCount: 4, kvHeadCount: 2,
                                    vocabularySize: 256)
    static let newTokens = 40
    static let prompts: [[Int32]] = [[1, 2, 3], [200, 17, 17, 99, 5, 31, 7, 250, 3, 3, 64, 128, 9]]
    /// Draft lengths, taken in turn (16 drafts + the pending token: M = 17, past two tiles).
    static let draftLengths = [1, 2, 4, 8, 16, 3]

    static func model(_ t: DType, activations: ActivationPrecision = .auto) throws -> Model {
        try Model.random(config: config, dtype: t, seed: 7, kvCacheBytes: 4 << 20, pool: ComputePool(threadCount: 2),
                         activations: activations)
    }

    /// The first index of the largest logit (the verifier's and the sampler's greedy rule).
    static func argmax<C: Collection>(_ row: C) -> Int32 where C.Element == Float, C.Index == Int {
        var best = row.startIndex
        for i in row.indices where row[i] > row[best] { best = i }
        return Int32(best - row.startIndex)
    }

    /// Plain greedy: one forward pass per token.
    static func plainGreedy(_ model: Model, _ prompt: [Int32]) throws -> [Int32] {
        let sequence = model.makeSequence()
        var logits = try model.forward([ForwardItem(sequence: sequence, tokens: prompt, outputs: .last)])[0]
        var out: [Int32] = []
        while out.count < newTokens {
            out.append(argmax(logits.row(0)))
            logits = try model.forward([ForwardItem(sequence: sequence, tokens: [out.last!], outputs: .last)])[0]
        }
        return out
    }

    /// Speculative greedy: the token the target picks, then `draftLengths` drafted tokens scored
    /// in the same pass; drafted tokens are accepted while each equals the argmax before it, the
    /// rest rolled back. Drafts are `oracle`'s continuation with every third draft corrupted in
    /// the middle (so acceptance stops early there) — where drafts come from does not matter to
    /// the identity, only that both accepted and rejected ones occur.
    /// - Returns: the tokens and the number of verification passes.
    static func speculativeGreedy(_ model: Model, _ prompt: [Int32], oracle: [Int32]) throws -> ([Int32], Int) {
        let sequence = model.makeSequence()
        var pending = Array(try model.forward([ForwardItem(sequence: sequence, tokens: prompt, outputs: .last)])[0].row(0))
        var out: [Int32] = []
        var passes = 0
        while out.count < newTokens {
            let next = argmax(pending)
            let k = draftLengths[passes % draftLengths.count]
            var draft = Array(oracle[min(out.count + 1, oracle.count)..<min(out.count + 1 + k, oracle.count)])
            if passes % 3 == 2, !draft.isEmpty { draft[draft.count / 2] = (draft[draft.count / 2] + 1) % Int32(config.vocabularySize) }
            let rows = try model.forward([ForwardItem(sequence: sequence, tokens: [next] + draft)])[0]
            passes += 1
            out.append(next)
            var accepted = 0
            while accepted < draft.count, argmax(rows.row(accepted)) == draft[accepted] {
                out.append(draft[accepted])
                accepted += 1
            }
            pending = Array(rows.row(accepted))
            sequence.truncate(to: prompt.count + out.count)
        }
        return (Array(out.prefix(newTokens)), passes)
    }

    @Test(arguments: DType.allCases.filter(\.isQuantized))
    func speculativeEqualsPlainGreedy(_ t: DType) throws {
        let model = try Self.model(t)
        #expect(model.weightDType == t)
        for prompt in Self.prompts {
            let plain = try Self.plainGreedy(model, prompt)
            let (speculative, passes) = try Self.speculativeGreedy(model, prompt, oracle: plain)
            #expect(speculative == plain, "\(t) prompt \(prompt)")
            // Drafts were accepted: more than one token per pass on average.
            #expect(passes < Self.newTokens, "\(t): \(passes) passes for \(Self.newTokens) tokens")
        }
    }

    /// The logits themselves: decoding tokens one at a time and scoring them as one chain give
    /// bitwise the same rows (what the token identity above rests on).
    @Test(arguments: DType.allCases.filter(\.isQuantized))
    func verifyingEqualsDecodingBitwise(_ t: DType) throws {
        let model = try Self.model(t)
        let tokens: [Int32] = (0..<24).map { Int32(($0 * 37 + 11) % Self.config.vocabularySize) }
        let (decoded, verified) = try decodedAndVerified(model, tokens: tokens, prefix: 5)
        #expect(decoded.count == verified.count)
        for i in 0..<decoded.count { #expect(verified[i] == decoded[i], "\(t) position \(5 + i)") }
    }

    /// Across the decode attention's chunks (`PagedAttention.chunkSlots` slots, merged per row):
    /// rows whose slots end on either side of a chunk boundary, decoded one at a time (one job a
    /// chunk) and verified as one chain (the chain's rows sharing each chunk), bitwise.
    @Test func verifyingAcrossAttentionChunksEqualsDecoding() throws {
        let model = try Self.model(.q4_0)
        let chunk = PagedAttention.chunkSlots
        let tokens: [Int32] = (0..<(chunk + 12)).map { Int32(($0 * 37 + 11) % Self.config.vocabularySize) }
        let (decoded, verified) = try decodedAndVerified(model, tokens: tokens, prefix: chunk - 6)
        #expect(decoded.count == 18 && verified.count == 18)
        for i in 0..<decoded.count { #expect(verified[i] == decoded[i], "position \(chunk - 6 + i)") }
    }

    /// The exact mode (`activations: f32`: quantized rows dequantized, f32 products) keeps the
    /// same contract: verification rows are decode rows, bitwise.
    @Test(arguments: [DType.q4_0, .q4_K, .q6_K])
    func exactModeVerifiesAsItDecodes(_ t: DType) throws {
        let model = try Self.model(t, activations: .f32)
        #expect(model.activations == .f32)
        let tokens: [Int32] = (0..<24).map { Int32(($0 * 29 + 5) % Self.config.vocabularySize) }
        let (decoded, verified) = try decodedAndVerified(model, tokens: tokens, prefix: 5)
        for i in 0..<decoded.count { #expect(verified[i] == decoded[i], "\(t) position \(5 + i)") }
        let plain = try Self.plainGreedy(model, Self.prompts[1])
        #expect(try Self.speculativeGreedy(model, Self.prompts[1], oracle: plain).0 == plain)
    }
}
