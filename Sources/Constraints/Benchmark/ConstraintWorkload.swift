/// A constraint and valid outputs of it: the workloads `decograph bench constraints` times and the
/// mask-exactness tests walk. JSON Schemas of the shapes function-calling and extraction use, a
/// regex and a GBNF grammar.
public struct ConstraintWorkload: Sendable {
    /// How `source` is written.
    public enum Kind: String, Sendable {
        /// A JSON Schema.
        case schema
        /// A regular expression.
        case regex
        /// A GBNF grammar.
        case grammar
    }

    /// The name `--workload` selects it by.
    public var name: String
    /// How `source` is written.
    public var kind: Kind
    /// The schema, regex or grammar text.
    public var source: String
    /// Outputs the constraint accepts.
    public var outputs: [String]

    /// Creates a workload.
    /// - Parameters:
    ///   - name: the name `--workload` selects it by.
    ///   - kind: how `source` is written.
    ///   - source: the schema, regex or grammar text.
    ///   - outputs: outputs the constraint accepts.
    public init(name: String, kind: Kind, source: String, outputs: [String]) {
        self.name = name
        self.kind = kind
        self.source = source
        self.outputs = outputs
    }

    /// Compiles `source` (a fresh grammar each call: new lexeme objects, an empty per-grammar cache).
    /// - Returns: the grammar.
    /// - Throws: `ConstraintError` when the source does not compile.
    public func grammar() throws -> Grammar {
        switch kind {
        case .schema: return try Grammar.jsonSchema(source)
        case .regex: return try Grammar.regex(source)
        case .grammar: return try Grammar.parse(source)
        }
    }

    /// The workload named `name` in `all`, if any.
    /// - Parameter name: a workload name.
    /// - Returns: the workload, or nil.
    public static func named(_ name: String) -> ConstraintWorkload? { all.first { $0.name == name } }

    /// The benchmark's workloads, in the order it prints them.
    public static let all: [ConstraintWorkload] = [
        ConstraintWorkload(name: "person", kind: .schema, source: #"""
            {"type": "object", "properties": {
              "name": {"type": "string", "minLength": 1, "maxLength": 64},
              "age": {"type": "integer", "minimum": 0, "maximum": 150},
              "email": {"type": "string", "format": "email"},
              "tags": {"type": "array", "items": {"enum": ["admin", "user", "guest"]}, "maxItems": 5},
              "address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                          "required": ["street", "city"], "additionalProperties": false}},
             "required": ["name", "age"], "additionalProperties": false}
            """#, outputs: [
                #"{"name": "Ada Lovelace", "age": 36, "email": "ada@example.org", "tags": ["admin", "user"], "address": {"street": "12 St James's Square", "city": "London"}}"#,
                #"{"age": 41, "name": "Grace Brewster Murray Hopper", "tags": []}"#,
            ]),
        ConstraintWorkload(name: "orders", kind: .schema, source: #"""
            {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
              "id": {"type": "string", "format": "uuid"},
              "price": {"type": "number", "exclusiveMinimum": 0},
              "status": {"enum": ["open", "shipped", "cancelled"]},
              "note": {"anyOf": [{"type": "string", "pattern": "^[A-Z]"}, {"type": "null"}]},
              "placed": {"type": "string", "format": "date-time"}},
             "required": ["id", "price", "status"]}}
            """#, outputs: [
                #"[{"id": "123e4567-e89b-12d3-a456-426614174000", "price": 12.5, "status": "open", "note": null, "placed": "2024-02-29T12:00:00Z"}, {"id": "00000000-0000-0000-0000-000000000000", "price": 0.99, "status": "shipped", "note": "Leave at the door, please."}]"#,
            ]),
        ConstraintWorkload(name: "free-text", kind: .regex, source: #"[A-Z][A-Za-z0-9 ,.'-]{0,300}[.!?]"#, outputs: [
            "The quick brown fox jumps over the lazy dog, and then it rests in the shade of an old oak tree near the river.",
        ]),
        ConstraintWorkload(name: "arithmetic", kind: .grammar, source: """
            root  ::= expr
            expr  ::= expr [-+*/] space term | term
            term  ::= num | "(" space expr ")" space
            num   ::= [0-9]+ space
            space ::= [ ]*
            """, outputs: ["(12 + 7) * 3 - 144 / (6 * 2) + 1000 * (2 - 1)"]),
    ]
}
