import Foundation
import Synchronization
import Testing
@testable import DecographCLI

/// `decograph constrain test` end to end on a small byte-level tokenizer written by the test.
@Suite struct ConstrainCommandTests {
    /// A byte-level BPE `tokenizer.json`: printable ASCII bytes stand for themselves, `Ġ` for space
    /// (GPT-2's byte table), a few merged JSON fragments, and `<|endoftext|>`.
    static func writeTokenizer(to directory: URL) throws {
        var vocab: [String] = (33...126).map { String(UnicodeScalar(UInt8($0))) }
        vocab += ["Ġ", "{\"", "\":", "tr", "tru", "true"]
        let merges = ["{ \"", "\" :", "t r", "tr u", "tru e"].map(jsonString).joined(separator: ", ")
        let entries = vocab.enumerated().map { "\(jsonString($0.element)): \($0.offset)" }.joined(separator: ", ")
        let json = """
            {"added_tokens": [{"id": \(vocab.count), "content": "<|endoftext|>", "special": true}],
             "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
             "decoder": {"type": "ByteLevel"},
             "model": {"type": "BPE", "vocab": {\(entries)}, "merges": [\(merges)]}}
            """
        try json.write(to: directory.appendingPathComponent("tokenizer.json"), atomically: true, encoding: .utf8)
    }

    static func jsonString(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func run(_ arguments: [String]) -> (status: Int32, out: String, err: String) {
        let out = Mutex(""), err = Mutex("")
        let context = CommandContext(out: { s in out.withLock { $0 += s } }, err: { s in err.withLock { $0 += s } })
        let status = DecographCLI.main(arguments, context: context)
        return (status, out.withLock { $0 }, err.withLock { $0 })
    }

    @Test func walksInstancesAndReportsWhereTheyFail() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("constrain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.writeTokenizer(to: dir)
        try #"{"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"], "additionalProperties": false}"#
            .write(to: dir.appendingPathComponent("schema.json"), atomically: true, encoding: .utf8)
        let lines = [#"{"text": "{\"ok\": true}"}"#, #"{"text": "{\"ok\": 1}"}"#, #"{"text": "{\"ok\": true"}"#]
        try lines.joined(separator: "\n").write(to: dir.appendingPathComponent("in.jsonl"), atomically: true, encoding: .utf8)
        let r = Self.run(["constrain", "test", "--tokenizer", dir.path, "--schema", dir.appendingPathComponent("schema.json").path,
                          "--input", dir.appendingPathComponent("in.jsonl").path])
        #expect(r.status == 0, "\(r.err)")
        // BPE: {"  o  k  ":  ␠  true  }  →  7 tokens; in the second, `1` (index 5) is not a boolean; the
        // third is a prefix of a valid document, so it fails only at its end (index 6, where EOS would go).
        #expect(r.out == """
            {"accepted": true, "tokens": 7, "rejected_at": null}
            {"accepted": false, "tokens": 7, "rejected_at": 5}
            {"accepted": false, "tokens": 6, "rejected_at": 6}

            """)
        #expect(r.err.contains("masks: "))
        #expect(r.err.contains("p99"))
    }

    @Test func refusedSchemaExitsWithLocatedError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("constrain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.writeTokenizer(to: dir)
        let schema = dir.appendingPathComponent("schema.json")
        try #"{"properties": {"a": {"not": {"pattern": "x"}}}}"#.write(to: schema, atomically: true, encoding: .utf8)
        let r = Self.run(["constrain", "test", "--tokenizer", dir.path, "--schema", schema.path, "--input", schema.path])
        #expect(r.status == 1)
        #expect(r.err.contains("#/properties/a/not/pattern: error: 'pattern' inside a negation"))
        let usage = Self.run(["constrain", "test", "--tokenizer", dir.path])
        #expect(usage.status == 64)
    }
}
