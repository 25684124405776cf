import Foundation

/// Eta sampling (Hewitt et al. 2022, "Truncation Sampling as Language Model Desmoothing"), as
/// transformers' `EtaLogitsWarper`: epsilon sampling with an entropy-dependent floor
/// `η = min(ε, √ε · e^−H)`, so a flat distribution (high entropy `H`) keeps more of its tail
/// than a peaked one.
public struct EtaProcessor: LogitsProcessor {
    /// `ε`, in (0, 1).
    public let epsilon: Float
    /// The most probable tokens always kept.
    public let minTokensToKeep: Int
    /// `eta_cutoff`.
    public var name: String { "eta_cutoff" }

    /// Creates the processor.
    /// - Parameters:
    ///   - epsilon: `ε` in (0, 1) (transformers' range; `LogitsPipeline` reads 0 as off).
    ///   - minTokensToKeep: tokens kept whatever their probability, ≥ 1.
    /// - Throws: `OperatorError.invalidParameter` for values outside those ranges.
    public init(epsilon: Float, minTokensToKeep: Int = 1) throws {
        try OperatorError.require("eta_cutoff", epsilon, in: Float.leastNonzeroMagnitude..<1, "in (0, 1)")
        try OperatorError.require("min_tokens_to_keep", minTokensToKeep, in: 1..., "≥ 1")
        self.epsilon = epsilon
        self.minTokensToKeep = minTokensToKeep
    }

    /// Removes tokens below `η`.
    /// - Parameters:
    ///   - logits: the row to rewrite.
    ///   - context: unused.
    public func process(_ logits: inout [Float], context: LogitsContext) {
        guard let logProbabilities = try? Distribution.logSoftmax(logits),
              let probabilities = try? Distribution.softmax(logits) else { return }
        let entropy = Distribution.entropy(logProbabilities: logProbabilities)
        let eta = min(epsilon, epsilon.squareRoot() * Float(Foundation.exp(-entropy)))
        EpsilonProcessor.remove(below: eta, probabilities: probabilities, from: &logits, keeping: minTokensToKeep)
    }
}
