/// Qwen2: biases on q/k/v (not o), no MLP bias. Sliding windows only with
/// `use_sliding_window: true`, on layers from `max_window_layers` on (or as `layer_types` lists).
enum Qwen2: Architecture {
    static let modelTypes = ["qwen2"]

    static func configure(_ config: inout ModelConfig, json: [String: Any], path: String) throws {
        config.qkvBias = true
        config.outputBias = false
        config.mlpBias = false
        guard json["use_sliding_window"] as? Bool == true else { return }
        let window = try Architectures.window(json, path: path)
        let first = (json["max_window_layers"] as? Int) ?? config.layerCount
        config.slidingWindows = (0..<config.layerCount).map { $0 >= first ? window : nil }
        try config.applyLayerTypes(json, window: window, path: path)
    }
}
