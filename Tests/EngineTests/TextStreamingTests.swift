import DecographCLI
import Foundation
import Testing
@testable import Engine

/// Text in and out: a fixture model given an 80-character tokenizer (one token per character, no
/// merges; a `Fuse` decoder, since without a decoder tokenizers joins tokens with spaces), so
/// `--prompt` text, streamed text and stop strings run end to end.
@Suite struct TextStreamingTests {
    /// 3 specials + 77 characters = the fixture's vocabulary of 80.
    static let characters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,!?0123456789'-:;()[]{}<>=+*/").map(String.init)

    /// A model directory: the fixture's config and weights, and the character tokenizer.
    static let directory: String = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("text-model-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try! FileManager.default.copyItem(atPath: Fixtures.target + "/config.json", toPath: url.path + "/config.json")
        try! FileManager.default.createSymbolicLink(atPath: url.path + "/model.safetensors",
                                                    withDestinationPath: Fixtures.target + "/model.safetensors")
        let specials = ["<unk>", "<s>", "</s>"]
        var vocab: [String: Int] = [:]
        for (i, token) in (specials + characters.prefix(77)).enumerated() { vocab[token] = i }
        let added = specials.enumerated().map { i, s in
            ["id": i, "content": s, "special": true, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false] as [String: Any]
        }
        let json: [String: Any] = ["version": "1.0", "added_tokens": added, "normalizer": NSNull(), "pre_tokenizer": NSNull(),
                                   "post_processor": NSNull(), "decoder": ["type": "Fuse"],
                                   "model": ["type": "BPE", "vocab": vocab, "merges": [String](), "unk_token": "<unk>"]]
        try! JSONSerialization.data(withJSONObject: json).write(to: url.appendingPathComponent("tokenizer.json"))
        return url.path
    }()

    static func graph(stop: String?) throws -> String {
        let stopField = stop.map { ", stop: [\"\($0)\"]" } ?? ""
        return try RunCommandTests.graphFile("""
        graph: text
        models:
          target: { path: \(directory) }
          draft: { path: \(Fixtures.draft) }
        nodes:
          recall: { op: draft.lookup, tokens: 4 }
          scores: { op: score, model: target, tree: recall }
          pick: { op: sample, from: scores, temperature: 0 }
          accept: { op: verify, from: pick }
        output: accept
        limits: { max_new_tokens: 40, ignore_eos: true\(stopField) }
        """)
    }

    @Test func promptTextStreamsDecodedText() throws {
        let file = try Self.graph(stop: nil)
        let capture = CapturingOutput()
        #expect(DecographCLI.main(["run", file, "--prompt", "hello world, hello"], context: capture.context) == 0, "\(capture.err)")
        let session = try Session(plan: try Fixtures.plan(String(contentsOfFile: file, encoding: .utf8)))
        let tokenizer = try #require(session.tokenizer)
        let result = try session.run(prompt: tokenizer.encode("hello world, hello"))
        #expect(result.tokens.count == 40)
        #expect(capture.out == tokenizer.decode(result.tokens, skipSpecialTokens: true) + "\n")
        #expect(result.text == tokenizer.decode(result.tokens, skipSpecialTokens: true))
    }

    @Test func stopStringEndsTheOutputBeforeIt() throws {
        let plain = try Session(plan: try Fixtures.plan(String(contentsOfFile: try Self.graph(stop: nil), encoding: .utf8)))
        let prompt = try plain.encode("abc abc")
        let full = try plain.run(prompt: prompt).text
        // A stop string taken from the middle of the unstopped output.
        let characters = Array(full)
        try #require(characters.count >= 12)
        let stop = String(characters[8..<11])
        let expected = String(full[..<full.range(of: stop)!.lowerBound])
        let stopped = try Session(plan: try Fixtures.plan(String(contentsOfFile: try Self.graph(stop: stop), encoding: .utf8)))
        var streamed = ""
        let result = try stopped.run(prompt: prompt) { streamed += $0.text }
        #expect(result.finishReason == "stop")
        #expect(result.text == expected)
        #expect(streamed == expected)
    }
}
