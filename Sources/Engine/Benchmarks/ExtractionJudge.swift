import Constraints

/// Whether an output is a complete JSON text whose value is valid under a schema, judged by the
/// Constraints module's own schema compiler, with none of a run's generation settings.
///
/// The schema is compiled with unbounded whitespace and every JSON string escape accepted
/// (`strings: any`), `format` enforced: any JSON spelling of a valid instance passes, however the
/// constraint that produced it bounded whitespace or spelled strings. The output's bytes are fed
/// through the grammar one by one (no vocabulary is involved) and must all be accepted and leave
/// it complete. Whitespace after the value is trimmed first, as RFC 8259 allows it around a JSON
/// text (the schema grammar's root is the value alone). The judgement covers the keywords the
/// compiler supports (docs/constraints.md); a schema using another is refused when the judge is
/// made.
public struct ExtractionJudge {
    /// The schema's grammar in the judging settings.
    public let grammar: Grammar

    /// A vocabulary of the 256 single bytes: `Constraint` needs one, and byte walks use none of it.
    static let bytes = TokenVocabulary(tokenBytes: (0...255).map { [UInt8($0)] }, endOfSequence: [])

    /// Compiles the schema for judging.
    /// - Parameter schema: the JSON Schema's text.
    /// - Throws: `ConstraintError` naming the keyword and JSON pointer the compiler refuses.
    public init(schema: String) throws {
        // A validator's view: no generation-side bound (whitespace, digit runs) and any escape.
        grammar = try Grammar.jsonSchema(schema, options: JSONSchemaOptions(whitespace: .unbounded, assertFormats: true,
                                                                            canonicalStrings: false, maxNumberDigits: nil))
    }

    /// Whether `output` is a complete, valid instance.
    /// - Parameter output: the output's bytes.
    /// - Returns: true when every byte is accepted and the value is complete.
    public func accepts(_ output: [UInt8]) -> Bool {
        var end = output.count
        while end > 0, ByteSet.jsonWhitespace.contains(output[end - 1]) { end -= 1 }
        var constraint = Constraint(grammar: grammar, vocabulary: Self.bytes)
        return constraint.advance(bytes: output[..<end]) == end && constraint.isAccepting
    }

    /// Whether `output` is a complete, valid instance.
    /// - Parameter output: the output's text.
    /// - Returns: true when every byte is accepted and the value is complete.
    public func accepts(_ output: String) -> Bool { accepts(Array(output.utf8)) }
}
