import Testing
@testable import Constraints

/// Keywords the object and array grammars count: `minProperties`/`maxProperties` and `contains` with
/// `minContains`/`maxContains`, each instance walked byte by byte and token by token with the masks
/// checked against `allows` (expected answers are the draft 2020-12 semantics).
@Suite struct JSONSchemaCountingTests {
    static func accepts(_ schema: String, _ text: String) throws -> Bool {
        JSONSchemaTestSuiteTests.walk(try Grammar.jsonSchema(schema), text, sampleMasks: true)
    }

    @Test(arguments: [
        (#"{"minProperties": 2}"#, "{}", false), (#"{"minProperties": 2}"#, #"{"a": 1}"#, false),
        (#"{"minProperties": 2}"#, #"{"a": 1, "b": 2}"#, true), (#"{"minProperties": 2}"#, #"{"a": 1, "b": 2, "c": 3}"#, true),
        (#"{"minProperties": 2}"#, "3", true),
        (#"{"maxProperties": 0}"#, "{}", true), (#"{"maxProperties": 0}"#, #"{"a": null}"#, false),
        (#"{"maxProperties": 1, "properties": {"a": {"type": "integer"}}, "required": ["a"]}"#, #"{"a": 1}"#, true),
        (#"{"maxProperties": 1, "properties": {"a": {"type": "integer"}}, "required": ["a"]}"#, #"{"a": 1, "b": 2}"#, false),
        (#"{"maxProperties": 1, "properties": {"a": {"type": "integer"}}, "required": ["a"]}"#, #"{"b": 2}"#, false),
        (#"{"minProperties": 1, "maxProperties": 2, "additionalProperties": {"type": "integer"}}"#, #"{"x": 1, "y": 2}"#, true),
        (#"{"minProperties": 1, "maxProperties": 2, "additionalProperties": {"type": "integer"}}"#, #"{"x": 1, "y": 2, "z": 3}"#, false),
        (#"{"minProperties": 1, "maxProperties": 2, "additionalProperties": {"type": "integer"}}"#, "{}", false),
        (#"{"allOf": [{"minProperties": 1}, {"maxProperties": 3}], "properties": {"p": true, "q": true}}"#, #"{"q": 1, "x": 2, "p": 3}"#, true),
        (#"{"allOf": [{"minProperties": 1}, {"maxProperties": 3}], "properties": {"p": true, "q": true}}"#, #"{"q": 1, "x": 2, "p": 3, "y": 4}"#, false),
        (#"{"minProperties": 3, "maxProperties": 2}"#, #"{"a": 1, "b": 2}"#, false),
    ])
    func propertyCounts(schema: String, text: String, accepted: Bool) throws {
        #expect(try Self.accepts(schema, text) == accepted, "\(text) under \(schema)")
    }

    @Test(arguments: [
        // At least one (the default minContains): counts 0, 1, many.
        (#"{"contains": {"type": "integer"}}"#, "[]", false), (#"{"contains": {"type": "integer"}}"#, #"["a"]"#, false),
        (#"{"contains": {"type": "integer"}}"#, "[1]", true), (#"{"contains": {"type": "integer"}}"#, #"["a", 1, 2]"#, true),
        (#"{"contains": {"type": "integer"}}"#, #""not an array""#, true),
        (#"{"contains": {"const": 1}, "minContains": 2}"#, "[1]", false), (#"{"contains": {"const": 1}, "minContains": 2}"#, "[1, 2, 1]", true),
        (#"{"contains": {"const": 1}, "minContains": 2}"#, "[1.0, 1]", true), (#"{"contains": {"const": 1}, "minContains": 2}"#, "[2, 2]", false),
        (#"{"contains": {"const": 1}, "minContains": 0}"#, "[]", true),
        // At most: the uncounted elements must not match.
        (#"{"contains": {"type": "string"}, "maxContains": 1}"#, "[]", false), (#"{"contains": {"type": "string"}, "maxContains": 1}"#, #"["a"]"#, true),
        (#"{"contains": {"type": "string"}, "maxContains": 1}"#, #"["a", "b"]"#, false), (#"{"contains": {"type": "string"}, "maxContains": 1}"#, #"[1, "a", 2]"#, true),
        (#"{"contains": {"type": "string"}, "maxContains": 1}"#, #"[1, "a", 2, "b"]"#, false),
        (#"{"contains": {"type": "string"}, "minContains": 0, "maxContains": 0}"#, "[1, null]", true),
        (#"{"contains": {"type": "string"}, "minContains": 0, "maxContains": 0}"#, #"[1, "a"]"#, false),
        (#"{"contains": {"type": "string"}, "minContains": 2, "maxContains": 3}"#, #"["a", 0, "b", "c"]"#, true),
        (#"{"contains": {"type": "string"}, "minContains": 2, "maxContains": 3}"#, #"["a", "b", "c", "d"]"#, false),
        (#"{"contains": {"type": "string"}, "minContains": 3, "maxContains": 2}"#, #"["a", "b"]"#, false),
        (#"{"contains": {"const": 1}, "maxContains": 1}"#, "[1, 2]", true), (#"{"contains": {"const": 1}, "maxContains": 1}"#, "[1, 2, 1.0]", false),
        (#"{"contains": {"enum": [1, "a"]}, "minContains": 0, "maxContains": 1}"#, #"[2, "b"]"#, true),
        (#"{"contains": {"enum": [1, "a"]}, "minContains": 0, "maxContains": 1}"#, #"[2, "a", 1]"#, false),
        (#"{"contains": true, "maxContains": 1}"#, "[null]", true), (#"{"contains": true, "maxContains": 1}"#, "[null, null]", false),
        (#"{"contains": false}"#, "[]", false), (#"{"contains": false}"#, "[1]", false), (#"{"contains": false}"#, "{}", true),
        // Every element satisfies items; counted ones satisfy contains as well.
        (#"{"items": {"type": "integer"}, "contains": {"minimum": 5}}"#, "[3, 5]", true),
        (#"{"items": {"type": "integer"}, "contains": {"minimum": 5}}"#, "[3, 4]", false),
        (#"{"items": {"type": "integer"}, "contains": {"minimum": 5}}"#, #"["x", 6]"#, false),
        (#"{"prefixItems": [{"type": "string"}], "contains": {"type": "integer"}, "maxContains": 1}"#, #"["a", 1]"#, true),
        (#"{"prefixItems": [{"type": "string"}], "contains": {"type": "integer"}, "maxContains": 1}"#, #"["a", 1, 2]"#, false),
        (#"{"prefixItems": [{"type": "string"}], "contains": {"type": "integer"}, "maxContains": 1}"#, "[1]", false),
        (#"{"contains": {"type": "null"}, "minItems": 3, "maxItems": 3}"#, "[1, 2, null]", true),
        (#"{"contains": {"type": "null"}, "minItems": 3, "maxItems": 3}"#, "[1, 2, 3]", false),
    ])
    func containsCounts(schema: String, text: String, accepted: Bool) throws {
        #expect(try Self.accepts(schema, text) == accepted, "\(text) under \(schema)")
    }

    /// `minLength`/`maxLength` above the unrolling limit count scalars (`ScalarCountLexeme`):
    /// exact at the bound, multi-byte characters and escapes counting once.
    @Test(arguments: [
        (#"{"maxLength": 1500}"#, String(repeating: "a", count: 1500), true), (#"{"maxLength": 1500}"#, String(repeating: "a", count: 1501), false),
        (#"{"maxLength": 1500}"#, String(repeating: "é", count: 1500), true), (#"{"maxLength": 1500}"#, String(repeating: "😀", count: 1501), false),
        (#"{"minLength": 1200}"#, String(repeating: "b", count: 1199), false), (#"{"minLength": 1200}"#, String(repeating: "b", count: 1200) + "😀", true),
        (#"{"minLength": 1001, "maxLength": 1002}"#, String(repeating: "\"", count: 1001), true),
        (#"{"minLength": 1001, "maxLength": 1002, "pattern": "^x"}"#, "x" + String(repeating: "y", count: 1001), true),
        (#"{"minLength": 1001, "maxLength": 1002, "pattern": "^x"}"#, String(repeating: "y", count: 1002), false),
    ])
    func longLengths(schema: String, content: String, accepted: Bool) throws {
        let text = JSONValue.string(content).serialized()
        #expect(try Self.accepts(schema, text) == accepted, "\(content.count) characters under \(schema)")
    }

    /// Every count more than the horizon away from both bounds shares one mask class.
    @Test func lengthMaskClasses() {
        let lexeme = ScalarCountLexeme(min: 1100, max: 5000)
        var s = lexeme.startState
        var classes = Set<Int32>()
        for _ in 0..<3000 {
            s = lexeme.next(s, UInt8(ascii: "a"))
            classes.insert(lexeme.maskClass(of: s, horizon: 16))
        }
        #expect(classes.count <= 2 * 16 + 2, "\(classes.count) classes")
        #expect(!lexeme.matches(Array("a".utf8)) && lexeme.matches(Array(String(repeating: "a", count: 1100).utf8)))
        // Invalid UTF-8 (an overlong lead, a lone continuation, a surrogate) is rejected.
        for bad: [UInt8] in [[0xC0, 0x80], [0x80], [0xED, 0xA0, 0x80]] {
            #expect(lexeme.next(lexeme.startState, bad[0]) < 0 || bad.count > 1 && lexeme.next(lexeme.next(lexeme.startState, bad[0]), bad[1]) < 0)
        }
    }
}
