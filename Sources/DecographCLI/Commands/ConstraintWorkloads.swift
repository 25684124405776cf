import Constraints

/// Typical constraints and valid outputs for `decograph bench constraints`: JSON Schemas of the
/// shapes function-calling and extraction use, a regex and a GBNF grammar.
enum ConstraintWorkloads {
    struct Workload {
        var name: String
        var kind: String
        var source: String
        var outputs: [String]
    }

    static let all: [Workload] = [
        Workload(name: "person", kind: "schema", source: #"""
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
        Workload(name: "orders", kind: "schema", source: #"""
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
        Workload(name: "free-text", kind: "regex", source: #"[A-Z][A-Za-z0-9 ,.'-]{0,300}[.!?]"#, outputs: [
            "The quick brown fox jumps over the lazy dog, and then it rests in the shade of an old oak tree near the river.",
        ]),
        Workload(name: "arithmetic", kind: "grammar", source: """
            root  ::= expr
            expr  ::= expr [-+*/] space term | term
            term  ::= num | "(" space expr ")" space
            num   ::= [0-9]+ space
            space ::= [ ]*
            """, outputs: ["(12 + 7) * 3 - 144 / (6 * 2) + 1000 * (2 - 1)"]),
    ]

    static func grammar(_ w: Workload) throws -> Grammar {
        switch w.kind {
        case "schema": return try Grammar.jsonSchema(w.source)
        case "regex": return try Grammar.regex(w.source)
        default: return try Grammar.parse(w.source)
        }
    }
}
