import Engine
import Foundation
import Support
import Testing
@testable import Tokenization

/// The tokenizer of a real GGUF (SmolLM2-135M-Instruct, Q4_1, 49,152 tokens, pre-tokenizer
/// `smollm`) against llama.cpp's ids on 5,500 strings (tools/oracle/make_smollm2_tokenizer_parity.py).
/// Runs when scripts/fetch-model.sh has put the file in the cache.
@Suite struct SmolLM2TokenizerParityTests {
    @Test(.enabled(if: ModelCache.has(ModelCache.smolLM2), "needs scripts/fetch-model.sh"))
    func idsMatchLlamaCpp() throws {
        let tokenizer = try #require(try TokenizerLoader.load(at: ModelCache.smolLM2.path))
        let rows = try TokenizerFixture.jsonLines(GGUFTokenizerTests.directory.appendingPathComponent("smollm2-expected.jsonl.gz"))
        // Bytes no token of this vocabulary stands for alone: text holding them loses them in
        // llama.cpp too (it drops a byte it finds no token for), so it cannot decode back.
        let single = Set(tokenizer.tokenBytesTable.filter { $0.count == 1 }.map { $0[0] })
        var failures: [String] = []
        var decodeFailures: [String] = []
        var decoded = 0
        for row in rows {
            let o = row as! JSONObject
            let text = o.value("text") as! String
            let expected = (o.value("ids") as! [Any]).map { Int32(truncating: $0 as! NSNumber) }
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            if ids != expected { failures.append("\(text.debugDescription): \(ids) != \(expected)") }
            guard text.utf8.allSatisfy(single.contains) else { continue }
            decoded += 1
            if tokenizer.decode(ids) != text { decodeFailures.append(text.debugDescription) }
        }
        #expect(rows.count >= 5000)
        #expect(failures.isEmpty, "\(failures.count) of \(rows.count) differ, first: \(failures.prefix(3))")
        #expect(decoded >= 4000)
        #expect(decodeFailures.isEmpty, "\(decodeFailures.count) of \(decoded) do not decode back, first: \(decodeFailures.prefix(3))")
    }
}
