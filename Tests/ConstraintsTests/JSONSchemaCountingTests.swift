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
        (#"{"maxProperties": 5000}"#, "maxProperties", "#/maxProperties"),
        (#"{"required": ["a", "b", "c", "d", "e"], "minProperties": 200}"#, "minProperties", "#/minProperties"),
    ])
    func refusalsAreLocated(schema: String, feature: String, location: String) {
        #expect {
            _ = try Grammar.jsonSchema(schema)
        } throws: { error in
            let e = error as! ConstraintError
            return e.code == .unsupportedKeyword && e.feature == feature && e.location == location
        }
    }
}
