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

    /// Parses from a config dictionary.
    /// - Parameters:
    ///   - config: the decoded config.json.
    ///   - path: file name for messages.
    /// - Throws: `RuntimeError.badConfig` for malformed or unsupported settings.
    init(config: [String: Any], path: String) throws {
        var parameters = config["rope_parameters"] as? [String: Any]
        if parameters == nil, let scaling = config["rope_scaling"] as? [String: Any] {
            parameters = scaling
        }
        let thetaValue = parameters?["rope_theta"] ?? config["rope_theta"]
        if let t = thetaValue {
            guard let n = (t as? NSNumber)?.doubleValue, n > 0 else {
                throw RuntimeError(.badConfig, "\(path): rope_theta must be a positive number")
            }
            theta = n
        } else {
            theta = 10_000  // the default of LlamaConfig, MistralConfig and Qwen2Config
        }
        let type = (parameters?["rope_type"] ?? parameters?["type"]) as? String ?? "default"
        func number(_ key: String, default value: Double? = nil) throws -> Double {
            if let n = (parameters?[key] as? NSNumber)?.doubleValue { return n }
            if let value { return value }
            throw RuntimeError(.badConfig, "\(path): rope scaling '\(type)' needs '\(key)'")
        }
        switch type {
        case "default":
            rule = .none
        case "linear":
            rule = .linear(factor: try number("factor"))
        case "llama3":
            rule = .llama3(factor: try number("factor"), lowFrequencyFactor: try number("low_freq_factor"),
                           highFrequencyFactor: try number("high_freq_factor"),
                           originalContext: try number("original_max_position_embeddings"))
        default:
            throw RuntimeError(.badConfig, "\(path): unsupported rope scaling type '\(type)' (supported: default, linear, llama3)")
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
