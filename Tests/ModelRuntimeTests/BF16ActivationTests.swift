import Testing
import Foundation
import Kernels
@testable import ModelRuntime

/// The opt-in bf16 activation mode on the bf16 transformers fixture, against transformers with
/// every `nn.Linear` input rounded to bf16 (tools/oracle/make_bf16_activation_fixture.py): the
/// mode's definition. Decoding and verifying stay bitwise identical in this mode too
/// (speculative greedy ≡ plain greedy).
@Suite struct BF16ActivationTests {
    static let fixture = "llama-bf16"
    /// Our f32 activations differ from transformers' in the last bits (summation order), so now
    /// and then one rounds to the neighbouring bf16 value (2⁻⁸ relative) and the logits move, by
    /// far less than the rounding itself moves them (≈ 5e-2). How far depends on the order: worst
    /// 3e-4 with attention dot products summed one term at a time, 4.9e-3 with the vector kernel's
    /// pairwise sums (head size 16 here); both orders are equally exact in f32, and the f32
    /// fixtures agree with transformers to 1e-4 either way.
    static let tolerance: Float = 1e-2

    static func load() throws -> (Model, [Fixtures.Sequence]) {
        let dir = Fixtures.root + "/runtime/" + fixture
        return (try Model(directory: dir, kvCacheBytes: 16 << 20, pool: ComputePool(threadCount: 2), activations: .bf16),
                try Fixtures.sequences(dir))
    }

    /// `auto`, the default, runs bf16 weights in this mode where the CPU has AVX-512 BF16 dot
    /// products and exactly otherwise; other weight precisions always run f32, and an explicit
    /// request is kept.
    @Test func autoPicksTheModeThatPays() throws {
        let bf16 = try Model(directory: Fixtures.root + "/runtime/" + Self.fixture, kvCacheBytes: 1 << 20)
        #expect(bf16.weightDType == .bf16)
        #expect(bf16.activations == (ActivationPrecision.hasBF16DotProducts ? .bf16 : .f32))
        let f32 = try Model(directory: Fixtures.root + "/runtime/llama-gqa-tied", kvCacheBytes: 1 << 20)
        #expect(f32.weightDType == .f32 && f32.activations == .f32)
        #expect(ActivationPrecision.auto.resolved(for: .f16) == .f32)
        #expect(ActivationPrecision.f32.resolved(for: .bf16) == .f32)
        #expect(ActivationPrecision.bf16.resolved(for: .f16) == .bf16)
    }

    @Test func verifyingEqualsDecodingBitwise() throws {
        let (model, sequences) = try Self.load()
        #expect(model.weightDType == .bf16)
        for s in sequences {
            let prefix = 4
            let (decoded, verified) = try decodedAndVerified(model, tokens: s.tokens, prefix: prefix)
            #expect(decoded.count == verified.count)
            for i in 0..<decoded.count { #expect(verified[i] == decoded[i], "position \(prefix + i)") }
        }
    }

    @Test func logitsMatchRoundedTransformers() throws {
        let (model, _) = try Self.load()
        let dir = Fixtures.root + "/runtime/" + Self.fixture
        let rounded = try Fixtures.sequences(dir, file: "expected-bf16-activations.safetensors")
        let exact = try Fixtures.sequences(dir)
        #expect(rounded.count == exact.count && !rounded.isEmpty)
        for (s, f32) in zip(rounded, exact) {
            let out = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: s.tokens)])[0]
            for i in 0..<out.rows {
                let e = relativeError(out.row(i), s.logits[i])
                #expect(e <= Self.tolerance, "position \(i): relative error \(e) against the rounded oracle")
                // Closer to the rounded oracle than to transformers' f32 logits: the mode rounds.
                #expect(e < relativeError(out.row(i), f32.logits[i]), "position \(i)")
            }
        }
    }
}
