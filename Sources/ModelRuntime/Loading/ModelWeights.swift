import Foundation
import Kernels

/// The tensors of a Hugging Face model directory: `model.safetensors`, or the shards listed in
/// `model.safetensors.index.json`. Tensors stay in the memory maps.
final class ModelWeights: @unchecked Sendable {
    let directory: String
    private let files: [SafetensorsFile]
    private var tensors: [String: TensorView] = [:]

    /// Opens the weights of `directory`.
    /// - Parameter directory: a model directory.
    /// - Throws: `RuntimeError` when no weights are found or a file is damaged.
    init(directory: String) throws {
        self.directory = directory
        let fm = FileManager.default
        let single = directory + "/model.safetensors"
        let index = directory + "/model.safetensors.index.json"
        if fm.fileExists(atPath: index) {
            try MappedFile.requireRegularFile(index)
            guard let data = fm.contents(atPath: index),
                  let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = json["weight_map"] as? [String: String] else {
                throw RuntimeError(.corruptWeights, "\(index): not a safetensors index (expected an object with 'weight_map')")
            }
            var opened: [String: SafetensorsFile] = [:]
            for shard in Set(map.values).sorted() {
                guard !shard.contains("/"), !shard.hasPrefix(".") else {
                    throw RuntimeError(.corruptWeights, "\(index): shard name '\(shard)' must be a file in the model directory")
                }
                opened[shard] = try SafetensorsFile(path: directory + "/" + shard)
            }
            files = opened.keys.sorted().map { opened[$0]! }
            for (name, shard) in map {
                guard let t = opened[shard]!.tensors[name] else {
                    throw RuntimeError(.tensorMismatch, "\(directory)/\(shard): tensor '\(name)' listed in the index is missing from the shard")
                }
                tensors[name] = t
            }
        } else if fm.fileExists(atPath: single) {
            let file = try SafetensorsFile(path: single)
            files = [file]
            tensors = file.tensors
        } else {
            throw RuntimeError(.io, "\(directory): no model.safetensors or model.safetensors.index.json")
        }
    }

    /// Refuses tensors of layers the config does not declare (`model.layers.{i}.…` with
    /// i ≥ `num_hidden_layers`).
    /// - Parameter layerCount: the config's `num_hidden_layers`.
    /// - Throws: `RuntimeError.tensorMismatch` naming the file, the first such tensors and the
    ///   number of layers the file holds.
    func checkNoLayers(beyond layerCount: Int) throws {
        let prefix = "model.layers."
        var beyond: [(layer: Int, name: String)] = []
        for name in tensors.keys where name.hasPrefix(prefix) {
            let index = name.dropFirst(prefix.count).prefix { $0 != "." }
            if let layer = Int(index), layer >= layerCount { beyond.append((layer, name)) }
        }
        guard !beyond.isEmpty else { return }
        beyond.sort { ($0.layer, $0.name) < ($1.layer, $1.name) }
        let shown = beyond.prefix(Self.namesShown).map { "'\($0.name)'" }.joined(separator: ", ")
        let more = beyond.count > Self.namesShown ? " and \(beyond.count - Self.namesShown) more" : ""
        let file = tensors[beyond[0].name]?.file ?? directory
        throw RuntimeError(.tensorMismatch, "\(file): holds tensors of layers the config does not declare (num_hidden_layers is \(layerCount), the file has layers up to \(beyond.last!.layer)): \(shown)\(more); fix num_hidden_layers in config.json")
    }

    /// Tensor names a message lists before summarising the rest as a count.
    static let namesShown = 3

    /// Whether a tensor exists.
    func contains(_ name: String) -> Bool { tensors[name] != nil }

    /// A tensor with a required shape.
    /// - Parameters:
    ///   - name: tensor name.
    ///   - shape: the shape the config implies.
    /// - Returns: the view.
    /// - Throws: `RuntimeError.tensorMismatch` naming file and tensor.
    func tensor(_ name: String, shape: [Int]) throws -> TensorView {
        guard let t = tensors[name] else {
            throw RuntimeError(.tensorMismatch, "\(directory): missing tensor '\(name)' (expected shape \(shape))")
        }
        guard t.shape == shape else {
            throw RuntimeError(.tensorMismatch, "\(t.file): tensor '\(name)' has shape \(t.shape), config implies \(shape)")
        }
        guard t.dtype != nil else {
            throw RuntimeError(.tensorMismatch, "\(t.file): tensor '\(name)' has dtype \(t.dtypeName); weights must be F32, F16 or BF16")
        }
        return t
    }

    /// A 2-D weight as a matrix view.
    func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
        let t = try tensor(name, shape: [rows, columns])
        return WeightMatrix(base: t.data, dtype: t.dtype!, rows: rows, columns: columns)
    }

    /// A 1-D weight widened to f32 (norm gains, biases: small, used every step).
    func vector(_ name: String, count: Int) throws -> [Float] {
        let t = try tensor(name, shape: [count])
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            convertToF32(t.dtype!, t.data, buffer.baseAddress!, count: count)
            initialized = count
        }
    }

    /// The dtype most weights are stored in (for reports).
    var predominantDType: DType {
        var bytes: [DType: Int] = [:]
        for t in tensors.values { if let d = t.dtype { bytes[d, default: 0] += t.elementCount } }
        return bytes.max { $0.value < $1.value }?.key ?? .f32
    }
}
