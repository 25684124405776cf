/// Divides logits by a temperature: below 1 sharpens, above 1 flattens (transformers'
/// `TemperatureLogitsWarper`). Temperature 0 means greedy and is handled by `LogitsPipeline`, never
/// by division.
public struct TemperatureProcessor: LogitsProcessor {
    /// The divisor, > 0.
    public let temperature: Float
    /// `temperature`.
    public var name: String { "temperature" }

    /// Creates the processor.
    /// - Parameter temperature: a positive, finite temperature.
    /// - Throws: `OperatorError.invalidParameter` otherwise.
    public init(temperature: Float) throws {
        try OperatorError.require("temperature", temperature, in: Float.leastNonzeroMagnitude..., "> 0")
        self.temperature = temperature
    }

    /// Divides every logit by the temperature.
    /// - Parameters:
    ///   - logits: the row to rewrite.
    ///   - context: unused.
    public func process(_ logits: inout [Float], context: LogitsContext) {
        for i in logits.indices { logits[i] /= temperature }
    }
}
