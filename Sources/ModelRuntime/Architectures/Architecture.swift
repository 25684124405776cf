import Foundation

/// What distinguishes one Llama-family architecture from another: which projections carry
/// biases and which layers use a sliding attention window. The computation is shared
/// (`DecoderLayer`); each architecture file only maps its config onto these traits.
protocol Architecture {
    /// `model_type` values it handles.
    static var modelTypes: [String] { get }
    /// Sets the architecture-specific fields of `config` from config.json.
    static func configure(_ config: inout ModelConfig, json: ConfigReader) throws
}

/// The registry of supported architectures.
enum Architectures {
    static let all: [any Architecture.Type] = [Llama.self, Mistral.self, Qwen2.self]

    static func named(_ modelType: String) -> (any Architecture.Type)? {
        all.first { $0.modelTypes.contains(modelType) }
    }

    /// Reads an optional positive window size.
    static func window(_ json: ConfigReader) throws -> Int? {
        json.has("sliding_window") ? try json.int("sliding_window") : nil
    }
}
