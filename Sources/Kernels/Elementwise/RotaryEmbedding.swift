#if canImport(Glibc)
import Glibc
#endif

/// Rotary position embedding (Su et al. 2021) in the rotate-half ("NeoX") layout Hugging Face
/// Llama, Mistral and Qwen2 use: feature `i` pairs with feature `i + d/2`.
public struct RotaryEmbedding: Sendable {
    /// Inverse frequency per feature pair (`d/2` values), after any scaling rule.
    public let inverseFrequencies: [Float]
    /// Multiplier on cos/sin (1 except for scaling rules that ask otherwise).
    public let attentionFactor: Float

    /// Creates the embedding from its inverse frequencies.
    /// - Parameters:
    ///   - inverseFrequencies: one per feature pair.
    ///   - attentionFactor: cos/sin multiplier.
    public init(inverseFrequencies: [Float], attentionFactor: Float = 1) {
        self.inverseFrequencies = inverseFrequencies
        self.attentionFactor = attentionFactor
    }

    /// Rotates `heads` vectors of `headDim` features (contiguous) for one position.
    /// - Parameters:
    ///   - x: `heads × headDim` values, rotated in place.
    ///   - heads: number of vectors.
    ///   - headDim: features per vector (even).
    ///   - position: the token's position.
    ///   - scratch: room for `headDim` floats (cos then sin).
    public func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, position: Int,
                      scratch: UnsafeMutablePointer<Float>) {
        let half = headDim / 2
        // Angles are formed in f32 as transformers does (position · inv_freq in float32).
        let p = Float(position)
        for i in 0..<half {
            let angle = p * inverseFrequencies[i]
            scratch[i] = cosf(angle) * attentionFactor
            scratch[half + i] = sinf(angle) * attentionFactor
        }
        for h in 0..<heads {
            let v = x + h * headDim
            for i in 0..<half {
                let a = v[i], b = v[i + half]
                let c = scratch[i], s = scratch[half + i]
                v[i] = a * c - b * s
                v[i + half] = b * c + a * s
            }
        }
    }
}
