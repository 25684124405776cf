/// A position in a graph file, 1-based as editors and compilers print it.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The file as the user named it (relative paths stay relative, so messages match the command line).
    public var file: String
    /// Line number, counting from 1.
    public var line: Int
    /// Column number in characters, counting from 1.
    public var column: Int

    /// Creates a location.
    /// - Parameters:
    ///   - file: the file's path as the user named it.
    ///   - line: 1-based line.
    ///   - column: 1-based column.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the prefix of a diagnostic.
    public var description: String { "\(file):\(line):\(column)" }

    /// Orders by file, then line, then column: diagnostics print in reading order.
    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}
