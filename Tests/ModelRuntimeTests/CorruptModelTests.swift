import Testing
import Foundation
@testable import ModelRuntime

/// Damaged, truncated or mismatched model files give an error naming the file and tensor —
/// never a crash or a huge allocation.
@Suite struct CorruptModelTests {
    /// A valid tiny model directory (copied from the llama-gqa-tied fixture's config) whose
    /// model.safetensors the test then replaces.
    static func modelDirectory() throws -> String {
        let dir = try temporaryDirectory()
        try FileManager.default.copyItem(atPath: Fixtures.root + "/runtime/llama-gqa-tied/config.json", toPath: dir + "/config.json")
        return dir
    }

    static func expectError(_ dir: String, code: RuntimeError.Code, mentions: [String]) {
        do {
            _ = try Model(directory: dir, kvCacheBytes: 1 << 20)
            Issue.record("loading \(dir) succeeded; expected a \(code) error")
        } catch let e as RuntimeError {
            #expect(e.code == code, "\(e)")
            for m in mentions { #expect(e.message.contains(m), "message '\(e.message)' should mention '\(m)'") }
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func headerLengthBeyondFile() throws {
        let dir = try Self.modelDirectory()
        try writeSafetensors(dir + "/model.safetensors", [], lengthOverride: 1 << 40)
        Self.expectError(dir, code: .corruptWeights, mentions: ["model.safetensors", "header length"])
    }

    @Test func headerRunsPastEnd() throws {
        let dir = try Self.modelDirectory()
        try writeSafetensors(dir + "/model.safetensors", [("a", "F32", [2], floatBytes([1, 2]))], lengthOverride: 5000)
        Self.expectError(dir, code: .corruptWeights, mentions: ["model.safetensors", "past the end"])
    }

    @Test func tooShortFile() throws {
        let dir = try Self.modelDirectory()
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
        Self.expectError(dir, code: .corruptWeights, mentions: ["too short"])
    }

    @Test func headerNotJSON() throws {
        let dir = try Self.modelDirectory()
        try writeSafetensors(dir + "/model.safetensors", [], headerOverride: "{not json")
        Self.expectError(dir, code: .corruptWeights, mentions: ["not valid JSON"])
    }

    @Test func truncatedData() throws {
        let dir = try Self.modelDirectory()
        try writeSafetensors(dir + "/model.safetensors", [("model.norm.weight", "F32", [64], floatBytes(Array(repeating: 1, count: 64)))], truncateTo: 100)
        Self.expectError(dir, code: .corruptWeights, mentions: ["model.norm.weight", "truncated"])
    }

    @Test func offsetsDisagreeWithShape() throws {
        let dir = try Self.modelDirectory()
        // 64 floats declared, 10 floats of data.
        let header = "{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[0,40]}}"
        try writeSafetensors(dir + "/model.safetensors", [("x", "F32", [10], floatBytes(Array(repeating: 0, count: 10)))], headerOverride: header)
        Self.expectError(dir, code: .corruptWeights, mentions: ["model.norm.weight", "needs 256 bytes"])
    }

    @Test func hugeShapeIsRejectedWithoutAllocating() throws {
        let dir = try Self.modelDirectory()
        let header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,4]}}"
        try writeSafetensors(dir + "/model.safetensors", [("x", "F32", [1], floatBytes([0]))], headerOverride: header)
        Self.expectError(dir, code: .corruptWeights, mentions: ["'w'", "overflows"])
    }

    @Test func unknownDType() throws {
        let dir = try Self.modelDirectory()
        try writeSafetensors(dir + "/model.safetensors", [("w", "Q4_K", [4], [0, 0, 0, 0])])
        Self.expectError(dir, code: .corruptWeights, mentions: ["'w'", "Q4_K"])
    }

    /// The real fixture's tensors, with one changed by `edit` before writing.
    static func rewrite(_ dir: String, edit: (inout [(String, String, [Int], [UInt8])]) -> Void) throws {
        let source = try SafetensorsFile(path: Fixtures.root + "/runtime/llama-gqa-tied/model.safetensors")
        var tensors = source.tensors.values.sorted { $0.name < $1.name }.map { t in
            (t.name, t.dtypeName, t.shape, Array(UnsafeRawBufferPointer(start: t.data, count: t.elementCount * 4)))
        }
        edit(&tensors)
        try writeSafetensors(dir + "/model.safetensors", tensors)
    }

    @Test func missingTensor() throws {
        let dir = try Self.modelDirectory()
        try Self.rewrite(dir) { $0.removeAll { $0.0 == "model.layers.1.mlp.up_proj.weight" } }
        Self.expectError(dir, code: .tensorMismatch, mentions: ["missing tensor 'model.layers.1.mlp.up_proj.weight'"])
    }

    @Test func wrongShape() throws {
        let dir = try Self.modelDirectory()
        try Self.rewrite(dir) { ts in
            let i = ts.firstIndex { $0.0 == "model.layers.0.self_attn.k_proj.weight" }!
            ts[i].2 = [ts[i].2[1], ts[i].2[0]]
        }
        Self.expectError(dir, code: .tensorMismatch, mentions: ["model.safetensors", "'model.layers.0.self_attn.k_proj.weight'", "config implies [32, 64]"])
    }

    @Test func integerDTypeWhereWeightsBelong() throws {
        let dir = try Self.modelDirectory()
        try Self.rewrite(dir) { ts in
            let i = ts.firstIndex { $0.0 == "model.norm.weight" }!
            ts[i].1 = "I32"
        }
        Self.expectError(dir, code: .tensorMismatch, mentions: ["'model.norm.weight'", "I32"])
    }

    @Test func shardMissingTensorListedInIndex() throws {
        let dir = try temporaryDirectory()
        let src = Fixtures.root + "/runtime/llama-f16-sharded"
        for f in try FileManager.default.contentsOfDirectory(atPath: src) where f != "model.safetensors.index.json" {
            try FileManager.default.copyItem(atPath: src + "/" + f, toPath: dir + "/" + f)
        }
        var index = try String(contentsOfFile: src + "/model.safetensors.index.json", encoding: .utf8)
        index = index.replacingOccurrences(of: "\"lm_head.weight\": \"model-00003-of-00003.safetensors\"", with: "\"lm_head.weight\": \"model-00001-of-00003.safetensors\"")
        try index.write(toFile: dir + "/model.safetensors.index.json", atomically: true, encoding: .utf8)
        Self.expectError(dir, code: .tensorMismatch, mentions: ["model-00001-of-00003.safetensors", "'lm_head.weight'"])
    }

    // MARK: - Corrupted copies of the fixture (generated here, never committed)

    static let fixture = Fixtures.root + "/runtime/llama-gqa-tied"

    /// The fixture's model.safetensors split into its length prefix, header object and data.
    static func fixtureParts() throws -> (header: [String: Any], headerBytes: [UInt8], data: [UInt8]) {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture + "/model.safetensors")))
        let length = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let headerBytes = Array(bytes[8..<(8 + length)])
        let header = try #require(try JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any])
        return (header, headerBytes, Array(bytes[(8 + length)...]))
    }

    /// A model directory holding the fixture's config and a safetensors file with the fixture's
    /// data under `header` (edited by the caller), its length prefix `lengthDelta` off.
    static func directory(header: [String: Any]? = nil, lengthDelta: Int = 0, data: [UInt8]? = nil) throws -> String {
        let dir = try Self.modelDirectory()
        let parts = try fixtureParts()
        let headerBytes = try header.map { [UInt8](try JSONSerialization.data(withJSONObject: $0)) } ?? parts.headerBytes
        var file = withUnsafeBytes(of: UInt64(headerBytes.count + lengthDelta).littleEndian) { Array($0) }
        file += headerBytes + (data ?? parts.data)
        try Data(file).write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
        return dir
    }

    /// The fixture's header with one tensor's `data_offsets` replaced.
    static func header(moving name: String, to offsets: (inout [Int]) -> Void) throws -> [String: Any] {
        var header = try fixtureParts().header
        var entry = try #require(header[name] as? [String: Any])
        var range = try #require(entry["data_offsets"] as? [Int])
        offsets(&range)
        entry["data_offsets"] = range
        header[name] = entry
        return header
    }

    /// The fixture's header, padded with spaces as writers pad it, read with a length one byte
    /// short: the JSON still parses, and every tensor would start one byte early.
    @Test func headerLengthOneByteShort() throws {
        let dir = try Self.directory(lengthDelta: -1)
        Self.expectError(dir, code: .corruptWeights, mentions: ["model.safetensors", "1 trailing bytes"])
    }

    @Test func aliasedOffsets() throws {
        var header = try Self.fixtureParts().header
        let first = try #require(header["model.layers.0.self_attn.q_proj.weight"] as? [String: Any])
        var second = try #require(header["model.layers.0.self_attn.o_proj.weight"] as? [String: Any])
        second["data_offsets"] = first["data_offsets"]
        header["model.layers.0.self_attn.o_proj.weight"] = second
        let dir = try Self.directory(header: header)
        Self.expectError(dir, code: .corruptWeights, mentions: ["overlap", "model.layers.0.self_attn"])
    }

    @Test func overlappingOffsets() throws {
        let header = try Self.header(moving: "model.norm.weight") { $0 = [$0[0] - 4, $0[1] - 4] }
        let dir = try Self.directory(header: header)
        Self.expectError(dir, code: .corruptWeights, mentions: ["'model.norm.weight'", "overlap"])
    }

    /// The tensor whose data comes last in the fixture.
    static func lastTensor() throws -> String {
        let offsets = try fixtureParts().header.compactMapValues { (($0 as? [String: Any])?["data_offsets"] as? [Int])?.first }
        return try #require(offsets.max { $0.value < $1.value }?.key)
    }

    @Test func misalignedOffsets() throws {
        let last = try Self.lastTensor()
        let header = try Self.header(moving: last) { $0 = [$0[0] - 2, $0[1] - 2] }
        let dir = try Self.directory(header: header)
        Self.expectError(dir, code: .corruptWeights, mentions: ["'\(last)'", "not a multiple of its F32 element size 4"])
    }

    @Test func gapBetweenTensors() throws {
        // The last tensor moved 4 bytes on, into 4 bytes appended: in range, aligned, but a hole.
        let parts = try Self.fixtureParts()
        let last = try Self.lastTensor()
        let header = try Self.header(moving: last) { $0 = [$0[0] + 4, $0[1] + 4] }
        let dir = try Self.directory(header: header, data: parts.data + [0, 0, 0, 0])
        Self.expectError(dir, code: .corruptWeights, mentions: ["'\(last)'", "unused"])
    }

    @Test func trailingData() throws {
        let dir = try Self.directory(data: try Self.fixtureParts().data + [0, 0, 0, 0, 0, 0, 0, 0])
        Self.expectError(dir, code: .corruptWeights, mentions: ["8 trailing bytes"])
    }

    /// The fixture's config.json with `edit` applied, beside the fixture's weights.
    static func directory(config edit: (inout [String: Any]) -> Void) throws -> String {
        let dir = try temporaryDirectory()
        let data = try Data(contentsOf: URL(fileURLWithPath: fixture + "/config.json"))
        var config = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try FileManager.default.copyItem(atPath: fixture + "/model.safetensors", toPath: dir + "/model.safetensors")
        return dir
    }

    @Test func fewerLayersThanTheFileHolds() throws {
        let dir = try Self.directory { $0["num_hidden_layers"] = 1 }
        Self.expectError(dir, code: .tensorMismatch, mentions: ["num_hidden_layers is 1", "'model.layers.1.", "up to 1"])
    }

    /// A JSON value written as text, decoded as config.json's reader decodes it.
    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
    }

    /// A value of the wrong JSON type is refused by key, never replaced by the default.
    @Test(arguments: [
        ("hidden_size", "\"64\"", "'hidden_size' must be a positive integer, found the string \"64\""),
        ("num_hidden_layers", "true", "'num_hidden_layers' must be a positive integer, found the boolean true"),
        ("rms_norm_eps", "\"1e-5\"", "'rms_norm_eps' must be a finite positive number, found the string \"1e-5\""),
        ("tie_word_embeddings", "1", "'tie_word_embeddings' must be true or false, found 1"),
        ("eos_token_id", "\"2\"", "'eos_token_id' must be a token id or a list of token ids"),
        ("model_type", "7", "'model_type' must be a string, found 7"),
        ("mlp_bias", "\"no\"", "'mlp_bias' must be true or false"),
    ])
    func wronglyTypedValue(key: String, value: String, message: String) throws {
        let decoded = try Self.json(value)
        let dir = try Self.directory { $0[key] = decoded }
        Self.expectError(dir, code: .badConfig, mentions: ["config.json", message])
    }

    /// A rope factor that is zero, negative or not a number is refused at load, by name: it
    /// would divide the rotary frequencies by zero or flip them, and decode garbage.
    @Test(arguments: [
        ("{\"rope_type\": \"linear\", \"factor\": 0}", "'rope_parameters.factor' must be a finite positive number, found 0"),
        ("{\"rope_type\": \"linear\", \"factor\": -2}", "'rope_parameters.factor' must be a finite positive number, found -2"),
        ("{\"rope_type\": \"linear\", \"factor\": \"inf\"}", "'rope_parameters.factor' must be a finite positive number, found the string \"inf\""),
        ("{\"rope_type\": \"linear\"}", "missing 'rope_parameters.factor' (rope scaling 'linear' needs it)"),
        ("{\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 4, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 64}",
         "'high_freq_factor' (4.0) must exceed 'low_freq_factor' (4.0)"),
        ("{\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 1, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 0}",
         "'rope_parameters.original_max_position_embeddings' must be a finite positive number, found 0"),
        ("{\"rope_type\": \"default\", \"rope_theta\": -1}", "'rope_parameters.rope_theta' must be a finite positive number, found -1"),
    ])
    func badRopeParameters(parameters: String, message: String) throws {
        let decoded = try Self.json(parameters)
        let dir = try Self.directory { $0["rope_parameters"] = decoded }
        Self.expectError(dir, code: .badConfig, mentions: ["config.json", message])
    }

    /// A named pipe where a model file belongs is refused at once, by path — opening it for
    /// reading would wait for a writer forever.
    @Test(arguments: ["model.safetensors", "config.json"])
    func namedPipeIsRefusedNotOpened(_ file: String) throws {
        let dir = try Self.directory { _ in }
        try FileManager.default.removeItem(atPath: dir + "/" + file)
        #expect(mkfifo(dir + "/" + file, 0o600) == 0)
        Self.expectError(dir, code: .io, mentions: [dir + "/" + file, "named pipe (FIFO)", "regular files"])
    }

    @Test(arguments: [
        ("{\"model_type\": \"gpt2\", \"hidden_size\": 8}", "unsupported model_type 'gpt2'"),
        ("{\"model_type\": \"llama\", \"hidden_size\": 64}", "missing 'intermediate_size'"),
        ("{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 96, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 3, \"vocab_size\": 80}", "multiple of num_key_value_heads"),
        ("{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 96, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 80, \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}}", "unsupported rope scaling type 'yarn'"),
        ("{\"model_type\": \"llama\", \"hidden_size\": -3}", "'hidden_size' must be a positive integer"),
        ("[1, 2]", "not a JSON object"),
    ])
    func badConfig(json: String, message: String) throws {
        let dir = try temporaryDirectory()
        try json.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        do {
            _ = try ModelConfig(contentsOf: dir + "/config.json")
            Issue.record("config accepted: \(json)")
        } catch let e as RuntimeError {
            #expect(e.message.contains(message), "\(e.message)")
            #expect(e.message.contains("config.json"))
        }
    }
}

/// KV-cache bookkeeping: memory limit, block sharing, partial-depth guard, bad input.
@Suite struct KVCacheTests {
    @Test func memoryLimitIsAClearError() throws {
        let model = try Model(directory: Fixtures.root + "/runtime/llama-gqa-tied", kvCacheBytes: 64 << 10)
        let capacity = model.cache.blockCount * model.cache.blockSize
        let seq = model.makeSequence()
        #expect(throws: RuntimeError.self) {
            _ = try model.forward([ForwardItem(sequence: seq, tokens: Array(repeating: 1, count: capacity + 1), outputs: .none)])
        }
        #expect(seq.length == 0, "a failed call leaves the sequence as it was")
        _ = try model.forward([ForwardItem(sequence: seq, tokens: Array(repeating: 1, count: capacity), outputs: .none)])
        #expect(model.cache.blocksInUse == model.cache.blockCount)
        seq.truncate(to: 0)
        #expect(model.cache.blocksInUse == 0)
    }

    @Test func forkSharesBlocksUntilWritten() throws {
        let model = try Model(directory: Fixtures.root + "/runtime/llama-gqa-tied", kvCacheBytes: 4 << 20)
        let a = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: a, tokens: Array(repeating: 3, count: 20), outputs: .none)])
        let used = model.cache.blocksInUse
        let b = a.fork()
        #expect(model.cache.blocksInUse == used)
        _ = try model.forward([ForwardItem(sequence: b, tokens: [4], outputs: .none)])
        #expect(model.cache.blocksInUse == used + 1, "only the partly filled last block is copied")
        _ = b
    }

    @Test func partialDepthGuard() throws {
        let model = try Model(directory: Fixtures.root + "/runtime/llama-gqa-tied", kvCacheBytes: 4 << 20)
        let seq = model.makeSequence()
        _ = try model.forward([ForwardItem(sequence: seq, tokens: [1, 2, 3], outputs: .none)])
        let shallow = try model.forward([ForwardItem(sequence: seq, tokens: [4, 5])], depth: 1)[0]
        #expect(shallow.rows == 2)
        #expect(seq.fullLength == 3 && seq.length == 5)
        #expect(throws: RuntimeError.self) { try model.forward([ForwardItem(sequence: seq, tokens: [6])]) }
        seq.truncate(to: 3)
        let full = try model.forward([ForwardItem(sequence: seq, tokens: [4])])[0]
        let reference = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: [1, 2, 3, 4], outputs: .last)])[0]
        #expect(relativeError(full.row(0), reference.row(0)) <= 1e-5)
        // Depth = all layers is the full model.
        let allLayers = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: [1, 2, 3, 4], outputs: .last)], depth: model.config.layerCount)[0]
        #expect(relativeError(allLayers.row(0), reference.row(0)) == 0)
    }

    @Test func badInputs() throws {
        let model = try Model(directory: Fixtures.root + "/runtime/llama-gqa-tied", kvCacheBytes: 4 << 20)
        let seq = model.makeSequence()
        #expect(throws: RuntimeError.self) { try model.forward([ForwardItem(sequence: seq, tokens: [80])]) }
        #expect(throws: RuntimeError.self) { try model.forward([ForwardItem(sequence: seq, tokens: [-1])]) }
        #expect(throws: RuntimeError.self) { try model.forward([ForwardItem(sequence: seq, tokens: [1, 2], parents: [-1, 1])]) }
        #expect(throws: RuntimeError.self) { try model.forward([ForwardItem(sequence: seq, tokens: [1], parents: [])]) }
        #expect(throws: RuntimeError.self) { try model.forward([ForwardItem(sequence: seq, tokens: [1]), ForwardItem(sequence: seq, tokens: [2])]) }
        #expect(throws: RuntimeError.self) { try model.forward([ForwardItem(sequence: seq, tokens: [1])], depth: 0) }
        #expect(seq.length == 0)
    }
}
