/// Reads a graph file's YAML into a located `YAMLNode` tree, reporting every mistake it can
/// locate.
///
/// libyaml checks the syntax; this type adds what libyaml accepts but a graph file must not
/// hold: duplicate keys, several documents, non-scalar keys, and anchors/aliases and tags (refused:
/// graphs share structure through `use:` subgraphs, which are checked and namespaced, whereas an
/// alias would silently copy a node under two names).
public enum YAMLParser {
    /// Parses one YAML document.
    /// - Parameters:
    ///   - bytes: the file's content.
    ///   - file: the path printed in diagnostics.
    /// - Returns: the document's root (`nil` when the file is empty or the syntax is broken) and
    ///   the diagnostics found.
    public static func parse(_ bytes: [UInt8], file: String) -> (root: YAMLNode?, diagnostics: [Diagnostic]) {
        guard let reader = YAMLEventReader(bytes: bytes, file: file) else {
            return (nil, [.error(SourceLocation(file: file, line: 1, column: 1), "cannot allocate a YAML parser")])
        }
        var builder = TreeBuilder(file: file)
        do {
            while !builder.aborted, let event = try reader.next() { builder.consume(event) }
            if builder.aborted { return (nil, builder.diagnostics) }
        } catch {
            builder.diagnostics.append(syntaxDiagnostic(error, bytes: bytes))
            return (nil, builder.diagnostics)
        }
        return (builder.root, builder.diagnostics)
    }

    /// Turns libyaml's error into a message a graph author can act on.
    static func syntaxDiagnostic(_ error: YAMLEventReader.SyntaxError, bytes: [UInt8]) -> Diagnostic {
        var at = error.location
        if let offset = error.byteOffset {
            // Encoding errors carry a byte offset instead of a mark.
            at = location(ofByte: offset, in: bytes, file: at.file)
            return .error(at, "the file is not valid UTF-8 (\(error.problem)); graph files are UTF-8 text")
        }
        if error.problem == "found character that cannot start any token", character(at: at, in: bytes) == "\t" {
            return .error(at, "tab character used for indentation; YAML indents with spaces")
        }
        var message = "invalid YAML: \(error.problem)"
        if let context = error.context, let where_ = error.contextLocation {
            message += " (\(context) at line \(where_.line), column \(where_.column))"
        }
        let indentationProblems = ["did not find expected key", "mapping values are not allowed in this context",
                                   "did not find expected '-' indicator", "block sequence entries are not allowed in this context"]
        if indentationProblems.contains(error.problem) {
            message += "; check the indentation of this line against its siblings"
        }
        return .error(at, message)
    }

    /// The 1-based line and column of a byte offset.
    static func location(ofByte offset: Int, in bytes: [UInt8], file: String) -> SourceLocation {
        let before = bytes.prefix(min(offset, bytes.count))
        let line = before.filter { $0 == 0x0A }.count + 1
        let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        // Columns count characters: UTF-8 continuation bytes do not start one.
        let column = bytes[lineStart..<before.count].filter { $0 & 0xC0 != 0x80 }.count + 1
        return SourceLocation(file: file, line: line, column: column)
    }

    /// The character at a 1-based line/column of the text, if any.
    static func character(at location: SourceLocation, in bytes: [UInt8]) -> Character? {
        let text = String(decoding: bytes, as: UTF8.self)
        var line = 1
        var column = 1
        for c in text {
            if line == location.line, column == location.column { return c }
            if c == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return nil
    }
}
