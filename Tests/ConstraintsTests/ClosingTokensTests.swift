import Testing
@testable import Constraints

/// `Constraint.closingTokens`: an output cut anywhere is closed with the shortest valid completion,
/// and the closed text parses and satisfies the schema (checked by a JSON parse and the schema's
/// rules by hand, and by a fresh constraint walking it).
@Suite struct ClosingTokensTests {
    static let person = #"""
        {"type": "object", "required": ["name", "age", "tags"], "additionalProperties": false,
         "properties": {"name": {"type": "string", "minLength": 2}, "age": {"type": "integer", "minimum": 18},
                        "tags": {"type": "array", "minItems": 1, "items": {"enum": ["a", "b"]}},
                        "address": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}}},
                        "scores": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}}}
        """#

    /// Closes `prefix` under `grammar`: the closing must be accepted token by token and end where
    /// EOS is allowed; returns the closed text.
    static func close(_ grammar: Grammar, _ prefix: String) throws -> String {
        let vocabulary = SyntheticVocabulary.shared
        var c = Constraint(grammar: grammar, vocabulary: vocabulary)
        let tokens = try #require(vocabulary.greedySegmentation(Array(prefix.utf8)))
        for t in tokens {
            let advanced = c.advance(t)
            try #require(advanced, "prefix \(prefix) refused")
        }
        let found = c.closingTokens()
        let closing = try #require(found, "no closing for \(prefix)")
        for t in closing {
            let advanced = c.advance(t)
            #expect(advanced)
        }
        let ends = c.allows(SyntheticVocabulary.eos)
        #expect(ends)
        let bytes = tokens.flatMap { vocabulary.tokenBytes[$0] } + closing.flatMap { vocabulary.tokenBytes[$0] }
        // A fresh constraint agrees the whole text is complete.
        var fresh = Constraint(grammar: grammar, vocabulary: vocabulary)
        let read = fresh.advance(bytes: bytes)
        #expect(read == bytes.count && fresh.isAccepting)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The person schema's rules, checked on the parsed value (not through the compiler).
    static func violations(_ text: String) -> [String] {
        guard case .object(let members)? = try? JSONValue.parse(text) else { return ["not an object: \(text)"] }
        var out: [String] = []
        let object = Dictionary(members, uniquingKeysWith: { a, _ in a })
        for key in ["name", "age", "tags"] where object[key] == nil { out.append("missing \(key)") }
        for key in object.keys where !["name", "age", "tags", "address", "scores"].contains(key) { out.append("extra \(key)") }
        if case .string(let s)? = object["name"], s.count < 2 { out.append("name too short") }
        if let age = object["age"] {
            guard case .number(let n) = age, let value = Double(n.description), value >= 18, value == value.rounded() else { return out + ["age \(age)"] }
        }
        if case .array(let tags)? = object["tags"] {
            if tags.isEmpty { out.append("no tags") }
            for tag in tags where tag != .string("a") && tag != .string("b") { out.append("tag \(tag)") }
        } else if object["tags"] != nil { out.append("tags not an array") }
        if let address = object["address"] {
            guard case .object(let a) = address, a.contains(where: { $0.key == "city" }) else { return out + ["address \(address)"] }
            if let zip = a.first(where: { $0.key == "zip" })?.value {
                guard case .string(let z) = zip, z.count == 5, z.allSatisfy(\.isNumber) else { return out + ["zip \(zip)"] }
            }
        }
        return out
    }

    @Test(arguments: [
        // (cut output, the expected closed text: the shortest completion; among equally short ones the
        // search's order decides, here which missing key comes first)
        (#"{"name": "Jo"#, #"{"name": "Jo","age":18,"tags":["a"]}"#),                      // inside a string, required missing
        (#"{"name": "J"#, #"{"name": "J0","age":18,"tags":["a"]}"#),                       // minLength not yet met
        (#"{"age": 4"#, #"{"age": 40,"name":"00","tags":["a"]}"#),                         // inside a number under a minimum
        (#"{"age": 21."#, #"{"age": 21.0,"name":"00","tags":["a"]}"#),                     // an integer's fraction
        (#"{"tags": ["a", "#, #"{"tags": ["a", "a"],"age":18,"name":"00"}"#),              // inside an array, an enum string open
        (#"{"name": "Jo", "age": 30, "tags": ["b"], "address": {"zip": "12"#,
         #"{"name": "Jo", "age": 30, "tags": ["b"], "address": {"zip": "12000","city":""}}"#), // nested object, pattern
        (#"{"name": "Jo", "age": 30, "tags": ["b"], "scores": [[1.5, -"#,
         #"{"name": "Jo", "age": 30, "tags": ["b"], "scores": [[1.5, -0]]}"#),              // nested arrays, a bare minus
        (#"{"#, #"{"name":"00","age":18,"tags":["a"]}"#),
        ("", #"{"age":18,"name":"00","tags":["a"]}"#),
        (#"{"name": "Jo", "age": 30, "tags": ["b"]"#, #"{"name": "Jo", "age": 30, "tags": ["b"]}"#),
        (#"{"name": "Jo", "age": 30, "tags": ["b"]}"#, #"{"name": "Jo", "age": 30, "tags": ["b"]}"#),
    ])
    func closesJSONSchemaOutputs(cut: String, expected: String) throws {
        let grammar = try Grammar.jsonSchema(Self.person)
        let closed = try Self.close(grammar, cut)
        #expect(closed == expected)
        #expect(Self.violations(closed).isEmpty, "\(Self.violations(closed)) in \(closed)")
    }

    @Test func closesRegexAndGrammarOutputs() throws {
        #expect(try Self.close(try Grammar.regex("[A-Z][a-z]+ [0-9]{3}-[0-9]{4}"), "Ab 12") == "Ab 120-0000")
        let arithmetic = try Grammar.parse("""
            root ::= expr
            expr ::= term (("+" | "-") term)*
            term ::= num | "(" expr ")"
            num ::= [0-9]+
            """)
        #expect(try Self.close(arithmetic, "((1+") == "((1+0))")
        #expect(try Self.close(try Grammar.phrases(["foo", "bar"]), "xx foo") == "xx foobar")
    }

    /// A completion past the byte bound is not searched for: nil, not a long wait. Strings with a
    /// minimum length close with plain characters (a search through `\u` escapes would exhaust its
    /// state bound first).
    @Test func boundedSearch() throws {
        var c = Constraint(grammar: try Grammar.jsonSchema(#"{"type": "array", "minItems": 100, "items": {"type": "string", "minLength": 20}}"#),
                           vocabulary: SyntheticVocabulary.shared)
        let tooLong = c.closingTokens(maxBytes: 1000)
        #expect(tooLong == nil)
        let found = c.closingTokens()
        let closing = try #require(found)
        #expect(closing.count > 100)
    }
}
