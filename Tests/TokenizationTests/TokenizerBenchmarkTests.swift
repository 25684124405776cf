import Foundation
import Testing
@testable import Tokenization

/// `TokenizerBenchmark` (the harness of `decograph bench tokenizer`): the figures count the text,
/// and the per-document split covers it in line-ended pieces within the size bound.
@Suite struct TokenizerBenchmarkTests {
    /// A text a little over two documents long, of short lines.
    static let text = String(repeating: "def f(x):\n    return x + 1  # é\n", count: 2 * TokenizerBenchmark.documentBytes / 30)

    @Test func documentsCoverTheTextAtLineEnds() {
        let documents = TokenizerBenchmark.splitDocuments(Self.text)
        #expect(documents.count == 3)
        #expect(documents.joined() == Self.text)
        for d in documents {
            #expect(d.utf8.count <= TokenizerBenchmark.documentBytes)
            #expect(d.hasSuffix("\n"))
        }
    }

    @Test func reportCountsTheText() throws {
        let tokenizer = try Tokenizer(directory: TokenizerFixture.root.appendingPathComponent("llama3"))
        let report = TokenizerBenchmark.run(tokenizer: tokenizer, text: Self.text)
        #expect(report.tokens == tokenizer.encode(Self.text, addSpecialTokens: false).count)
        #expect(report.megabytes == Double(Self.text.utf8.count) / 1_000_000)
        #expect(report.documents == 3 && report.streamMatchesDecode)
        #expect(report.decodedMegabytes == report.megabytes)
    }
}
