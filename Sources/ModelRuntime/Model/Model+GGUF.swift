import Foundation
import Kernels

extension Model {
    /// Loads a GGUF file (llama.cpp's single-file format): configuration from its metadata,
    /// weights used in place from the memory map (Q/K rows of `llama` files are put back in
    /// Hugging Face order, see `GGUFWeights`).
    /// - Parameters:
    ///   - path: the `.gguf` file.
    ///   - kvCacheBytes: memory limit of the KV cache.
    ///   - pool: compute threads.
    ///   - activations: what products with bf16 weights read as activations.
    /// - Throws: `RuntimeError` naming the byte offset and the key or tensor at fault.
    public convenience init(gguf path: String, kvCacheBytes: Int = defaultKVCacheBytes, pool: ComputePool = .shared,
                            activations: ActivationPrecision = .auto) throws {
        let file = try GGUFFile(path: path)
        let config = try ModelConfig(gguf: file)
        let weights = GGUFWeights(file: file, config: config)
        try self.init(config: config, weights: weights, storage: weights, name: path,
                      dtype: weights.predominantDType, kvCacheBytes: kvCacheBytes, pool: pool, activations: activations)
    }

    /// The configuration of the model at `path` without loading its weights: config.json of a
    /// directory, or a GGUF file's metadata.
    /// - Parameter path: a model directory or `.gguf` file.
    /// - Returns: the configuration.
    /// - Throws: `RuntimeError` naming the file at fault.
    public static func configuration(at path: String) throws -> ModelConfig {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            return try ModelConfig(gguf: try GGUFFile(path: path))
        }
        return try ModelConfig(directory: path)
    }
}

extension Model {
    /// The chat templates a GGUF file carries: `tokenizer.chat_template` as `default`, and each
    /// `tokenizer.chat_template.NAME` (llama.cpp's key for named templates such as `tool_use`)
    /// under its name.
    /// - Parameter path: the `.gguf` file.
    /// - Returns: template sources by name; empty when the file has none.
    /// - Throws: `RuntimeError` for a file that does not open as GGUF or a template key that is not a string.
    public static func chatTemplates(gguf path: String) throws -> [String: String] {
        let file = try GGUFFile(path: path)
        var templates: [String: String] = [:]
        let key = "tokenizer.chat_template"
        for (name, value) in file.metadata where name == key || name.hasPrefix(key + ".") {
            guard case .string(let source) = value else {
                throw RuntimeError(.badConfig, "\(file.path): key '\(name)' must be a string, found a \(value.kind)")
            }
            templates[name == key ? "default" : String(name.dropFirst(key.count + 1))] = source
        }
        return templates
    }
}
