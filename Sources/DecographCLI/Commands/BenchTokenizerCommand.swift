import Foundation
import Tokenization

extension CommandSpec {
    /// `decograph bench tokenizer`: encode/decode throughput on one thread.
    static let benchTokenizer = CommandSpec(
        "tokenizer",
        abstract: "Measure tokenizer encode and decode throughput on one thread.",
        discussion: """
            Rates are MB per CPU-second of the process (the work runs on one thread), so a busy \
            machine does not distort them. Encodes a text (default: about 10 MB of the CPython standard library sources on this \
            machine, concatenated in path order) with a tokenizer (default: the Llama-3-style fixture \
            tokenizer of the test suite), first with an empty word cache, then again; then decodes \
            the text again cut into documents of at most 64 KB (at line ends), one encode call each; \
            then decodes the ids in one call and through the streaming detokenizer. With --baseline, prints the \
            ratio to another tokenizer's MB/s on the same text (tools/oracle/bench_hf_tokenizer.py \
            measures Hugging Face tokenizers).
            """,
        options: [
            .value("tokenizer", "DIR", help: "Directory holding tokenizer.json (default: the llama3 fixture)."),
            .value("text", "FILE", help: "UTF-8 text to encode (default: ~10 MB of CPython stdlib sources)."),
            .value("megabytes", "N", help: "Size of the default text in MB (default 10)."),
            .value("baseline", "MBPS", help: "Another tokenizer's encode MB/s on the same text, to print the ratio."),
            .flag("json", help: "Print the figures as one JSON object."),
        ]
    ) { args, context in
        let megabytes = try args.int("megabytes", in: 1...1000) ?? 10
        let tokenizerDir = try args.value("tokenizer").map { URL(fileURLWithPath: $0) } ?? defaultBenchTokenizer()
        let text: String
        if let path = args.value("text") {
            guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("Cannot read '\(path)'.") }
            guard let t = TextInput.utf8(data) else { throw CommandFailure("'\(path)' is not valid UTF-8.") }
            text = t
        } else {
            text = try TokenizerBenchmark.defaultText(bytes: megabytes * 1_000_000)
        }
        let baseline = try args.double("baseline")
        let tokenizer = try Tokenizer(directory: tokenizerDir)
        let r = TokenizerBenchmark.run(tokenizer: tokenizer, text: text) { context.progress($0) }
        context.endProgress()
        var figures: [(String, Double)] = [("text_mb", r.megabytes), ("tokens", Double(r.tokens))]
        figures.append(("encode_mb_per_s", r.encodeRate))
        figures.append(("encode_warm_mb_per_s", r.warmRate))
        figures.append(("encode_documents_mb_per_s", r.documentRate))
        figures.append(("decode_mb_per_s", r.decodeRate))
        figures.append(("streaming_decode_mb_per_s", r.streamRate))
        if let baseline {
            figures.append(("baseline_mb_per_s", baseline))
            figures.append(("encode_ratio_to_baseline", r.encodeRate / baseline))
        }
        if args.flag("json") {
            let body = figures.map { "\"\($0.0)\": \(String(format: "%.4f", $0.1))" }.joined(separator: ", ")
            context.print("{\(body), \"tokenizer\": \(tokenizerDir.path.debugDescription)}")
        } else {
            context.print("tokenizer: \(tokenizerDir.path)")
            context.print(String(format: "text: %.2f MB, %d tokens (%.2f bytes/token)", r.megabytes, r.tokens, r.megabytes * 1e6 / Double(max(1, r.tokens))))
            context.print(String(format: "encode (one thread, empty cache): %8.2f MB/s", r.encodeRate))
            context.print(String(format: "encode (one thread, warm cache):  %8.2f MB/s", r.warmRate))
            context.print(String(format: "encode (one thread, %d documents ≤ %d KB): %8.2f MB/s",
                                 r.documents, TokenizerBenchmark.documentBytes / 1000, r.documentRate))
            context.print(String(format: "decode (one call):                %8.2f MB/s", r.decodeRate))
            context.print(String(format: "decode (streaming, per token):    %8.2f MB/s  (%.2f× of one call)",
                                 r.streamRate, r.decodeSeconds / r.streamSeconds))
            if let baseline {
                context.print(String(format: "encode / baseline (%.2f MB/s):      %8.2f×", baseline, r.encodeRate / baseline))
            }
        }
        if !r.streamMatchesDecode { throw CommandFailure("Streaming decode differs from full decode.") }
        return 0
    }
}

/// The repository's llama3 fixture tokenizer: next to the working directory, else next to this
/// source file (a development build).
func defaultBenchTokenizer() throws -> URL {
    let relative = "Tests/Fixtures/tokenizers/llama3"
    let candidates = [
        URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relative),
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(relative),
    ]
    for c in candidates where FileManager.default.fileExists(atPath: c.appendingPathComponent("tokenizer.json").path) {
        return c
    }
    throw CommandFailure("No default tokenizer found (looked for \(relative)); pass --tokenizer DIR.")
}
