import Foundation
import Testing
@testable import DecographCLI

/// `decograph tokenize` prints what the tokenizer produces; the expected ids come from the
/// Hugging Face fixtures (tools/oracle/make_tokenizer_fixtures.py).
@Suite struct TokenizeCommandTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/tokenizers")

    /// The fixture's (string, ids without specials) of line `index`, and the family's prefix ids.
    static func fixture(_ family: String, line index: Int) throws -> (String, [Int], [Int]) {
        func line(_ url: URL) throws -> Any {
            let text = try String(contentsOf: url, encoding: .utf8)
            let l = text.split(separator: "\n", omittingEmptySubsequences: false)[index]
            return try JSONSerialization.jsonObject(with: Data(l.utf8), options: [.fragmentsAllowed])
        }
        let s = try line(fixtures.appendingPathComponent("strings.jsonl")) as! String
        let ids = (try line(fixtures.appendingPathComponent("\(family)/expected.jsonl")) as! [String: Any])["ids"] as! [Int]
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("\(family)/meta.json"))) as! [String: Any]
        return (s, ids, meta["special_prefix"] as! [Int])
    }

    @Test(arguments: [("llama3", 7), ("llama2", 7), ("gpt2", 6)])
    func idsMatchTheFixture(family: String, line: Int) throws {
        let (text, ids, prefix) = try Self.fixture(family, line: line)
        let dir = Self.fixtures.appendingPathComponent(family).path
        let out = CapturingOutput()
        #expect(DecographCLI.main(["tokenize", "--tokenizer", dir, "--ids", text], context: out.context) == 0)
        #expect(out.out == (prefix + ids).map(String.init).joined(separator: " ") + "\n")
        let plain = CapturingOutput()
        #expect(DecographCLI.main(["tokenize", "--tokenizer", dir, "--no-special", "--json", text], context: plain.context) == 0)
        let object = try JSONSerialization.jsonObject(with: Data(plain.out.utf8)) as! [String: Any]
        #expect(object["ids"] as? [Int] == ids)
    }

    @Test func missingTokenizerIsAFailureNotACrash() {
        let out = CapturingOutput()
        #expect(DecographCLI.main(["tokenize", "--tokenizer", "/nonexistent", "x"], context: out.context) == 1)
        #expect(out.err.contains("tokenizer.json"))
        #expect(DecographCLI.main(["tokenize", "x"], context: out.context) == 64)
    }
}
