import Testing
import Foundation
import Kernels
@testable import ModelRuntime

/// GGUF loading: logits parity with the safetensors directories the fixtures were converted from
/// (tools/oracle/make_gguf_fixtures.py, which writes them the way llama.cpp's converter does,
/// Q/K permutation included), and damaged files as located errors, never a crash.
@Suite struct GGUFTests {
    /// (GGUF fixture, the runtime fixture it was converted from).
    static let cases: [(String, String)] = [
        ("llama-gqa-tied-f32.gguf", "llama-gqa-tied"),
        ("llama-f16.gguf", "llama-f16-sharded"),
        ("llama-bf16.gguf", "llama-bf16"),
        ("llama-head-dim-f32.gguf", "llama-head-dim"),
        ("qwen2-bias-f32.gguf", "qwen2-bias"),
        ("qwen2-bias-as-llama-f32.gguf", "qwen2-bias"),
    ]
    static let root = Fixtures.root + "/gguf/"

    static func load(_ path: String) throws -> Model {
        try Model(directory: path, kvCacheBytes: 16 << 20, pool: ComputePool(threadCount: 2), activations: .f32)
    }

    @Test(arguments: cases)
    func configMatchesConfigJSON(_ gguf: String, _ directory: String) throws {
        let fromGGUF = try ModelConfig(gguf: try GGUFFile(path: Self.root + gguf))
        var fromJSON = try ModelConfig(contentsOf: Fixtures.root + "/runtime/" + directory + "/config.json")
        #expect(fromGGUF.eosTokenIDs == fromJSON.eosTokenIDs)
        // qwen2-bias's config.json names a bos id of null; the GGUF then has none either.
        fromJSON.bosTokenID = fromGGUF.bosTokenID
        if fromGGUF.modelType != fromJSON.modelType {
            // qwen2-bias-as-llama: a llama whose q/k/v biases (and no o bias) come from its tensors.
            #expect(gguf == "qwen2-bias-as-llama-f32.gguf" && fromGGUF.qkvBias && !fromGGUF.outputBias)
            fromJSON.modelType = fromGGUF.modelType
        }
        #expect(fromGGUF == fromJSON)
    }

    /// Same weights, same kernels: the GGUF model's logits equal the directory model's bitwise,
    /// and so match transformers within the parity tolerance.
    @Test(arguments: cases)
    func logitsMatchSafetensorsDirectory(_ gguf: String, _ directory: String) throws {
        let dir = Fixtures.root + "/runtime/" + directory
        let model = try Self.load(Self.root + gguf)
        let reference = try Self.load(dir)
        for s in try Fixtures.sequences(dir) {
            let out = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: s.tokens)])[0]
            let expected = try reference.forward([ForwardItem(sequence: reference.makeSequence(), tokens: s.tokens)])[0]
            #expect(out.values == expected.values, "\(gguf): logits differ from the safetensors directory's")
            for i in 0..<out.rows {
                let e = relativeError(out.row(i), s.logits[i])
                #expect(e <= ModelParityTests.tolerance, "\(gguf) position \(i): relative error \(e)")
            }
        }
    }

    /// The loader puts llama.cpp's permuted Q/K rows back in Hugging Face order: every Q and K
    /// matrix and bias equals the safetensors one, while the file's own rows do not.
    @Test func queryAndKeyRowsAreUnpermuted() throws {
        let file = try GGUFFile(path: Self.root + "llama-gqa-tied-f32.gguf")
        let config = try ModelConfig(gguf: file)
        let gguf = GGUFWeights(file: file, config: config)
        let hf = try ModelWeights(directory: Fixtures.root + "/runtime/llama-gqa-tied")
        for layer in 0..<config.layerCount {
            for (module, rows) in [("q_proj", config.headCount * config.headDim), ("k_proj", config.kvHeadCount * config.headDim)] {
                let name = "model.layers.\(layer).self_attn.\(module).weight"
                let a = try gguf.matrix(name, rows: rows, columns: config.hiddenSize)
                let b = try hf.matrix(name, rows: rows, columns: config.hiddenSize)
                #expect(memcmp(a.base, b.base, a.byteCount) == 0, "\(name) differs after un-permuting")
                let stored = file.tensors[GGUFWeights.ggufName(name)!]!
                #expect(memcmp(stored.data, b.base, a.byteCount) != 0, "\(name) was stored unpermuted; the test proves nothing")
            }
        }
    }

    /// The inverse permutation written from the converter's definition: per head of 4 rows
    /// [x0, x1, y0, y1] are stored as [x0, y0, x1, y1].
    @Test func rowOrderInvertsTheConverterPermutation() {
        #expect(GGUFWeights.unpermutedRowOrder(rows: 8, heads: 2) == [0, 2, 1, 3, 4, 6, 5, 7])
        // Applying the converter's permutation to the HF rows, then reading in this order, is the identity.
        let rows = 24, heads = 3, d = rows / heads
        let converted = (0..<rows).map { g in  // GGUF row g holds HF row h·d + s·d/2 + i for g = h·d + 2i + s
            (g / d) * d + (g % d % 2) * (d / 2) + (g % d) / 2
        }
        #expect(GGUFWeights.unpermutedRowOrder(rows: rows, heads: heads).map { converted[$0] } == Array(0..<rows))
    }

    @Test func namesMapToGGUF() {
        #expect(GGUFWeights.ggufName("model.embed_tokens.weight") == "token_embd.weight")
        #expect(GGUFWeights.ggufName("model.layers.12.self_attn.o_proj.weight") == "blk.12.attn_output.weight")
        #expect(GGUFWeights.ggufName("model.layers.0.self_attn.q_proj.bias") == "blk.0.attn_q.bias")
        #expect(GGUFWeights.ggufName("model.layers.3.post_attention_layernorm.weight") == "blk.3.ffn_norm.weight")
        #expect(GGUFWeights.ggufName("model.layers.x.mlp.up_proj.weight") == nil)
        #expect(GGUFWeights.ggufName("model.layers.1.mlp.fc.weight") == nil)
    }

    @Test func metadataValuesAreRead() throws {
        let file = try GGUFFile(path: Self.root + "llama-gqa-tied-f32.gguf")
        #expect(file.version == 3)
        #expect(file.alignment == GGUFFile.defaultAlignment)
        #expect(file.metadata["general.architecture"] == .string("llama"))
        #expect(file.metadata["llama.attention.layer_norm_rms_epsilon"]?.number.map { Float($0) } == 1e-5)
        guard case .array(let tokens)? = file.metadata["tokenizer.ggml.tokens"] else {
            Issue.record("no token list")
            return
        }
        #expect(tokens.count == 80 && tokens[79] == .string("<t79>"))
        #expect(file.tensors["output.weight"] == nil, "tied embeddings are stored once")
        #expect(file.tensors["blk.1.ffn_down.weight"]?.dims == [96, 64])
    }

    /// Version 2 has the same layout as 3 (3 only added big-endian files).
    @Test func versionTwoIsRead() throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.root + "qwen2-bias-f32.gguf")))
        bytes[4] = 2
        let file = try GGUFFile(path: try Self.write(bytes))
        #expect(file.version == 2)
        #expect(try ModelConfig(gguf: file) == ModelConfig(gguf: try GGUFFile(path: Self.root + "qwen2-bias-f32.gguf")))
    }

    // MARK: - Damaged files

    static func write(_ bytes: [UInt8]) throws -> String {
        let path = try temporaryDirectory() + "/model.gguf"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Opens `bytes` as a model; expects a `code` error mentioning each of `mentions`.
    static func expectError(_ bytes: [UInt8], code: RuntimeError.Code = .corruptWeights, mentions: [String],
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = try write(bytes)
        do {
            _ = try Model(gguf: path, kvCacheBytes: 1 << 20, pool: ComputePool(threadCount: 1))
            Issue.record("loading succeeded; expected a \(code) error", sourceLocation: sourceLocation)
        } catch let e as RuntimeError {
            #expect(e.code == code, "\(e)", sourceLocation: sourceLocation)
            for m in mentions {
                #expect(e.message.contains(m), "message '\(e.message)' should mention '\(m)'", sourceLocation: sourceLocation)
            }
        }
    }

    /// Every truncation of a real file before the end of its last tensor is a located error.
    @Test func everyTruncationIsALocatedError() throws {
        let full = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.root + "qwen2-bias-f32.gguf")))
        let file = try GGUFFile(path: Self.root + "qwen2-bias-f32.gguf")
        let end = file.tensors.values.map { $0.dataOffset + $0.byteCount }.max()!
        // Every byte through the header, metadata and tensor infos; then each tensor boundary and
        // a byte either side of it in the data section.
        var lengths = Set(0...file.dataStart)
        for t in file.tensors.values {
            for edge in [t.dataOffset, t.dataOffset + t.byteCount] { lengths.formUnion([edge - 1, edge, edge + 1]) }
        }
        let path = try Self.write(full)
        // Longest first, so each case is one truncate(2) of the same file.
        for length in lengths.sorted(by: >) where length < end {
            #expect(truncate(path, off_t(length)) == 0)
            do {
                let truncated = try GGUFFile(path: path)
                Issue.record("length \(length): opened with \(truncated.tensors.count) tensors")
            } catch let e as RuntimeError {
                #expect(e.code == .corruptWeights && e.message.contains("byte "), "length \(length): \(e)")
            }
        }
    }

    /// One damaged field of an otherwise valid file, and what the error must say.
    struct Damage: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let mentions: [String]
        let apply: @Sendable (inout GGUFBuilder) -> Void

        init(_ name: String, _ mentions: [String], _ apply: @escaping @Sendable (inout GGUFBuilder) -> Void) {
            testDescription = name
            self.mentions = mentions
            self.apply = apply
        }
    }

    typealias B = GGUFBuilder
    static let damages: [Damage] = [
        Damage("bad magic", ["byte 0", "not a GGUF file", "\"GGML\""]) { $0.magic = Array("GGML".utf8) },
        Damage("version 1", ["byte 4", "version 1 is not supported"]) { $0.version = 1 },
        Damage("future version", ["version 4 is not supported"]) { $0.version = 4 },
        Damage("big-endian", ["big-endian"]) { $0.version = UInt32(3).byteSwapped },
        Damage("absurd tensor count", ["byte 8", "tensor count"]) { $0.tensorCount = 1 << 60 },
        Damage("absurd metadata count", ["byte 16", "metadata count"]) { $0.pairCount = UInt64.max },
        Damage("key length beyond file", ["byte 24", "metadata pair #0", "key name length"]) {
            $0.pairs.insert((B.u64(1 << 50) + Array("k".utf8), []), at: 0)
        },
        Damage("string length beyond file", ["key 'general.name'", "string value length"]) {
            $0.pairs.append(B.pair("general.name", type: 8, B.u64(1 << 40)))
        },
        Damage("array length beyond file", ["key 'tokenizer.ggml.scores'", "array length"]) {
            $0.pairs.append(B.pair("tokenizer.ggml.scores", type: 9, B.u32(6) + B.u64(1 << 61)))
        },
        Damage("unknown value type", ["key 'general.oddity'", "unknown metadata value type 13"]) {
            $0.pairs.append(B.pair("general.oddity", type: 13, [0]))
        },
        Damage("bool byte 2", ["key 'general.flag'", "neither 0 nor 1"]) { $0.pairs.append(B.pair("general.flag", type: 7, [2])) },
        Damage("bool array element 5", ["key 'general.flags'", "element 2"]) {
            $0.pairs.append(B.pair("general.flags", type: 9, B.u32(7) + B.u64(3) + [0, 1, 5]))
        },
        Damage("arrays nested 10 000 deep", ["key 'general.deep'", "nested deeper"]) {
            let level = B.u32(9) + B.u64(1)
            $0.pairs.append(B.pair("general.deep", type: 9, Array(Array(repeating: level, count: 10_000).joined()) + B.u32(0) + B.u64(0)))
        },
        Damage("duplicate key", ["key 'general.architecture'", "duplicate key name (first at byte 24)"]) { $0.pairs.append($0.pairs[0]) },
        Damage("invalid UTF-8 key", ["not valid UTF-8"]) { $0.pairs.append((B.u64(2) + [0xC3, 0x28], B.u32(4) + B.u32(1))) },
        Damage("alignment 24", ["general.alignment", "power of two"]) {
            $0.pairs.append(B.pair("general.alignment", type: 4, B.u32(24)))
        },
        Damage("duplicate tensor", ["tensor 'output_norm.weight'", "duplicate tensor name"]) { $0.tensors[1].name = "output_norm.weight" },
        Damage("5 dimensions", ["tensor 'output_norm.weight'", "5 dimensions"]) { $0.tensors[0].dims = [1, 1, 1, 1, 1] },
        Damage("dimensions overflow", ["tensor 'output_norm.weight'", "overflow"]) { $0.tensors[0].dims = [1 << 40, 1 << 40] },
        // 2^62 elements fit an Int; their 2^64 bytes do not.
        Damage("byte size overflow", ["tensor 'output_norm.weight'", "more bytes than an address holds"]) { $0.tensors[0].dims = [1 << 62] },
        Damage("unknown ggml type", ["tensor 'output_norm.weight'", "unknown ggml type 99"]) { $0.tensors[0].type = 99 },
        // 4 elements, but Q8_0 blocks hold 32.
        Damage("row not whole blocks", ["tensor 'output_norm.weight'", "Q8_0 blocks of 32"]) { $0.tensors[0].type = GGMLType.q8_0.rawValue },
        Damage("offset not aligned", ["tensor 'token_embd.weight'", "alignment 32"]) { $0.tensors[1].offset = 8 },
        Damage("offset past data", ["tensor 'token_embd.weight'", "past the"]) { $0.tensors[1].offset = 1 << 20 },
        Damage("overlapping tensors", ["tensor 'token_embd.weight'", "overlaps tensor 'output_norm.weight'"]) { $0.tensors[1].offset = 0 },
    ]

    /// The undamaged file the table starts from opens, so each error is the damage's.
    @Test func undamagedBuilderFileOpens() throws {
        let file = try GGUFFile(path: try Self.write(GGUFBuilder.minimal().bytes()))
        #expect(file.tensorNames == ["output_norm.weight", "token_embd.weight"])
        #expect(try ModelConfig(gguf: file).vocabularySize == 8)
    }

    @Test(arguments: damages)
    func damagedFieldIsALocatedError(_ damage: Damage) throws {
        var b = GGUFBuilder.minimal()
        damage.apply(&b)
        try Self.expectError(b.bytes(), mentions: ["byte "] + damage.mentions)
    }

    @Test func nestedArraysAndAllScalarTypesAreRead() throws {
        var b = GGUFBuilder.minimal()
        let inner = GGUFBuilder.u32(8) + GGUFBuilder.u64(2) + GGUFBuilder.string("a") + GGUFBuilder.string("bc")
        b.pairs.append(GGUFBuilder.pair("x.nested", type: 9, GGUFBuilder.u32(9) + GGUFBuilder.u64(2) + inner + inner))
        b.pairs.append(GGUFBuilder.pair("x.i8", type: 1, [0xFF]))
        b.pairs.append(GGUFBuilder.pair("x.i16", type: 3, [0xFE, 0xFF]))
        b.pairs.append(GGUFBuilder.pair("x.u64", type: 10, GGUFBuilder.u64(1 << 40)))
        b.pairs.append(GGUFBuilder.pair("x.f64", type: 12, GGUFBuilder.u64(Double(0.25).bitPattern)))
        b.pairs.append(GGUFBuilder.pair("x.i32s", type: 9, GGUFBuilder.u32(5) + GGUFBuilder.u64(2) + GGUFBuilder.u32(7) + GGUFBuilder.u32(UInt32(bitPattern: -3))))
        let file = try GGUFFile(path: try Self.write(b.bytes()))
        guard case .array(let outer)? = file.metadata["x.nested"], case .array(let first) = outer[1] else {
            Issue.record("x.nested is not an array of arrays")
            return
        }
        #expect(outer.count == 2 && first[1] == .string("bc"))
        #expect(file.metadata["x.i8"] == .signed(-1))
        #expect(file.metadata["x.i16"] == .signed(-2))
        #expect(file.metadata["x.u64"] == .unsigned(1 << 40))
        #expect(file.metadata["x.f64"] == .float(0.25))
        guard case .array(let ints)? = file.metadata["x.i32s"] else { Issue.record("x.i32s"); return }
        #expect(ints[0] == .signed(7) && ints[1] == .signed(-3))
    }


    @Test func customAlignmentIsHonoured() throws {
        var b = GGUFBuilder.minimal()
        b.alignment = 64
        b.pairs.append(GGUFBuilder.pair("general.alignment", type: 4, GGUFBuilder.u32(64)))
        b.tensors[1].offset = 64
        b.data = [UInt8](repeating: 0, count: 64 + 4 * 8 * 4)
        let file = try GGUFFile(path: try Self.write(b.bytes()))
        #expect(file.alignment == 64 && file.dataStart % 64 == 0)
        #expect(file.tensors["token_embd.weight"]!.dataOffset == file.dataStart + 64)
    }

    /// A known type decograph has no kernel for is named, with the tensor, when the model asks for it.
    @Test func unsupportedTensorTypeIsNamed() throws {
        var b = GGUFBuilder.minimal()
        b.tensors.append(.init(name: "blk.0.attn_q.weight", dims: [256, 2], type: GGMLType.iq4_XS.rawValue, offset: 160))
        b.data += [UInt8](repeating: 0, count: 2 * 136)
        let file = try GGUFFile(path: try Self.write(b.bytes()))
        let weights = GGUFWeights(file: file, config: try ModelConfig(gguf: file))
        let error = #expect(throws: RuntimeError.self) {
            try weights.matrix("model.layers.0.self_attn.q_proj.weight", rows: 2, columns: 256)
        }
        #expect(error?.message.contains("tensor 'blk.0.attn_q.weight' has ggml type 23 (IQ4_XS), which decograph does not support") == true, "\(String(describing: error))")
        #expect(error?.message.contains("byte ") == true)
    }

    /// Tensors of blocks past `block_count` are refused, not silently dropped.
    @Test func layersBeyondBlockCountAreRefused() throws {
        var b = GGUFBuilder.minimal()
        b.tensors.append(.init(name: "blk.1.attn_norm.weight", dims: [4], type: 0, offset: 160))
        b.data += [UInt8](repeating: 0, count: 16)
        let file = try GGUFFile(path: try Self.write(b.bytes()))
        let weights = GGUFWeights(file: file, config: try ModelConfig(gguf: file))
        let error = #expect(throws: RuntimeError.self) { try weights.checkNoLayers(beyond: 1) }
        #expect(error?.message.contains("block_count is 1") == true && error?.message.contains("'blk.1.attn_norm.weight'") == true)
        #expect(throws: Never.self) { try weights.checkNoLayers(beyond: 2) }
    }

    @Test func missingAndMalformedMetadata() throws {
        var b = GGUFBuilder.minimal()
        b.pairs.removeAll { GGUFBuilder.key(of: $0) == "llama.block_count" }
        try Self.expectError(b.bytes(), code: .badConfig, mentions: ["missing key 'llama.block_count'"])
        b = GGUFBuilder.minimal()
        b.pairs[0] = GGUFBuilder.pair("general.architecture", type: 8, GGUFBuilder.string("gpt2"))
        try Self.expectError(b.bytes(), code: .badConfig, mentions: ["byte 24", "unsupported architecture 'gpt2'"])
        b = GGUFBuilder.minimal()
        b.pairs.append(GGUFBuilder.pair("llama.rope.scaling.type", type: 8, GGUFBuilder.string("yarn")))
        try Self.expectError(b.bytes(), code: .badConfig, mentions: ["llama.rope.scaling.type", "unsupported RoPE scaling 'yarn'"])
        b = GGUFBuilder.minimal()
        b.pairs.removeAll { GGUFBuilder.key(of: $0) == "llama.attention.head_count" }
        b.pairs.append(GGUFBuilder.pair("llama.attention.head_count", type: 5, GGUFBuilder.u32(UInt32(bitPattern: -4))))
        try Self.expectError(b.bytes(), code: .badConfig, mentions: ["llama.attention.head_count", "positive integer"])
    }

    @Test func linearRopeScalingIsRead() throws {
        var b = GGUFBuilder.minimal()
        b.pairs.append(GGUFBuilder.pair("llama.rope.scaling.type", type: 8, GGUFBuilder.string("linear")))
        b.pairs.append(GGUFBuilder.pair("llama.rope.scaling.factor", type: 6, GGUFBuilder.u32(Float(4).bitPattern)))
        let config = try ModelConfig(gguf: try GGUFFile(path: try Self.write(b.bytes())))
        #expect(config.rope.rule == .linear(factor: 4))
    }
}

/// Writes GGUF bytes from parts, so each test damages exactly one field.
struct GGUFBuilder {
    struct Tensor {
        var name: String
        var dims: [UInt64]
        var type: UInt32
        var offset: UInt64
    }

    var magic = Array("GGUF".utf8)
    var version: UInt32 = 3
    var tensorCount: UInt64?
    var pairCount: UInt64?
    /// (encoded key, encoded type + value).
    var pairs: [([UInt8], [UInt8])] = []
    var tensors: [Tensor] = []
    var alignment = 32
    var data: [UInt8] = []

    static func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func u64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func string(_ s: String) -> [UInt8] { u64(UInt64(s.utf8.count)) + Array(s.utf8) }
    static func pair(_ key: String, type: UInt32, _ value: [UInt8]) -> ([UInt8], [UInt8]) { (string(key), u32(type) + value) }
    static func key(of pair: ([UInt8], [UInt8])) -> String { String(decoding: pair.0.dropFirst(8), as: UTF8.self) }

    /// A tiny valid llama file: a 4-wide norm at offset 0 and an 8×4 embedding at offset 32.
    static func minimal() -> GGUFBuilder {
        var b = GGUFBuilder()
        b.pairs = [
            pair("general.architecture", type: 8, string("llama")),
            pair("llama.embedding_length", type: 4, u32(4)),
            pair("llama.feed_forward_length", type: 4, u32(8)),
            pair("llama.block_count", type: 4, u32(1)),
            pair("llama.attention.head_count", type: 4, u32(2)),
            pair("llama.attention.layer_norm_rms_epsilon", type: 6, u32(Float(1e-5).bitPattern)),
            pair("llama.vocab_size", type: 4, u32(8)),
        ]
        b.tensors = [
            Tensor(name: "output_norm.weight", dims: [4], type: 0, offset: 0),
            Tensor(name: "token_embd.weight", dims: [4, 8], type: 0, offset: 32),
        ]
        b.data = [UInt8](repeating: 0, count: 32 + 4 * 8 * 4)
        return b
    }

    func bytes() -> [UInt8] {
        var out = magic + Self.u32(version) + Self.u64(tensorCount ?? UInt64(tensors.count)) + Self.u64(pairCount ?? UInt64(pairs.count))
        for (k, v) in pairs { out += k + v }
        for t in tensors {
            out += Self.string(t.name) + Self.u32(UInt32(t.dims.count))
            for d in t.dims { out += Self.u64(d) }
            out += Self.u32(t.type) + Self.u64(t.offset)
        }
        while out.count % alignment != 0 { out.append(0) }
        return out + data
    }
}
