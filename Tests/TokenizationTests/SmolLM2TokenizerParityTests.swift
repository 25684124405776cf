import Engine
import Foundation
import Support
import Testing
import Tokenization

/// The tokenizer of a real GGUF (SmolLM2-135M-Instruct, Q4_1, 49,152 tokens, pre-tokenizer
/// `smollm`) against llama.cpp's ids on 5,500 strings (tools/oracle/make_smollm2_tokenizer_parity.py).
/// Runs when scripts/fetch-model.sh has put the file in the cache.
@Suite struct SmolLM2TokenizerParityTests {
    @Test(.enabled(if: ModelCache.has(ModelCache.smolLM2), "needs scripts/fetch-model.sh"))
    func idsMatchLlamaCpp() throws {
        let tokenizer = try #require(try TokenizerLoader.load(at: ModelCache.smolLM2.path))
        let rows = try TokenizerFixture.jsonLines(GGUFTokenizerTests.directory.appendingPathComponent("smollm2-expected.jsonl.gz"))
        var failures: [String] = []
        for row in rows {
            let o = row as! [String: Any]
            let text = o["text"] as! String
            let expected = (o["ids"] as! [Any]).map { Int32(($0 as! NSNumber).intValue) }
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            if ids != expected { failures.append("\(text.debugDescription): \(ids) != \(expected)") }
            if tokenizer.decode(ids) != text { failures.append("\(text.debugDescription) decodes to \(tokenizer.decode(ids).debugDescription)") }
        }
        #expect(rows.count >= 5000)
        #expect(failures.isEmpty, "\(failures.count) of \(rows.count) differ, first: \(failures.prefix(3))")
    }
}
