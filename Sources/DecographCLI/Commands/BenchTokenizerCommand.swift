import Foundation
import Tokenization
#if canImport(Glibc)
import Glibc
#endif

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
            text = try defaultBenchText(bytes: megabytes * 1_000_000)
        }
        let baseline = try args.double("baseline")
        let tokenizer = try Tokenizer(directory: tokenizerDir)
        let mb = Double(text.utf8.count) / 1_000_000

        // CPU time of the process, not wall time: on a shared machine the wall clock also counts
        // time spent waiting for a core. The figures are per CPU-second of one thread (the work
        // is single-threaded), which is what the HF script measures with process_time().
        func time<T>(_ body: () -> T) -> (T, Double) {
            let start = processCPUSeconds()
            let r = body()
            return (r, max(processCPUSeconds() - start, 1e-9))
        }
        context.progress("encoding \(String(format: "%.1f", mb)) MB…")
        let (ids, coldSeconds) = time { tokenizer.encode(text, addSpecialTokens: false) }
        let (_, warmSeconds) = time { tokenizer.encode(text, addSpecialTokens: false) }
        let documents = splitDocuments(text)
        let (_, documentSeconds) = time {
            var total = 0
            for d in documents { total += tokenizer.encode(d, addSpecialTokens: false).count }
            return total
        }
        let (decoded, decodeSeconds) = time { tokenizer.decode(ids) }
        let streamed: (String, Double) = time {
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            var out = ""
            for id in ids { out += stream.feed(id) }
            return out + stream.finish()
        }
        context.endProgress()
        let encodeRate: Double = mb / coldSeconds
        let warmRate: Double = mb / warmSeconds
        let documentRate: Double = mb / documentSeconds
        let decodeRate: Double = Double(decoded.utf8.count) / 1e6 / decodeSeconds
        let streamRate: Double = Double(streamed.0.utf8.count) / 1e6 / streamed.1
        var figures: [(String, Double)] = [("text_mb", mb), ("tokens", Double(ids.count))]
        figures.append(("encode_mb_per_s", encodeRate))
        figures.append(("encode_warm_mb_per_s", warmRate))
        figures.append(("encode_documents_mb_per_s", documentRate))
        figures.append(("decode_mb_per_s", decodeRate))
        figures.append(("streaming_decode_mb_per_s", streamRate))
        if let baseline {
            figures.append(("baseline_mb_per_s", baseline))
            figures.append(("encode_ratio_to_baseline", encodeRate / baseline))
        }
        if args.flag("json") {
            let body = figures.map { "\"\($0.0)\": \(String(format: "%.4f", $0.1))" }.joined(separator: ", ")
            context.print("{\(body), \"tokenizer\": \(tokenizerDir.path.debugDescription)}")
        } else {
            context.print("tokenizer: \(tokenizerDir.path)")
            context.print(String(format: "text: %.2f MB, %d tokens (%.2f bytes/token)", mb, ids.count, mb * 1e6 / Double(max(1, ids.count))))
            context.print(String(format: "encode (one thread, empty cache): %8.2f MB/s", encodeRate))
            context.print(String(format: "encode (one thread, warm cache):  %8.2f MB/s", warmRate))
            context.print(String(format: "encode (one thread, %d documents ≤ %d KB): %8.2f MB/s",
                                 documents.count, documentBytes / 1000, documentRate))
            context.print(String(format: "decode (one call):                %8.2f MB/s", decodeRate))
            context.print(String(format: "decode (streaming, per token):    %8.2f MB/s  (%.2f× of one call)",
                                 streamRate, decodeSeconds / streamed.1))
            if let baseline {
                context.print(String(format: "encode / baseline (%.2f MB/s):      %8.2f×", baseline, encodeRate / baseline))
            }
        }
        if streamed.0 != decoded { throw CommandFailure("Streaming decode differs from full decode.") }
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

/// The first `bytes` bytes of the CPython standard library's `.py` files in path order (the same
/// text `tools/oracle/bench_hf_tokenizer.py` builds), cut at a line end.
func defaultBenchText(bytes: Int) throws -> String {
    let fm = FileManager.default
    let lib = URL(fileURLWithPath: "/usr/lib")
    guard let python = (try? fm.contentsOfDirectory(atPath: lib.path))?
        .filter({ $0.hasPrefix("python3") }).sorted().last else {
        throw CommandFailure("No CPython standard library under /usr/lib to build the default text; pass --text FILE.")
    }
    let root = lib.appendingPathComponent(python)
    var files: [String] = []
    if let walker = fm.enumerator(atPath: root.path) {
        for case let path as String in walker where path.hasSuffix(".py")
            && !path.contains("site-packages") && !path.contains("dist-packages") {
            files.append(path)
        }
    }
    files.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    var out = [UInt8]()
    out.reserveCapacity(bytes + 100_000)
    for f in files {
        guard let data = fm.contents(atPath: root.appendingPathComponent(f).path),
              let text = TextInput.utf8(data) else { continue }
        out += Array(text.utf8)
        if out.count >= bytes { break }
    }
    guard out.count >= bytes else { throw CommandFailure("The CPython sources hold only \(out.count) bytes; pass --text FILE.") }
    var end = bytes
    while end > 0, out[end - 1] != 0x0A { end -= 1 }
    return String(decoding: out[..<end], as: UTF8.self)
}

/// Documents of the per-document figure: at most this many UTF-8 bytes, cut at line ends (as
/// `tools/oracle/bench_hf_tokenizer.py` does).
let documentBytes = 64_000

func splitDocuments(_ text: String) -> [String] {
    let data = Array(text.utf8)
    var out: [String] = []
    var start = 0
    while start < data.count {
        var end = min(start + documentBytes, data.count)
        if end < data.count, let cut = data[start..<end].lastIndex(of: 0x0A) { end = cut + 1 }
        out.append(String(decoding: data[start..<end], as: UTF8.self))
        start = end
    }
    return out
}

/// CPU seconds used by this process so far (all threads).
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}
