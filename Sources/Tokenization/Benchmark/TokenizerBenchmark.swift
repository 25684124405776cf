import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `decograph bench tokenizer`: encode and decode throughput on one thread, in MB per CPU-second
/// of the process (a busy machine does not distort them; `tools/oracle/bench_hf_tokenizer.py`
/// measures Hugging Face tokenizers the same way, with `process_time()`).
public enum TokenizerBenchmark {
    /// Documents of the per-document figure: at most this many UTF-8 bytes, cut at line ends (as
    /// `tools/oracle/bench_hf_tokenizer.py` does).
    public static let documentBytes = 64_000

    /// The figures of a run; times are CPU seconds.
    public struct Report: Sendable {
        /// The text's size in MB (10⁶ bytes).
        public var megabytes: Double
        /// Tokens the text encodes to.
        public var tokens: Int
        /// Documents of the per-document encode.
        public var documents: Int
        /// Encoding the whole text with an empty word cache.
        public var coldSeconds: Double
        /// Encoding it again, cache warm.
        public var warmSeconds: Double
        /// Encoding it as documents, one call each.
        public var documentSeconds: Double
        /// Decoding the ids in one call.
        public var decodeSeconds: Double
        /// Decoding them through the streaming detokenizer.
        public var streamSeconds: Double
        /// MB of the one-call decode's text.
        public var decodedMegabytes: Double
        /// MB of the streamed text.
        public var streamedMegabytes: Double
        /// Whether streaming decode gave the one-call decode's text.
        public var streamMatchesDecode: Bool

        /// Encode MB/s, empty cache.
        public var encodeRate: Double { megabytes / coldSeconds }
        /// Encode MB/s, warm cache.
        public var warmRate: Double { megabytes / warmSeconds }
        /// Encode MB/s, one call per document.
        public var documentRate: Double { megabytes / documentSeconds }
        /// Decode MB/s, one call.
        public var decodeRate: Double { decodedMegabytes / decodeSeconds }
        /// Decode MB/s, streaming.
        public var streamRate: Double { streamedMegabytes / streamSeconds }
    }

    /// Encodes `text` (empty cache, warm cache, as documents), decodes the ids in one call and streaming.
    /// - Parameters:
    ///   - tokenizer: the tokenizer (its word cache should be empty for the cold figure).
    ///   - text: the text.
    ///   - progress: a line about the current phase.
    /// - Returns: the figures.
    public static func run(tokenizer: Tokenizer, text: String, progress: (String) -> Void = { _ in }) -> Report {
        let mb = Double(text.utf8.count) / 1_000_000
        func time<T>(_ body: () -> T) -> (T, Double) {
            let start = processCPUSeconds()
            let r = body()
            return (r, max(processCPUSeconds() - start, 1e-9))
        }
        progress("encoding \(String(format: "%.1f", mb)) MB…")
        let (ids, coldSeconds) = time { tokenizer.encode(text, addSpecialTokens: false) }
        let (_, warmSeconds) = time { tokenizer.encode(text, addSpecialTokens: false) }
        let documents = splitDocuments(text)
        let (_, documentSeconds) = time {
            var total = 0
            for d in documents { total += tokenizer.encode(d, addSpecialTokens: false).count }
            return total
        }
        let (decoded, decodeSeconds) = time { tokenizer.decode(ids) }
        let (streamed, streamSeconds) = time {
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            var out = ""
            for id in ids { out += stream.feed(id) }
            return out + stream.finish()
        }
        return Report(megabytes: mb, tokens: ids.count, documents: documents.count, coldSeconds: coldSeconds,
                      warmSeconds: warmSeconds, documentSeconds: documentSeconds, decodeSeconds: decodeSeconds,
                      streamSeconds: streamSeconds, decodedMegabytes: Double(decoded.utf8.count) / 1e6,
                      streamedMegabytes: Double(streamed.utf8.count) / 1e6, streamMatchesDecode: streamed == decoded)
    }

    /// The first `bytes` bytes of the CPython standard library's `.py` files in path order (the same
    /// text `tools/oracle/bench_hf_tokenizer.py` builds), cut at a line end.
    /// - Parameter bytes: how much text.
    /// - Returns: the text.
    /// - Throws: `TokenizerError` when no CPython library is installed or it holds too little.
    public static func defaultText(bytes: Int) throws -> String {
        let fm = FileManager.default
        let lib = URL(fileURLWithPath: "/usr/lib")
        guard let python = (try? fm.contentsOfDirectory(atPath: lib.path))?
            .filter({ $0.hasPrefix("python3") }).sorted().last else {
            throw TokenizerError(.unreadable, file: "", "No CPython standard library under /usr/lib to build the default text; pass --text FILE.")
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
                  let text = String(validating: data, as: UTF8.self) else { continue }
            out += Array(text.utf8)
            if out.count >= bytes { break }
        }
        guard out.count >= bytes else {
            throw TokenizerError(.unreadable, file: "", "The CPython sources hold only \(out.count) bytes; pass --text FILE.")
        }
        var end = bytes
        while end > 0, out[end - 1] != 0x0A { end -= 1 }
        return String(decoding: out[..<end], as: UTF8.self)
    }

    /// `text` cut into documents of at most `documentBytes` UTF-8 bytes, at line ends.
    static func splitDocuments(_ text: String) -> [String] {
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
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
