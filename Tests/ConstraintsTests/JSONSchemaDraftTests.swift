import Testing
@testable import Constraints

/// Draft dispatch (`$schema`, `JSONSchemaOptions.defaultDraft`) and the keywords added for real-world
/// schemas: each instance walked byte by byte and token by token, with masks checked against
/// `allows`; expected answers are the drafts' own semantics.
@Suite struct JSONSchemaDraftTests {
    static func accepts(_ schema: String, _ text: String, options: JSONSchemaOptions = .init()) throws -> Bool {
        let grammar = try JSONSchemaCompiler.compile(text: schema, options: options).grammar
        return JSONSchemaTestSuiteTests.walk(grammar, text, sampleMasks: true)
    }

    static let draft4 = #""$schema": "http://json-schema.org/draft-04/schema#""#
    static let draft7 = #""$schema": "https://json-schema.org/draft-07/schema""#
    static let draft2019 = #""$schema": "https://json-schema.org/draft/2019-09/schema#""#

    @Test(arguments: [
        ("http://json-schema.org/draft-04/schema#", JSONSchemaDraft.draft4), ("https://json-schema.org/draft-04/schema", .draft4),
        ("http://json-schema.org/draft-06/schema#", .draft6), ("http://json-schema.org/draft-07/schema", .draft7),
        ("https://json-schema.org/draft/2019-09/schema", .draft2019_09), ("https://json-schema.org/draft/2020-12/schema#", .draft2020_12),
    ])
    func metaschemaURIs(uri: String, draft: JSONSchemaDraft) {
        #expect(JSONSchemaDraft(metaschemaURI: uri) == draft)
    }

    @Test func unknownMetaschemaIsRefused() {
        #expect(JSONSchemaDraft(metaschemaURI: "https://example.com/my-schema") == nil)
        #expect { _ = try Grammar.jsonSchema(#"{"$schema": "https://example.com/my-schema"}"#) } throws: { error in
            (error as! ConstraintError).feature == "$schema" && (error as! ConstraintError).location == "#/$schema"
        }
    }

    @Test(arguments: [
        // Draft 4: boolean exclusive bounds modify minimum/maximum.
        ("{\(draft4), \"minimum\": 5, \"exclusiveMinimum\": true}", "5", false), ("{\(draft4), \"minimum\": 5, \"exclusiveMinimum\": true}", "5.5", true),
        ("{\(draft4), \"maximum\": 5, \"exclusiveMaximum\": false}", "5", true), ("{\(draft4), \"maximum\": 5, \"exclusiveMaximum\": true}", "5", false),
        // Draft 4 has no const: an annotation there.
        ("{\(draft4), \"const\": 1}", "2", true),
        // Array-form items and additionalItems.
        ("{\(draft7), \"items\": [{\"type\": \"integer\"}], \"additionalItems\": {\"type\": \"string\"}}", #"[1, "a", "b"]"#, true),
        ("{\(draft7), \"items\": [{\"type\": \"integer\"}], \"additionalItems\": {\"type\": \"string\"}}", #"["a"]"#, false),
        ("{\(draft7), \"items\": [{\"type\": \"integer\"}], \"additionalItems\": {\"type\": \"string\"}}", "[1, 2]", false),
        ("{\(draft7), \"items\": {\"type\": \"integer\"}, \"additionalItems\": false}", "[1, 2]", true),
        // dependencies, array and schema forms.
        ("{\(draft7), \"dependencies\": {\"a\": [\"b\"]}}", #"{"a": 1}"#, false), ("{\(draft7), \"dependencies\": {\"a\": [\"b\"]}}", #"{"a": 1, "b": 2}"#, true),
        ("{\(draft7), \"dependencies\": {\"a\": {\"required\": [\"c\"]}}}", #"{"a": 1}"#, false),
        ("{\(draft7), \"dependencies\": {\"a\": {\"required\": [\"c\"]}}}", #"{"a": 1, "c": 2}"#, true),
        ("{\(draft7), \"dependencies\": {\"a\": {\"required\": [\"c\"]}}}", #"{"b": 1}"#, true),
        // $ref replaces its siblings before 2019-09, and not after.
        ("{\(draft7), \"definitions\": {\"i\": {\"type\": \"integer\"}}, \"$ref\": \"#/definitions/i\", \"maximum\": 2}", "5", true),
        ("{\(draft2019), \"$defs\": {\"i\": {\"type\": \"integer\"}}, \"$ref\": \"#/$defs/i\", \"maximum\": 2}", "5", false),
        // Draft 4 `id` names a resource; `$id` there is an unknown keyword.
        ("{\(draft4), \"id\": \"http://x.test/root.json\", \"definitions\": {\"b\": {\"id\": \"b.json\", \"type\": \"string\"}}, \"items\": {\"$ref\": \"b.json\"}}", #"["s"]"#, true),
        ("{\(draft4), \"id\": \"http://x.test/root.json\", \"definitions\": {\"b\": {\"id\": \"b.json\", \"type\": \"string\"}}, \"items\": {\"$ref\": \"b.json\"}}", "[1]", false),
        // 2019-09 $recursiveRef without a dynamic anchor is a $ref.
        ("{\(draft2019), \"properties\": {\"next\": {\"$recursiveRef\": \"#\"}}, \"required\": [\"v\"]}", #"{"v": 1, "next": {"v": 2}}"#, true),
        ("{\(draft2019), \"properties\": {\"next\": {\"$recursiveRef\": \"#\"}}, \"required\": [\"v\"]}", #"{"v": 1, "next": {}}"#, false),
    ])
    func draftSemantics(schema: String, text: String, accepted: Bool) throws {
        #expect(try Self.accepts(schema, text) == accepted, "\(text) under \(schema)")
    }

    @Test func defaultDraftAppliesWithoutSchema() throws {
        let schema = #"{"items": [{"type": "integer"}], "additionalItems": false}"#
        #expect(try Self.accepts(schema, "[1]", options: JSONSchemaOptions(defaultDraft: .draft7)))
        #expect(try !Self.accepts(schema, "[1, 2]", options: JSONSchemaOptions(defaultDraft: .draft7)))
        // 2020-12 (the default) refuses the array form rather than ignoring it.
        #expect { _ = try Grammar.jsonSchema(schema) } throws: { ($0 as! ConstraintError).location == "#/items" }
    }

    @Test(arguments: [
        // `$ref` to an `$id`-named subschema, resolved against the base URI.
        (#"{"$id": "https://x.test/root.json", "$defs": {"A": {"$id": "item.json", "type": "integer"}}, "items": {"$ref": "item.json"}}"#, "[1, 2]", true),
        (#"{"$id": "https://x.test/root.json", "$defs": {"A": {"$id": "item.json", "type": "integer"}}, "items": {"$ref": "item.json"}}"#, #"["a"]"#, false),
        (#"{"$id": "https://x.test/a/root.json", "$defs": {"A": {"$id": "../b/", "$defs": {"C": {"$id": "c.json", "type": "null"}}}}, "$ref": "https://x.test/b/c.json"}"#, "null", true),
        (#"{"$id": "https://x.test/a/root.json", "$defs": {"A": {"$id": "../b/", "$defs": {"C": {"$id": "c.json", "type": "null"}}}}, "$ref": "https://x.test/b/c.json"}"#, "1", false),
        (##"{"$defs": {"A": {"$anchor": "thing", "type": "boolean"}}, "$ref": "#thing"}"##, "true", true),
        (##"{"$defs": {"A": {"$anchor": "thing", "type": "boolean"}}, "$ref": "#thing"}"##, "0", false),
        // not: {not: X} is X.
        (#"{"not": {"not": {"type": "string", "minLength": 2}}}"#, #""ab""#, true), (#"{"not": {"not": {"type": "string", "minLength": 2}}}"#, #""a""#, false),
        (#"{"not": {"not": {"type": "string", "minLength": 2}}}"#, "3", false),
        // Negated bounds, required, properties.
        (#"{"not": {"minimum": 1}}"#, "0.5", true), (#"{"not": {"minimum": 1}}"#, "1", false), (#"{"not": {"minimum": 1}}"#, #""x""#, false),
        (#"{"not": {"required": ["a"]}}"#, "{}", true), (#"{"not": {"required": ["a"]}}"#, #"{"a": 1}"#, false), (#"{"not": {"required": ["a"]}}"#, "1", false),
        (#"{"not": {"properties": {"a": {"type": "string"}}}}"#, #"{"a": 1}"#, true), (#"{"not": {"properties": {"a": {"type": "string"}}}}"#, #"{"a": "s"}"#, false),
        (#"{"not": {"properties": {"a": {"type": "string"}}}}"#, "{}", false),
        (#"{"not": {"prefixItems": [{"type": "string"}, {"type": "integer"}]}}"#, #"["a", "b"]"#, true),
        (#"{"not": {"prefixItems": [{"type": "string"}, {"type": "integer"}]}}"#, #"["a", 1, null]"#, false),
        (#"{"not": {"prefixItems": [{"type": "string"}, {"type": "integer"}]}}"#, "[1]", true),
        (#"{"not": {"prefixItems": [{"type": "string"}, {"type": "integer"}]}}"#, "[]", false),
        // if/then/else.
        (#"{"if": {"properties": {"k": {"const": "a"}}, "required": ["k"]}, "then": {"required": ["x"]}, "else": {"required": ["y"]}}"#, #"{"k": "a", "x": 1}"#, true),
        (#"{"if": {"properties": {"k": {"const": "a"}}, "required": ["k"]}, "then": {"required": ["x"]}, "else": {"required": ["y"]}}"#, #"{"k": "a", "y": 1}"#, false),
        (#"{"if": {"properties": {"k": {"const": "a"}}, "required": ["k"]}, "then": {"required": ["x"]}, "else": {"required": ["y"]}}"#, #"{"k": "b", "y": 1}"#, true),
        (#"{"if": {"properties": {"k": {"const": "a"}}, "required": ["k"]}, "then": {"required": ["x"]}, "else": {"required": ["y"]}}"#, #"{"y": 1}"#, true),
        (#"{"if": {"properties": {"k": {"const": "a"}}, "required": ["k"]}, "then": {"required": ["x"]}, "else": {"required": ["y"]}}"#, #"{"x": 1}"#, false),
        // An `if` whose negation is not supported compiles without `then` (if ∨ else) or without both.
        (#"{"if": {"pattern": "^a"}, "else": {"maxLength": 2}}"#, #""abcd""#, true), (#"{"if": {"pattern": "^a"}, "else": {"maxLength": 2}}"#, #""bcd""#, false),
        (#"{"if": {"pattern": "^a"}, "else": {"maxLength": 2}}"#, #""bc""#, true), (#"{"if": {"pattern": "^a"}}"#, #""b""#, true),
        // dependentSchemas.
        (#"{"dependentSchemas": {"a": {"properties": {"b": {"type": "integer"}}}}}"#, #"{"a": 1, "b": "s"}"#, false),
        (#"{"dependentSchemas": {"a": {"properties": {"b": {"type": "integer"}}}}}"#, #"{"b": "s"}"#, true),
        (#"{"dependentSchemas": {"a": {"properties": {"b": {"type": "integer"}}}}}"#, #"{"a": 1, "b": 2}"#, true),
        // oneOf made disjoint by a property pinned to different values, or by $ref-resolved types.
        (#"{"type": "object", "oneOf": [{"properties": {"kind": {"const": "a"}, "x": {"type": "integer"}}, "required": ["kind"]}, {"properties": {"kind": {"enum": ["b", "c"]}}, "required": ["kind"]}]}"#, #"{"kind": "a", "x": 1}"#, true),
        (#"{"type": "object", "oneOf": [{"properties": {"kind": {"const": "a"}, "x": {"type": "integer"}}, "required": ["kind"]}, {"properties": {"kind": {"enum": ["b", "c"]}}, "required": ["kind"]}]}"#, #"{"kind": "a", "x": "s"}"#, false),
        (#"{"type": "object", "oneOf": [{"properties": {"kind": {"const": "a"}, "x": {"type": "integer"}}, "required": ["kind"]}, {"properties": {"kind": {"enum": ["b", "c"]}}, "required": ["kind"]}]}"#, #"{"kind": "c", "x": "s"}"#, true),
        (##"{"$defs": {"s": {"type": "string"}, "n": {"type": "number"}}, "oneOf": [{"$ref": "#/$defs/s"}, {"$ref": "#/$defs/n"}]}"##, "1", true),
        (##"{"$defs": {"s": {"type": "string"}, "n": {"type": "number"}}, "oneOf": [{"$ref": "#/$defs/s"}, {"$ref": "#/$defs/n"}]}"##, "null", false),
        // Overlapping oneOf: each branch with the others negated.
        (#"{"oneOf": [{"type": "string"}, {"maxLength": 2}]}"#, #""abc""#, true), (#"{"oneOf": [{"type": "string"}, {"maxLength": 2}]}"#, #""ab""#, false),
        (#"{"oneOf": [{"type": "string"}, {"maxLength": 2}]}"#, "1", true), (#"{"oneOf": [{"type": "string"}, {"maxLength": 2}]}"#, "null", true),
        (#"{"oneOf": [{"required": ["a"]}, {"required": ["b"]}], "type": "object"}"#, #"{"a": 1}"#, true),
        (#"{"oneOf": [{"required": ["a"]}, {"required": ["b"]}], "type": "object"}"#, #"{"a": 1, "b": 2}"#, false),
        (#"{"oneOf": [{"required": ["a"]}, {"required": ["b"]}], "type": "object"}"#, "{}", false),
        // unevaluatedProperties sees what in-place applicators evaluated, anyOf branches included.
        (#"{"allOf": [{"properties": {"a": true}}], "unevaluatedProperties": false}"#, #"{"a": 1}"#, true),
        (#"{"allOf": [{"properties": {"a": true}}], "unevaluatedProperties": false}"#, #"{"a": 1, "b": 2}"#, false),
        (#"{"anyOf": [{"properties": {"a": true}}, {"properties": {"b": true}}], "unevaluatedProperties": false}"#, #"{"a": 1, "b": 2}"#, true),
        (#"{"anyOf": [{"properties": {"a": true}}, {"properties": {"b": {"type": "string"}}}], "unevaluatedProperties": false}"#, #"{"a": 1, "b": 2}"#, false),
        (#"{"prefixItems": [true], "unevaluatedItems": {"type": "string"}}"#, #"[1, "a"]"#, true),
        (#"{"prefixItems": [true], "unevaluatedItems": {"type": "string"}}"#, "[1, 2]", false),
    ])
    func keywords(schema: String, text: String, accepted: Bool) throws {
        #expect(try Self.accepts(schema, text) == accepted, "\(text) under \(schema)")
    }

    @Test(arguments: [
        // uniqueItems over a bounded domain of scalars; equal values in other spellings repeat.
        (#"{"uniqueItems": true, "items": {"enum": ["a", "b", 1]}}"#, #"["a", 1, "b"]"#, true),
        (#"{"uniqueItems": true, "items": {"enum": ["a", "b", 1]}}"#, #"["a", 1, "a"]"#, false),
        (#"{"uniqueItems": true, "items": {"enum": ["a", "b", 1]}}"#, "[1, 1.0]", false),
        (#"{"uniqueItems": true, "items": {"enum": ["a", "b", 1]}}"#, #"["c"]"#, false),
        (#"{"uniqueItems": true, "items": {"type": "boolean"}, "minItems": 2}"#, "[true, false]", true),
        (#"{"uniqueItems": true, "items": {"type": "boolean"}, "minItems": 2}"#, "[true]", false),
        (#"{"uniqueItems": true, "items": {"type": "boolean"}}"#, "[false, false]", false),
        (#"{"uniqueItems": true, "items": {"type": "string", "enum": ["x", 2, "y"]}, "maxItems": 1}"#, #"["y"]"#, true),
        (#"{"uniqueItems": true, "items": {"type": "string", "enum": ["x", 2, "y"]}, "maxItems": 1}"#, #"["x", "y"]"#, false),
        (#"{"uniqueItems": true, "items": {"type": "string", "enum": ["x", 2, "y"]}, "maxItems": 1}"#, "[2]", false),
        // Bounds written with exponents (as Python writes them).
        (#"{"minimum": 1e-06}"#, "0.000001", true), (#"{"minimum": 1e-06}"#, "0.00000099", false),
        (#"{"exclusiveMaximum": 2.5E+3}"#, "2499.9", true), (#"{"exclusiveMaximum": 2.5E+3}"#, "2500", false),
    ])
    func uniqueItemsAndExponentBounds(schema: String, text: String, accepted: Bool) throws {
        #expect(try Self.accepts(schema, text) == accepted, "\(text) under \(schema)")
    }

    @Test func registryDocumentsResolve() throws {
        let options = JSONSchemaOptions(documents: ["https://x.test/types.json": try JSONValue.parse(#"{"$defs": {"id": {"type": "integer", "minimum": 1}}}"#)])
        let schema = #"{"properties": {"id": {"$ref": "https://x.test/types.json#/$defs/id"}}}"#
        #expect(try Self.accepts(schema, #"{"id": 3}"#, options: options))
        #expect(try !Self.accepts(schema, #"{"id": 0}"#, options: options))
        // Without the document the reference is refused, at its pointer.
        #expect { _ = try Grammar.jsonSchema(schema) } throws: {
            ($0 as! ConstraintError).feature == "$ref" && ($0 as! ConstraintError).location == "#/properties/id/$ref"
        }
    }

    @Test func documentsOfAnotherDraftAreRefused() throws {
        let other = try JSONValue.parse(#"{"$schema": "http://json-schema.org/draft-04/schema#", "type": "integer"}"#)
        let options = JSONSchemaOptions(documents: ["https://x.test/old.json": other])
        #expect { _ = try JSONSchemaCompiler.compile(text: #"{"$ref": "https://x.test/old.json"}"#, options: options) } throws: {
            ($0 as! ConstraintError).feature == "$schema"
        }
        #expect { _ = try Grammar.jsonSchema(#"{"items": {"$schema": "http://json-schema.org/draft-07/schema#"}}"#) } throws: {
            ($0 as! ConstraintError).feature == "$schema" && ($0 as! ConstraintError).location == "#/items/$schema"
        }
    }

    @Test func unknownFormatsAreAnnotations() throws {
        let result = try JSONSchemaCompiler.compile(text: #"{"type": "string", "format": "int32"}"#)
        #expect(result.warnings.contains { $0.feature == "format" && $0.location == "#/format" })
        #expect(JSONSchemaTestSuiteTests.walk(result.grammar, #""anything""#, sampleMasks: true))
        // A format the draft defines but we do not enforce is still refused when formats are asserted.
        #expect { _ = try Grammar.jsonSchema(#"{"format": "hostname"}"#) } throws: { ($0 as! ConstraintError).feature == "format" }
    }

    @Test func overlappingOneOfRefusedWhereANegationIs() {
        #expect { _ = try Grammar.jsonSchema(#"{"oneOf": [{"pattern": "a"}, {"pattern": "b"}]}"#) } throws: {
            ($0 as! ConstraintError).feature == "pattern" && ($0 as! ConstraintError).location.hasPrefix("#/oneOf/")
        }
        let many = (0..<7).map { #"{"minimum": \#($0)}"# }.joined(separator: ", ")
        #expect { _ = try Grammar.jsonSchema(#"{"oneOf": [\#(many)]}"#) } throws: {
            ($0 as! ConstraintError).feature == "oneOf" && ($0 as! ConstraintError).location == "#/oneOf"
        }
    }

    @Test func uniqueItemsOverUnboundedDomainsIsRefused() {
        #expect { _ = try Grammar.jsonSchema(#"{"items": {"type": "string"}, "uniqueItems": true}"#) } throws: {
            ($0 as! ConstraintError).feature == "uniqueItems" && ($0 as! ConstraintError).location == "#/uniqueItems"
        }
    }

    @Test(arguments: [
        (#"{"$ref": 5}"#, "#/$ref"), (#"{"required": "a"}"#, "#/required"), (#"{"type": "strin"}"#, "#/type"),
        (#"{"minLength": -1}"#, "#/minLength"), (#"{"maxItems": 1.5}"#, "#/maxItems"), (#"{"properties": {"a": 3}}"#, "#/properties/a"),
        (#"{"allOf": []}"#, "#/allOf"), (#"{"anyOf": {}}"#, "#/anyOf"), (#"{"enum": 1}"#, "#/enum"), (#"{"pattern": 1}"#, "#/pattern"),
        (#"{"dependentRequired": {"a": [1]}}"#, "#/dependentRequired/a"), (#"{"exclusiveMinimum": true}"#, "#/exclusiveMinimum"),
        (#"{"$schema": "http://json-schema.org/draft-04/schema#", "items": true}"#, "#/items"),
        (#"{"$schema": "http://json-schema.org/draft-04/schema#", "minimum": 1, "exclusiveMinimum": 1}"#, "#/exclusiveMinimum"),
        (##"{"items": {"$ref": "#/$defs/a"}, "$defs": {"a": {"type": 3}}}"##, "#/$defs/a/type"),
    ])
    func malformedSchemasAreRejected(schema: String, location: String) {
        #expect { _ = try Grammar.jsonSchema(schema) } throws: { error in
            let e = error as! ConstraintError
            return e.code == .invalidSchema && e.location == location
        }
    }
}

/// `SchemaURI.resolve` against RFC 3986 §5.4's examples (base `http://a/b/c/d;p?q`).
@Suite struct SchemaURITests {
    @Test(arguments: [
        ("g", "http://a/b/c/g"), ("./g", "http://a/b/c/g"), ("g/", "http://a/b/c/g/"), ("/g", "http://a/g"), ("//g", "http://g"),
        ("?y", "http://a/b/c/d;p?y"), ("g?y", "http://a/b/c/g?y"), ("#s", "http://a/b/c/d;p?q#s"), ("g#s", "http://a/b/c/g#s"),
        ("", "http://a/b/c/d;p?q"), (".", "http://a/b/c/"), ("..", "http://a/b/"), ("../g", "http://a/b/g"),
        ("../..", "http://a/"), ("../../g", "http://a/g"), ("../../../g", "http://a/g"), ("/./g", "http://a/g"),
        ("g.", "http://a/b/c/g."), ("g;x=1/../y", "http://a/b/c/y"), ("urn:x:y", "urn:x:y"),
    ])
    func rfc3986Examples(reference: String, resolved: String) {
        #expect(SchemaURI.resolve(reference, against: "http://a/b/c/d;p?q") == resolved)
    }
}
