import Testing
@testable import Constraints

/// The whitespace of JSON Schema grammars (`JSONWhitespace`): pretty-printed output and a model's
/// indentation tokens pass, padding is bounded per gap, the gap before punctuation agrees with the
/// gap before values, and nothing follows the root value.
@Suite struct JSONWhitespaceTests {
    static let schema = #"{"type": "object", "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "integer"}}, "owner": {"type": "object", "properties": {"id": {"type": "integer"}}}}}"#

    /// `json.dumps(doc, indent=n)` of `{"name": "x", "tags": [1, 2], "owner": {"id": 3}}`.
    static func pretty(indent n: Int) -> String {
        let i1 = String(repeating: " ", count: n), i2 = String(repeating: " ", count: 2 * n)
        return "{\n\(i1)\"name\": \"x\",\n\(i1)\"tags\": [\n\(i2)1,\n\(i2)2\n\(i1)],\n\(i1)\"owner\": {\n\(i2)\"id\": 3\n\(i1)}\n}"
    }

    static func accepts(_ text: String, _ whitespace: JSONWhitespace = .standard, schema: String = schema) throws -> Bool {
        var c = Constraint(grammar: try Grammar.jsonSchema(schema, options: .init(whitespace: whitespace)),
                           vocabulary: SyntheticVocabulary.shared)
        let bytes = Array(text.utf8)
        return c.advance(bytes: bytes) == bytes.count && c.isAccepting
    }

    @Test(arguments: [2, 4, 8])
    func prettyPrintedOutputPasses(indent: Int) throws {
        #expect(try Self.accepts(Self.pretty(indent: indent)))
        // The old default (two bytes per gap) refused every indented line: a line feed and two spaces are three.
        #expect(try !Self.accepts(Self.pretty(indent: indent), JSONWhitespace(maxBytes: 2, maxNewlines: nil)))
    }

    @Test func gapsAreBoundedInBytesAndLineFeeds() throws {
        let most = JSONWhitespace.defaultMaxBytes - 1   // spaces after the line feed
        // Before a value, and before punctuation: the same bound (one automaton for both).
        #expect(try Self.accepts("{\"tags\":\n" + String(repeating: " ", count: most) + "[1]}"))
        #expect(try !Self.accepts("{\"tags\":\n" + String(repeating: " ", count: most + 1) + "[1]}"))
        #expect(try Self.accepts("{\"tags\": [1\n" + String(repeating: " ", count: most) + "]}"))
        #expect(try !Self.accepts("{\"tags\": [1\n" + String(repeating: " ", count: most + 1) + "]}"))
        // One line feed per gap by default; more when asked.
        #expect(try !Self.accepts("{\n\n\"name\": \"x\"}"))
        #expect(try Self.accepts("{\n\n\"name\": \"x\"}", JSONWhitespace(maxBytes: 8, maxNewlines: 2)))
        #expect(try Self.accepts("{\"name\":\"x\"}", .none))
        #expect(try !Self.accepts("{\"name\":\"x\" }", .none))
        #expect(try Self.accepts("{" + String(repeating: " ", count: 500) + "}", .unbounded))
    }

    /// Once the root value is complete only EOS may follow: no whitespace to pad with.
    @Test(arguments: [#"{"name": "x"}"#, "[1, 2]", "12", "\"s\"", "true"])
    func nothingFollowsTheRootValue(text: String) throws {
        let schema = #"{"anyOf": [{"type": "object"}, {"type": "array"}, {"type": "number"}, {"type": "string"}, {"type": "boolean"}]}"#
        var c = Constraint(grammar: try Grammar.jsonSchema(schema), vocabulary: SyntheticVocabulary.shared)
        let read = c.advance(bytes: Array(text.utf8))
        #expect(read == text.utf8.count)
        #expect(c.isAccepting)
        for ws in [" ", "\n", "\t", "\r"] {
            let allowed = c.allows(Int(ws.utf8.first!))
            #expect(!allowed, "\(ws.debugDescription) after \(text)")
        }
        let mask = c.mask()
        #expect(mask.contains(SyntheticVocabulary.eos))
        if text == "12" {
            let digit = c.allows(Int(UInt8(ascii: "3")))   // a number may still go on
            #expect(digit)
        } else {
            #expect(mask.allowed == [SyntheticVocabulary.eos])
        }
    }

    /// A vocabulary with a model's whitespace tokens (line feed plus indentation, up to past the
    /// bound): the masks equal `allows` at every prefix of pretty-printed output, so the gap's mask
    /// classes (counts far from the bound share one) are exact.
    @Test func masksAreExactWithIndentationTokens() throws {
        var tokens = (0...255).map { [UInt8($0)] } + SyntheticVocabulary.fragments.map { Array($0.utf8) }
        for n in [1, 2, 4, 8, 16, 24, 31, 32, 33, 40] { tokens.append(Array(("\n" + String(repeating: " ", count: n)).utf8)) }
        tokens += [",\n", "[\n", "{\n", "  ", "    ", "\n\n", " \n"].map { Array($0.utf8) }
        tokens.append([])
        let vocabulary = TokenVocabulary(tokenBytes: tokens, endOfSequence: [tokens.count - 1])
        let indentation = tokens.count - 1 - 7 - 10   // the first line-feed token
        for indent in [2, 4] {
            var c = Constraint(grammar: try Grammar.jsonSchema(Self.schema), vocabulary: vocabulary)
            var usedIndentationToken = false
            var text = Array(Self.pretty(indent: indent).utf8)[...]
            while !text.isEmpty {
                let mask = c.mask()
                for t in 0..<vocabulary.count {
                    let allowed = c.allows(t)
                    #expect(mask.contains(t) == allowed, "token \(t) after \(c.tokenCount) tokens")
                }
                let next = vocabulary.tokens(prefixing: text).first { c.allows($0.token) }!
                if next.token >= indentation && next.token < indentation + 10 { usedIndentationToken = true }
                let advanced = c.advance(next.token)
                #expect(advanced)
                text = text.dropFirst(next.length)
            }
            #expect(c.isAccepting)
            #expect(usedIndentationToken)
        }
    }
}
