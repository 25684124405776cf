import Engine
import Foundation
import Testing
@testable import Tokenization

/// Tokenizers read from GGUF metadata against llama.cpp: the fixtures of
/// tools/oracle/make_gguf_tokenizer_fixtures.py (tokenizer-only GGUF files converted from the
/// tokenizer.json fixtures, one per pre-tokenizer name, and two SentencePiece ones) with the ids
/// `llama-tokenize` gave for each string.
@Suite struct GGUFTokenizerTests {
    static let directory = TokenizerFixture.root.appendingPathComponent("gguf")

    struct Case: Sendable {
        var text: String
        var special: Bool
        var ids: [Int32]
    }

    /// The expected ids by file.
    static let cases: [String: [Case]] = {
        guard let lines = try? TokenizerFixture.jsonLines(directory.appendingPathComponent("expected.jsonl.gz")) else { return [:] }
        var byFile: [String: [Case]] = [:]
        for line in lines {
            let o = line as! JSONObject
            let files = o.value("ids") as! JSONObject
            for (file, list) in zip(files.keys, files.values) {
                let ids = (list as! [Any]).map { Int32(truncating: $0 as! NSNumber) }
                byFile[file, default: []].append(Case(text: o.value("text") as! String, special: o.value("special") as! Bool, ids: ids))
            }
        }
        return byFile
    }()

    static let files = cases.keys.sorted()

    static func load(_ file: String) throws -> Tokenizer {
        try #require(try TokenizerLoader.load(at: directory.appendingPathComponent(file).path))
    }

    @Test func everyFixtureFileHasCases() {
        // 20 byte-level files (one per recipe or named alias) and 2 SentencePiece ones.
        #expect(Self.files.count == 22)
        #expect(Self.cases.values.allSatisfy { $0.count >= 400 })
    }

    @Test(arguments: files)
    func idsMatchLlamaCpp(file: String) throws {
        let tokenizer = try Self.load(file)
        var failures: [String] = []
        for c in Self.cases[file] ?? [] {
            let ids = tokenizer.encode(c.text, addSpecialTokens: c.special)
            if ids != c.ids { failures.append("\(c.text.debugDescription): \(ids) != \(c.ids)") }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(Self.cases[file]?.count ?? 0) differ, first: \(failures.prefix(3))")
    }

    /// Decoding gives the text back, and the streaming decoder the same text as a full decode:
    /// byte-level vocabularies for every string, SentencePiece for strings without special tokens
    /// (after one, llama.cpp adds a `▁` the text did not have) and without a `▁` of their own
    /// (which SentencePiece decodes as a space).
    @Test(arguments: ["smollm.gguf", "llama-bpe.gguf", "llama-spm.gguf", "llama-spm-no-prefix.gguf"])
    func decodingRoundTrips(file: String) throws {
        let tokenizer = try Self.load(file)
        var failures: [String] = []
        var checked = 0
        for c in Self.cases[file] ?? [] where !c.special {
            let ids = tokenizer.encode(c.text, addSpecialTokens: false)
            if file.contains("spm"), c.text.contains("▁") || ids.contains(where: { tokenizer.addedByID[Int($0)] != nil }) { continue }
            checked += 1
            let decoded = tokenizer.decode(ids)
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            var streamed = ""
            for id in ids { streamed += stream.feed(id) }
            streamed += stream.finish()
            if decoded != c.text || streamed != decoded {
                failures.append("\(c.text.debugDescription): decoded \(decoded.debugDescription), streamed \(streamed.debugDescription)")
            }
        }
        #expect(checked >= 300)
        #expect(failures.isEmpty, "\(failures.count) of \(checked) differ, first: \(failures.prefix(3))")
    }

    @Test func byteFallbackAndSpaceMarkerDecode() throws {
        let tokenizer = try Self.load("llama-spm.gguf")
        // "ꙮ" (U+A66E) is in no fixture piece: it becomes its three byte tokens.
        let ids = tokenizer.encode("aꙮ b", addSpecialTokens: false)
        let bytes = ["<0xEA>", "<0x99>", "<0xAE>"].map { tokenizer.tokenID($0)! }
        #expect(bytes.allSatisfy(ids.contains))
        #expect(tokenizer.decode(ids) == "aꙮ b")
        #expect(tokenizer.encode("x", addSpecialTokens: true).first == tokenizer.bosTokenID)
    }

    @Test func specialTokensSplitLongestFirst() {
        // llama.cpp takes "BCD" before "AB" although "AB" starts further left.
        let partition = SpecialTokenPartition(tokens: [("AB", 1), ("BCD", 2)])
        let pieces = partition.split(Array("xABCDAB".utf8)).map { ($0.range, $0.id) }
        #expect(pieces.map(\.0) == [0..<2, 2..<5, 5..<7])
        #expect(pieces.map(\.1) == [nil, 2, 1])
    }

    @Test(arguments: LlamaCppPreTokenizer.supportedNames)
    func everySupportedNameBuilds(name: String) throws {
        let pre = try #require(LlamaCppPreTokenizer(name: name))
        let text = Array("Hello, world 12345 ‘quoted’ ٣٤ 你好\n\n  end".utf8)
        let ranges = text.withUnsafeBufferPointer { pre.split($0) }
        // The words tile the text.
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == text.count)
        #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && !$0.isEmpty })
    }

    // MARK: - Bad metadata

    static func metadata(model: String = "gpt2", tokens: [String] = ["a", "b", "ab", "c"]) -> GGUFTokenizerMetadata {
        var m = GGUFTokenizerMetadata(file: "bad.gguf", model: model, tokens: tokens)
        m.preTokenizer = "gpt-2"
        m.merges = ["a b"]
        return m
    }

    static func error(_ m: GGUFTokenizerMetadata) -> TokenizerError? {
        do {
            _ = try Tokenizer(gguf: m)
            return nil
        } catch {
            return error as? TokenizerError
        }
    }

    @Test func goodMetadataLoads() throws {
        let tokenizer = try Tokenizer(gguf: Self.metadata())
        #expect(tokenizer.encode("abc", addSpecialTokens: false) == [2, 3])
    }

    @Test func unknownModelNamesKeyAndChoices() throws {
        let e = try #require(Self.error(Self.metadata(model: "t5")))
        #expect(e.code == .unsupported && e.jsonPath == "tokenizer.ggml.model")
        #expect(e.description.contains("bad.gguf") && e.description.contains("gpt2, llama"))
    }

    @Test func unknownPreNamesKeyAndChoices() throws {
        var m = Self.metadata()
        m.preTokenizer = "no-such-pre"
        let e = try #require(Self.error(m))
        #expect(e.code == .unsupported && e.jsonPath == "tokenizer.ggml.pre")
        #expect(e.message.contains("'no-such-pre'") && e.message.contains("smollm") && e.message.contains("llama-bpe"))
    }

    @Test func mergeOfUnknownTokenIsLocated() throws {
        var m = Self.metadata()
        m.merges = ["a b", "b zz"]
        let e = try #require(Self.error(m))
        #expect(e.jsonPath == "tokenizer.ggml.merges[1]" && e.message.contains("\"zz\""))
        m.merges = ["ab"]
        #expect(Self.error(m)?.jsonPath == "tokenizer.ggml.merges[0]")
        m.merges = nil
        #expect(Self.error(m)?.jsonPath == "tokenizer.ggml.merges")
    }

    @Test func mismatchedArrayLengthsAreLocated() throws {
        var m = Self.metadata()
        m.tokenTypes = [1, 1]
        let e = try #require(Self.error(m))
        #expect(e.jsonPath == "tokenizer.ggml.token_type" && e.message.contains("2 entries for the 4 tokens"))
        m = Self.metadata(model: "llama")
        m.scores = [0, 0, 0]
        #expect(Self.error(m)?.jsonPath == "tokenizer.ggml.scores")
    }

    @Test func badTokensAndIDsAreLocated() throws {
        #expect(Self.error(Self.metadata(tokens: []))?.jsonPath == "tokenizer.ggml.tokens")
        #expect(Self.error(Self.metadata(tokens: ["a", "b", "ab", "a"]))?.jsonPath == "tokenizer.ggml.tokens[3]")
        var m = Self.metadata()
        m.eosTokenID = 99
        #expect(Self.error(m)?.jsonPath == "tokenizer.ggml.eos_token_id")
        m = Self.metadata()
        m.addBOS = true
        #expect(Self.error(m)?.jsonPath == "tokenizer.ggml.add_bos_token")
    }

    @Test func fileWithoutTokensNamesTheKey() throws {
        // A model fixture that records only its vocabulary size has no tokenizer: it runs from ids.
        let path = TokenizerFixture.root.deletingLastPathComponent().appendingPathComponent("gguf/qwen2-bias-f32.gguf").path
        #expect(try TokenizerLoader.load(at: path) == nil)
        #expect {
            _ = try TokenizerLoader.require(at: path)
        } throws: { error in
            (error as? TokenizerError)?.description.contains("--prompt-ids") == true
        }
        // A model name without its token list is damaged metadata.
        let noTokens = Self.directory.appendingPathComponent("broken-no-tokens.gguf").path
        #expect {
            _ = try TokenizerLoader.load(at: noTokens)
        } throws: { error in
            (error as? TokenizerError)?.jsonPath == "tokenizer.ggml.tokens"
        }
    }
}
