import Testing
@testable import Constraints

/// Objects never repeat a named key, whatever their number of named properties: the member loop's
/// items carry the keys read (`KeySetTable`, `Grammar.inheritsKeys`). Before, only objects of up to 8
/// named properties refused a repeat (one grammar state per subset of keys seen); a weak model wrote
/// the same key of a larger object forever.
@Suite struct KeySetTableTests {
    /// An object with `count` optional integer properties `p0`, `p1`, …, the first `required` of them
    /// required.
    static func schema(count: Int, required: Int = 0, additional: Bool = true) -> String {
        let properties = (0..<count).map { #""p\#($0)": {"type": "integer"}"# }.joined(separator: ", ")
        let names = (0..<required).map { #""p\#($0)""# }.joined(separator: ", ")
        return #"{"type": "object", "properties": {\#(properties)}, "required": [\#(names)], "additionalProperties": \#(additional)}"#
    }

    static func object(_ keys: [Int]) -> String {
        "{" + keys.enumerated().map { #""p\#($1)": \#($0)"# }.joined(separator: ", ") + "}"
    }

    static func accepts(_ schema: String, _ text: String) throws -> Bool {
        JSONSchemaTestSuiteTests.walk(try Grammar.jsonSchema(schema), text, sampleMasks: true)
    }

    @Test func setsAreInternedByContent() {
        let table = KeySetTable()
        let ab = table.adding(1, to: table.adding(0, to: KeySetTable.empty))
        let ba = table.adding(0, to: table.adding(1, to: KeySetTable.empty))
        #expect(ab == ba)
        #expect(table.adding(1, to: ab) == ab)
        #expect(table.contains(0, in: ab) && table.contains(1, in: ab) && !table.contains(2, in: ab))
        #expect(!table.contains(0, in: KeySetTable.empty))
        #expect(table.count == 4)   // {}, {0}, {1}, {0, 1}
    }

    /// The old constraint accepted `{"p0": 0, "p0": 1}` under 12 named properties.
    @Test(arguments: [
        (schema(count: 12), object([0, 0]), false),
        (schema(count: 12), object([3, 11, 3]), false),
        (schema(count: 12), object(Array(0..<12)), true),
        (schema(count: 12), object(Array((0..<12).reversed())), true),
        (schema(count: 12), object([11, 2, 5]), true),
        // Keys outside `properties` are not tracked, as before.
        (schema(count: 12), #"{"x": 1, "x": 2}"#, true),
        (schema(count: 12), #"{"x": 1, "p4": 2, "x": 3, "p4": 4}"#, false),
        // Required keys stay exact beside the key set.
        (schema(count: 12, required: 3), object([0, 1, 2]), true),
        (schema(count: 12, required: 3), object([0, 5, 1, 9]), false),
        (schema(count: 12, required: 3), object([9, 2, 0, 1]), true),
        (schema(count: 12, required: 3), object([9, 2, 0, 9, 1]), false),
        (schema(count: 12, required: 3), object([0, 0, 1, 2]), false),
        // Nested objects have their own key sets.
        (#"{"properties": {"a": \#(schema(count: 10)), "b": true}}"#, #"{"a": {"p1": 1}, "b": {"p1": 2}}"#, true),
        (#"{"items": \#(schema(count: 10))}"#, #"[{"p1": 1, "p2": 2}, {"p2": 3, "p1": 4}]"#, true),
        (#"{"items": \#(schema(count: 10))}"#, #"[{"p1": 1, "p2": 2}, {"p2": 3, "p2": 4}]"#, false),
    ])
    func repeatedNamedKeysAreRefused(schema: String, text: String, accepted: Bool) throws {
        #expect(try Self.accepts(schema, text) == accepted, "\(text)")
    }

    /// With no other keys allowed, once every named key is written the object can only close: a `,`
    /// would be a dead end.
    @Test func noCommaAfterTheLastKey() throws {
        let grammar = try Grammar.jsonSchema(Self.schema(count: 9, additional: false))
        var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        let text = Self.object(Array(0..<9))
        let prefix = Array(text.utf8.dropLast())
        #expect(c.advance(bytes: prefix) == prefix.count)
        let comma = c.allows(Int(UInt8(ascii: ","))), close = c.allows(Int(UInt8(ascii: "}")))
        #expect(!comma && close)
        let closing = c.closingTokens()
        #expect(closing != nil)
    }

    /// Rolling back a key (speculative decoding rejecting drafted tokens) makes it writable again,
    /// and a fork keeps its own key set.
    @Test func rollbackRestoresAKey() throws {
        let vocabulary = SyntheticVocabulary.shared
        let grammar = try Grammar.jsonSchema(Self.schema(count: 20))
        var c = Constraint(grammar: grammar, vocabulary: vocabulary)
        func tokens(_ text: String) throws -> [Int] { try #require(vocabulary.greedySegmentation(Array(text.utf8))) }
        func write(_ text: String, _ c: inout Constraint) throws {
            for t in try tokens(text) {
                let advanced = c.advance(t)
                #expect(advanced, "\(text)")
            }
        }
        try write(#"{"p0": 1, "#, &c)
        let fork = c
        let written = try tokens(#""p7": 2, "#)
        for t in written {
            let advanced = c.advance(t)
            #expect(advanced)
        }
        // `"p7` may begin another key (`"p7x"`), but its closing quote is refused.
        var probe = c
        let read = probe.advance(bytes: Array(#""p7""#.utf8))
        #expect(read == 3)
        c.rollback(tokens: written.count)
        try write(#""p7": 3}"#, &c)
        #expect(c.isAccepting)
        var other = fork
        try write(#""p7": 4}"#, &other)
        #expect(other.isAccepting)
    }

    /// The grammar grows linearly in the named properties (it grew as 2ⁿ states up to 8), and a
    /// mask stays cheap: compile, walk and mask figures are printed for 9 to 300 properties.
    @Test(arguments: [9, 20, 64, 300])
    func largeObjectsCompileLinearly(count: Int) throws {
        let clock = ContinuousClock()
        var grammar: Grammar?
        let compile = try clock.measure { grammar = try Grammar.jsonSchema(Self.schema(count: count, required: 2)) }
        let g = try #require(grammar)
        // Member rules and the loop: a few productions per property, and 4 object states (2 tracked
        // required keys), not one per subset.
        #expect(g.productions.count < 12 * count + 200, "\(g.productions.count) productions for \(count) properties")
        var c = Constraint(grammar: g, vocabulary: SyntheticVocabulary.shared)
        let keys = Array((0..<count).reversed())
        let text = Self.object(keys)
        var maskTime = Duration.zero
        var masks = 0
        for (i, byte) in text.utf8.dropLast().enumerated() {
            if i % 7 == 0 {
                maskTime += clock.measure { _ = c.mask() }
                masks += 1
            }
            let read = c.advance(bytes: [byte])
            try #require(read == 1, "byte \(i) of \(count) keys refused")
        }
        // Every key written is refused afterwards: `, "p0` may begin another key, its quote may not.
        var probe = c
        let read = probe.advance(bytes: Array(#", "p0""#.utf8))
        #expect(read == 5)
        let closed = c.advance(bytes: Array("}".utf8))
        #expect(closed == 1 && c.isAccepting)
        // One set per key read, plus those a mask walk reads speculatively: linear, never 2ⁿ.
        #expect(g.keySets.count <= 2 * count)
        print("\(count) named properties: compile \(compile), \(g.productions.count) productions, mean mask \(maskTime / masks) over \(masks) masks, \(g.keySets.count) key sets")
    }
}
