/// Qwen2: biases on q/k/v (not o), no MLP bias. Sliding windows only with
/// `use_sliding_window: true`, on layers from `max_window_layers` on (or as `layer_types` lists).
enum Qwen2: Architecture {
    static let modelTypes = ["qwen2"]

    static func configure(_ config: inout ModelConfig, json: ConfigReader) throws {
        config.qkvBias = true
        config.outputBias = false
        config.mlpBias = false
        guard try json.bool("use_sliding_window", default: false) else { return }
        let window = try Architectures.window(json)
        let first = try json.int("max_window_layers", default: config.layerCount, minimum: 0)
        config.slidingWindows = (0..<config.layerCount).map { $0 >= first ? window : nil }
        try config.applyLayerTypes(json, window: window)
    }
}
