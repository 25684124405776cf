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
