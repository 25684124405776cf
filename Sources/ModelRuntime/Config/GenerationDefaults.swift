import Foundation

/// What a model's authors ship as its generation settings: Hugging Face's
/// `generation_config.json` beside `config.json`, or a GGUF file's `general.sampling.*` keys.
/// decograph honours the end-of-sequence list (every run stops at any of them) and takes the
/// sampling values as the defaults of a `sample` node's parameters the graph does not write —
/// the way transformers' `generate()` and llama.cpp's samplers use them. `do_sample` is not read:
/// whether a run samples is the graph's structure (`sample` with a temperature, or a greedy
/// graph), not a flag beside the weights.
public struct GenerationDefaults: Sendable, Equatable {
    /// End-of-sequence token ids (`eos_token_id`, an id or a list).
    public var eosTokenIDs: [Int32] = []
    /// Sampling defaults by the graph's parameter names: `temperature`, `top_k`, `top_p`,
    /// `min_p`, `typical_p`, `epsilon_cutoff`, `eta_cutoff`, `repetition_penalty`.
    public var sampling: [String: Double] = [:]
    /// Where they came from (a file path, or `path#general.sampling`), for the notes a run prints.
    public var source: String?

    /// No defaults.
    public init() {}

    /// The keys of `generation_config.json` read as sampling defaults, by graph parameter name.
    static let huggingFaceKeys = ["temperature": "temperature", "top_k": "top_k", "top_p": "top_p",
                                  "min_p": "min_p", "typical_p": "typical_p", "epsilon_cutoff": "epsilon_cutoff",
                                  "eta_cutoff": "eta_cutoff", "repetition_penalty": "repetition_penalty"]
    /// The GGUF metadata keys read as sampling defaults (llama.cpp's names), by graph parameter name.
    static let ggufKeys = ["temperature": "general.sampling.temp", "top_k": "general.sampling.top_k",
                           "top_p": "general.sampling.top_p", "min_p": "general.sampling.min_p",
                           "repetition_penalty": "general.sampling.penalty_repeat"]

    /// Reads `generation_config.json` in `directory`; no file gives no defaults.
    /// - Parameter directory: a model directory.
    /// - Throws: `RuntimeError.badConfig` naming the file and key for a value of the wrong type or
    ///   out of the range the `sample` op accepts.
    public init(directory: String) throws {
        let path = directory + "/generation_config.json"
        guard FileManager.default.fileExists(atPath: path) else { return }
        try MappedFile.requireRegularFile(path)
        guard let data = FileManager.default.contents(atPath: path) else { throw RuntimeError(.io, "\(path): cannot read") }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw RuntimeError(.badConfig, "\(path): not a JSON object")
        }
        let reader = ConfigReader(json: json, path: path)
        eosTokenIDs = try reader.tokenIDs("eos_token_id")
        for (name, key) in Self.huggingFaceKeys {
            // transformers writes null for unset values; ConfigReader treats null as absent.
            guard reader.value(key) != nil else { continue }
            sampling[name] = try Self.checked(name, key: key, path: path) { try reader.number(key, default: nil, allowingZero: true) }
        }
        source = path
    }

    /// Reads `general.sampling.*` from a GGUF file's metadata.
    /// - Parameter file: the file.
    /// - Throws: `RuntimeError.badConfig` naming the key for a non-numeric or out-of-range value.
    init(gguf file: GGUFFile) throws {
        for (name, key) in Self.ggufKeys {
            guard let value = file.metadata[key] else { continue }
            guard let number = value.number else {
                throw RuntimeError(.badConfig, "\(file.path): key '\(key)' must be a number, found a \(value.kind)")
            }
            sampling[name] = try Self.checked(name, key: key, path: file.path) { number }
        }
        if !sampling.isEmpty { source = file.path + "#general.sampling" }
    }

    /// A value checked against the range the `sample` op accepts for the parameter.
    private static func checked(_ name: String, key: String, path: String, _ read: () throws -> Double) throws -> Double {
        let value = try read()
        let ok: Bool
        switch name {
        case "top_k": ok = value >= 0 && value == value.rounded() && value <= Double(Int32.max)
        case "top_p", "typical_p": ok = value > 0 && value <= 1
        case "epsilon_cutoff", "eta_cutoff": ok = value >= 0 && value < 1
        case "min_p": ok = value >= 0 && value <= 1
        case "repetition_penalty": ok = value > 0
        default: ok = value >= 0 && Float(value).isFinite
        }
        guard ok else { throw RuntimeError(.badConfig, "\(path): '\(key)' = \(value) is out of the range the sample op accepts for \(name)") }
        return value
    }
}
