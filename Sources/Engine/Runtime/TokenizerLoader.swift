import Foundation
import ModelRuntime
import Support
import Tokenization

/// "The tokenizer at PATH", the one rule every command and graph uses: a directory's
/// tokenizer.json (+ tokenizer_config.json), or a GGUF file's `tokenizer.ggml.*` metadata. This
/// module sees both the GGUF reader (ModelRuntime) and the tokenizer (Tokenization), which do not
/// see each other.
public enum TokenizerLoader {
    /// Loads the tokenizer at `path`.
    /// - Parameter path: a model directory, or a `.gguf` file (any regular file is read as GGUF).
    /// - Returns: the tokenizer, or `nil` for a directory without tokenizer.json or a GGUF file
    ///   without `tokenizer.ggml.model` (such a model runs from token ids).
    /// - Throws: `TokenizerError` (malformed or unsupported tokenizer, with file and JSON path or
    ///   GGUF key), `RuntimeError` (unreadable or damaged GGUF), `EngineError` (a path that is
    ///   neither a directory nor a regular file).
    public static func load(at path: String) throws -> Tokenizer? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw TokenizerError(.unreadable, file: path, "no such file or directory (expected a model directory with tokenizer.json, or a GGUF file)")
        }
        if !isDirectory.boolValue {
            if let kind = RegularFile.otherKind(at: path) { throw EngineError("\(path) is \(kind), not a regular file") }
            let gguf = try GGUFMetadata(path: path)
            guard try gguf.string(GGUFTokenizerMetadata.Key.model) != nil else { return nil }
            return try Tokenizer(gguf: try metadata(gguf))
        }
        let file = (path as NSString).appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        // Opening a named pipe would wait for a writer forever.
        if let kind = RegularFile.otherKind(at: file) { throw EngineError("\(file) is \(kind), not a regular file") }
        return try Tokenizer(directory: URL(fileURLWithPath: path))
    }

    /// Loads the tokenizer at `path`, which must have one (commands that need text).
    /// - Throws: as `load(at:)`, and `TokenizerError` when the path has no tokenizer.
    public static func require(at path: String) throws -> Tokenizer {
        guard let tokenizer = try load(at: path) else {
            throw TokenizerError(.unreadable, file: path, "has no tokenizer (a model directory needs tokenizer.json, a GGUF file tokenizer.ggml.* metadata); pass token ids with --prompt-ids instead")
        }
        return tokenizer
    }

    /// Reads the `tokenizer.ggml.*` values of a GGUF file.
    /// - Throws: `TokenizerError` naming a missing required key, `RuntimeError` for a value of
    ///   the wrong type.
    public static func metadata(_ gguf: GGUFMetadata) throws -> GGUFTokenizerMetadata {
        typealias Key = GGUFTokenizerMetadata.Key
        func missing(_ key: String) -> TokenizerError {
            TokenizerError(.malformed, file: gguf.path, jsonPath: key,
                           "is missing, so the file carries no tokenizer; pass a tokenizer.json directory with --tokenizer, or token ids with --prompt-ids")
        }
        guard let model = try gguf.string(Key.model) else { throw missing(Key.model) }
        guard let tokens = try gguf.strings(Key.tokens) else { throw missing(Key.tokens) }
        var m = GGUFTokenizerMetadata(file: gguf.path, model: model, tokens: tokens)
        m.preTokenizer = try gguf.string(Key.pre)
        m.scores = try gguf.floats(Key.scores)
        m.tokenTypes = try gguf.int32s(Key.tokenType)
        m.merges = try gguf.strings(Key.merges)
        for (key, field) in Key.specialIDs { m[keyPath: field] = try gguf.integer(key) }
        m.addBOS = try gguf.bool(Key.addBOS)
        m.addEOS = try gguf.bool(Key.addEOS)
        m.addSpacePrefix = try gguf.bool(Key.addSpacePrefix)
        return m
    }
}
