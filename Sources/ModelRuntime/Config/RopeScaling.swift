import Foundation
import Kernels

/// The rotary-embedding settings of a config: base frequency and scaling rule.
///
/// Read from transformers-5 `rope_parameters` or from transformers-4 top-level `rope_theta` +
/// `rope_scaling` (`type` or `rope_type`). Supported rules: `default`, `linear`, `llama3`; any
/// other is a configuration error (never a silent fallback to unscaled RoPE).
public struct RopeSettings: Sendable, Equatable {
    /// Scaling rules.
    public enum Rule: Sendable, Equatable {
        /// Plain RoPE.
        case none
        /// Position interpolation (Chen et al. 2023): frequencies divided by `factor`.
        case linear(factor: Double)
        /// Llama 3.1's frequency-dependent rule.
        case llama3(factor: Double, lowFrequencyFactor: Double, highFrequencyFactor: Double, originalContext: Double)
    }

    /// Base θ.
    public var theta: Double
    /// Scaling rule.
    public var rule: Rule

    /// The default θ of LlamaConfig, MistralConfig and Qwen2Config.
    static let defaultTheta = 10_000.0

    /// Parses from a config.
    ///
    /// Every number must be finite and positive: a zero factor divides the frequencies by zero and
    /// a negative one reverses them, so the model computes NaN or garbage logits from the first
    /// token on; such a config is refused here, by key, rather than decoded.
    /// - Parameter config: the decoded config.json.
    /// - Throws: `RuntimeError.badConfig` for malformed or unsupported settings, naming the key.
    init(config: ConfigReader) throws {
        let parameters = try config.object("rope_parameters") ?? config.object("rope_scaling")
        if let parameters, parameters.has("rope_theta") {
            theta = try parameters.number("rope_theta")
        } else {
            theta = try config.number("rope_theta", default: Self.defaultTheta)
        }
        let type = try parameters?.string("rope_type") ?? parameters?.string("type") ?? "default"
        func number(_ key: String) throws -> Double {
            let why = "rope scaling '\(type)' needs it"
            guard let parameters else { throw RuntimeError(.badConfig, "\(config.path): missing '\(key)' (\(why))") }
            return try parameters.number(key, requiredBecause: why)
        }
        switch type {
        case "default":
            rule = .none
        case "linear":
            rule = .linear(factor: try number("factor"))
        case "llama3":
            let low = try number("low_freq_factor"), high = try number("high_freq_factor")
            // The rule interpolates between the two wavelengths, dividing by high − low.
            guard high > low else {
                throw RuntimeError(.badConfig, "\(config.path): rope scaling 'high_freq_factor' (\(high)) must exceed 'low_freq_factor' (\(low)): llama3 scaling interpolates between them")
            }
            rule = .llama3(factor: try number("factor"), lowFrequencyFactor: low, highFrequencyFactor: high,
                           originalContext: try number("original_max_position_embeddings"))
        default:
            throw RuntimeError(.badConfig, "\(config.path): unsupported rope scaling type '\(type)' (supported: default, linear, llama3)")
        }
    }

    /// Creates settings directly.
    /// - Parameters:
    ///   - theta: base θ.
    ///   - rule: scaling rule.
    public init(theta: Double, rule: Rule = .none) {
        self.theta = theta
        self.rule = rule
    }

    /// The embedding for heads of `headDim` features.
    /// - Parameter headDim: features per head (even).
    /// - Returns: the inverse frequencies after scaling.
    public func embedding(headDim: Int) -> RotaryEmbedding {
        let half = headDim / 2
        var inv = (0..<half).map { i in 1 / pow(theta, Double(2 * i) / Double(headDim)) }
        switch rule {
        case .none:
            break
        case .linear(let factor):
            inv = inv.map { $0 / factor }
        case .llama3(let factor, let low, let high, let original):
            let lowWavelength = original / low
            let highWavelength = original / high
            inv = inv.map { f in
                let wavelength = 2 * Double.pi / f
                if wavelength < highWavelength { return f }
                if wavelength > lowWavelength { return f / factor }
                let smooth = (original / wavelength - low) / (high - low)
                return (1 - smooth) * f / factor + smooth * f
            }
        }
        return RotaryEmbedding(inverseFrequencies: inv.map { Float($0) })
    }
}
