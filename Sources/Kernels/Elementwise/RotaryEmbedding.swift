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

    /// Positions below this are exact in f32 (2²⁴), the precision transformers forms the angles
    /// in; past it neighbouring positions would share angles, so the runtime refuses them.
    public static let maximumExactPosition = 1 << 24

    /// Creates the embedding from its inverse frequencies.
    /// - Parameters:
    ///   - inverseFrequencies: one per feature pair.
    ///   - attentionFactor: cos/sin multiplier.
    public init(inverseFrequencies: [Float], attentionFactor: Float = 1) {
        self.inverseFrequencies = inverseFrequencies
        self.attentionFactor = attentionFactor
    }

    /// The cos/sin table of one position: `headDim / 2` cosines then `headDim / 2` sines. It
    /// depends on the position only, so a forward pass computes it once per token for all layers.
    /// - Parameters:
    ///   - position: the token's position.
    ///   - headDim: features per head (even).
    ///   - table: room for `headDim` floats.
    public func angles(position: Int, headDim: Int, into table: UnsafeMutablePointer<Float>) {
        let half = headDim / 2
        // Angles are formed in f32 as transformers does (position · inv_freq in float32).
        let p = Float(position)
        for i in 0..<half {
            let angle = p * inverseFrequencies[i]
            table[i] = cosf(angle) * attentionFactor
            table[half + i] = sinf(angle) * attentionFactor
        }
    }

    /// Rotates `heads` vectors of `headDim` features (contiguous) by a position's table.
    /// - Parameters:
    ///   - x: `heads × headDim` values, rotated in place.
    ///   - heads: number of vectors.
    ///   - headDim: features per vector (even).
    ///   - table: the position's table from `angles(position:headDim:into:)`.
    public func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, table: UnsafePointer<Float>) {
        let half = headDim / 2
        for h in 0..<heads {
            let v = x + h * headDim
            for i in 0..<half {
                let a = v[i], b = v[i + half]
                let c = table[i], s = table[half + i]
                v[i] = a * c - b * s
                v[i + half] = b * c + a * s
            }
        }
    }
}
