import Foundation
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
            return .text(try Tokenizer(directory: URL(fileURLWithPath: dir)))
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// The tokenizer, for text mode.
    var tokenizer: Tokenizer? {
        if case .text(let t) = self { return t }
        return nil
    }

    /// Calls `body` with the token ids of each text of `path`.
    /// - Throws: `CommandFailure` located in the file for malformed input, or what `body` throws.
    func forEachText(in path: String, _ body: ([Int32]) throws -> Void) throws {
        switch self {
        case .ids:
            try TokenIDFiles.forEachText(in: path, body)
        case .text(let tokenizer):
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
                let ids = tokenizer.encode(text, addSpecialTokens: false)
                if !ids.isEmpty { try body(ids) }
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
