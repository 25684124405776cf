import Foundation
import Engine
import Tokenization

/// Where the `store` commands get token ids: token-id files, or text files run through a
/// tokenizer (`--tokenizer DIR`).
enum StoreInputs {
    /// Token-id files: one text per line (`TokenIDFiles`).
    case ids
    /// Text files encoded with a tokenizer, without special tokens (the n-grams of the text
    /// itself; a model's BOS would only add one context per text).
    case text(Tokenizer)

    /// Bytes of text encoded at once: a file is cut after the last newline of each window of this
    /// size, so memory stays bounded by it (n-grams across a cut, one per window, are not counted).
    static let textWindow = 4 << 20

    /// Reads `--tokenizer` when given.
    /// - Throws: `CommandFailure` naming the file when the tokenizer does not load.
    static func from(_ args: ParsedArguments) throws -> StoreInputs {
        guard let dir = args.value("tokenizer") else { return .ids }
        do {
            return .text(try TokenizerLoader.require(at: dir))
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// The tokenizer, for text mode.
    var tokenizer: Tokenizer? {
        if case .text(let t) = self { return t }
        return nil
    }

    /// Bytes looked at for a NUL byte, the mark of a binary file (git looks at the first 8 000
    /// bytes, ripgrep at its first read buffer; a `.pyc` has NULs in its 16-byte header).
    static let binarySniffBytes = 8 << 10

    /// Why a file found under a directory is not read.
    enum Skip {
        /// A NUL byte in its first `binarySniffBytes` bytes.
        case binary
        /// Not valid UTF-8 (text mode only).
        case notUTF8
    }

    /// Whether a file found by walking a directory is skipped, and why. A file named on the
    /// command line is always read (and a malformed one is an error, located).
    func skip(_ input: TokenIDFiles.Input) -> Skip? {
        guard input.foundInDirectory, let handle = FileHandle(forReadingAtPath: input.path) else { return nil }
        defer { try? handle.close() }
        let head = handle.readData(ofLength: Self.binarySniffBytes)
        if head.contains(0) { return .binary }
        guard tokenizer != nil else { return nil }
        // The whole file is checked before any of it is learned: a file skipped halfway would
        // leave its first windows in the store. Windows end before a sequence cut by the read.
        var pending = [UInt8](head)
        while true {
            let chunk = handle.readData(ofLength: Self.textWindow)
            pending.append(contentsOf: chunk)
            let end = chunk.isEmpty ? pending.count : Self.completeUTF8Prefix(pending)
            if Self.firstInvalidUTF8(pending[..<end]) != end { return .notUTF8 }
            if chunk.isEmpty { return nil }
            pending.removeSubrange(..<end)
        }
    }

    /// The length of `bytes` without a multi-byte sequence cut off at its end.
    static func completeUTF8Prefix(_ bytes: [UInt8]) -> Int {
        // A sequence is at most 4 bytes: look back at most 3 for its lead byte.
        for back in 1...min(3, bytes.count) {
            let byte = bytes[bytes.count - back]
            guard byte & 0xC0 == 0x80 else {
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                return length > back ? bytes.count - back : bytes.count
            }
        }
        return bytes.count
    }

    /// The files skipped while reading inputs, reported on standard error at the end.
    struct Skipped {
        var binary: [String] = []
        var notUTF8: [String] = []

        mutating func add(_ path: String, _ reason: Skip) {
            switch reason {
            case .binary: binary.append(path)
            case .notUTF8: notUTF8.append(path)
            }
        }

        /// "note: skipped 2 binary files (NUL bytes in the first 8 KiB; first: a/x.pyc) and …".
        func report(_ context: CommandContext) {
            var parts: [String] = []
            if let first = binary.first {
                parts.append("\(binary.count) binary \(binary.count == 1 ? "file" : "files") (a NUL byte in the first \(StoreInputs.binarySniffBytes >> 10) KiB; first: \(first))")
            }
            if let first = notUTF8.first {
                parts.append("\(notUTF8.count) \(notUTF8.count == 1 ? "file" : "files") not valid UTF-8 (first: \(first))")
            }
            if !parts.isEmpty { context.printError("note: skipped " + parts.joined(separator: " and ")) }
        }
    }

    /// Calls `body` with the token ids of each text of `path`.
    /// - Throws: `CommandFailure` located in the file for malformed input, or what `body` throws.
    func forEachText(in path: String, _ body: ([Int32]) throws -> Void) throws {
        switch self {
        case .ids:
            try TokenIDFiles.forEachText(in: path, body)
        case .text(let tokenizer):
            try Self.forEachRawText(in: path) { text in
                let ids = tokenizer.encode(text, addSpecialTokens: false)
                if !ids.isEmpty { try body(ids) }
            }
        }
    }

    /// Calls `body` with each text of a text file before encoding: a `.jsonl` file's documents,
    /// or another file's windows of `textWindow` bytes cut after a newline.
    /// - Throws: `CommandFailure` located in the file for malformed input, or what `body` throws.
    static func forEachRawText(in path: String, _ body: (String) throws -> Void) throws {
        if path.hasSuffix(".jsonl") {
            try forEachJSONLine(in: path) { text, _ in try body(text) }
            return
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CommandFailure("\(path): error: cannot open the file for reading")
        }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        var consumed = 0
        func emit(_ bytes: ArraySlice<UInt8>) throws {
            guard !bytes.isEmpty else { return }
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw CommandFailure("\(path): error: invalid UTF-8 at byte offset \(consumed + Self.firstInvalidUTF8(bytes))")
            }
            try body(text)
        }
        while true {
            let chunk = handle.readData(ofLength: Self.textWindow)
            if chunk.isEmpty { break }
            pending.append(contentsOf: chunk)
            if pending.count >= Self.textWindow, let cut = pending.lastIndex(of: UInt8(ascii: "\n")) {
                try emit(pending[...cut])
                consumed += cut + 1
                pending.removeSubrange(...cut)
            }
        }
        try emit(pending[...])
    }

    /// Texts waiting to be encoded on several threads, delivered in their order.
    final class ParallelEncoder {
        /// Bytes of text encoded per round: a few windows per thread keeps every thread busy
        /// and the text in flight small.
        static let windowsPerThread = 2

        let tokenizer: Tokenizer
        /// Threads that may encode at once (the size of a round, not a pool of its own).
        let threads: Int
        private var pending: [String] = []
        private var pendingBytes = 0

        init(tokenizer: Tokenizer, threads: Int) {
            self.tokenizer = tokenizer
            self.threads = max(1, threads)
        }

        /// Queues a text; encodes the queue when it holds enough to share among the threads.
        func add(_ text: String, _ body: ([Int32]) throws -> Void) throws {
            pendingBytes += text.utf8.count
            pending.append(text)
            if pendingBytes >= threads * Self.windowsPerThread * StoreInputs.textWindow { try flush(body) }
        }

        /// Encodes what is queued, `threads` texts at a time, and hands the ids on in order.
        func flush(_ body: ([Int32]) throws -> Void) throws {
            guard !pending.isEmpty else { return }
            let texts = pending
            pending.removeAll()
            pendingBytes = 0
            let results = UnsafeMutableBufferPointer<[Int32]>.allocate(capacity: texts.count)
            results.initialize(repeating: [])
            defer {
                results.deinitialize()
                results.deallocate()
            }
            let tokenizer = self.tokenizer
            nonisolated(unsafe) let shared = results
            // Each result slot has one writer; GCD hands the texts to its threads as they free up.
            DispatchQueue.concurrentPerform(iterations: texts.count) { i in
                shared[i] = tokenizer.encode(texts[i], addSpecialTokens: false)
            }
            for ids in results where !ids.isEmpty { try body(ids) }
        }
    }

    /// Calls `body` with the `"text"` field of each line of a JSON Lines file (the corpus format
    /// of Hugging Face datasets and of tools/train), one document per line, read in chunks.
    /// - Throws: `CommandFailure` located at `path:line` for a line that is not a JSON object with a
    ///   string `"text"`.
    static func forEachJSONLine(in path: String, _ body: (String, Int) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CommandFailure("\(path): error: cannot open the file for reading")
        }
        defer { try? handle.close() }
        var pending = Data()
        var line = 0
        func handleLine(_ bytes: Data) throws {
            line += 1
            guard bytes.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) else { return }
            guard let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any] else {
                throw CommandFailure("\(path):\(line): error: not a JSON object (expected one {\"text\": …} per line)")
            }
            guard let text = object["text"] as? String else {
                throw CommandFailure("\(path):\(line): error: the object has no string field \"text\"")
            }
            try body(text, line)
        }
        while true {
            let chunk = handle.readData(ofLength: textWindow)
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                try handleLine(pending[pending.startIndex..<newline])
                pending = pending[(newline + 1)...]
            }
            pending = Data(pending)
        }
        if !pending.isEmpty { try handleLine(pending) }
    }

    /// Offset of the first byte that is not valid UTF-8.
    static func firstInvalidUTF8(_ bytes: ArraySlice<UInt8>) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput, .error: return offset
            }
        }
    }
}
