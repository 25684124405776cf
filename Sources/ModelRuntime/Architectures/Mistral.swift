/// Mistral: Llama without biases, with a sliding attention window (`sliding_window`, null for
/// full attention) in every layer unless `layer_types` says otherwise.
enum Mistral: Architecture {
    static let modelTypes = ["mistral"]

    static func configure(_ config: inout ModelConfig, json: ConfigReader) throws {
        let window = try Architectures.window(json)
        config.slidingWindows = Array(repeating: window, count: config.layerCount)
        try config.applyLayerTypes(json, window: window)
    }
}
