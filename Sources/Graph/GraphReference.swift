import Foundation

/// The generated part of `docs/graph-language.md`: the field tables of the sections and the op
/// reference, both read from the tables the compiler checks against, so the document cannot
/// drift from the compiler.
public enum GraphReference {
    /// The line before the generated part in the document.
    public static let beginMarker = "<!-- BEGIN GENERATED: decograph ops --markdown -->"
    /// The line after the generated part in the document.
    public static let endMarker = "<!-- END GENERATED -->"

    /// The generated Markdown.
    /// - Parameter registry: the ops to document.
    /// - Returns: the section fields and the op reference, ending in a newline.
    public static func markdown(registry: OpRegistry) -> String {
        "## Section fields\n\n" + GraphLanguage.markdownReference() + "## Ops\n\n" + registry.markdownReference()
    }

    /// The generated part of a document: the text between the markers.
    /// - Parameter document: the whole Markdown file.
    /// - Returns: the text between the marker lines, or `nil` when the markers are missing.
    public static func generatedPart(of document: String) -> String? {
        guard let begin = document.range(of: beginMarker + "\n"),
              let end = document.range(of: endMarker, range: begin.upperBound..<document.endIndex) else { return nil }
        return String(document[begin.upperBound..<end.lowerBound])
    }
}
