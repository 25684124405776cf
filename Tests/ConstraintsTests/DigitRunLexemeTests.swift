import Testing
@testable import Constraints

/// `JSONSchemaOptions.maxNumberDigits`: every digit run of a number (integer part, fraction,
/// exponent) holds at most the bound, 22 by default. Before, a number could grow forever
/// (`"affected_users": -0.000000…` under `{"type": "integer", "minimum": 0}`).
@Suite struct DigitRunLexemeTests {
    static func run(_ n: Int, _ digit: String = "1") -> String { String(repeating: digit, count: n) }

    static func accepts(_ schema: String, _ text: String, maxDigits: Int? = JSONSchemaOptions.defaultMaxNumberDigits) throws -> Bool {
        let grammar = try JSONSchemaCompiler.compile(text: schema, options: .init(maxNumberDigits: maxDigits)).grammar
        return JSONSchemaTestSuiteTests.walk(grammar, text, sampleMasks: true)
    }

    static let integerAtLeastZero = #"{"type": "integer", "minimum": 0}"#

    @Test(arguments: [
        // Unbounded numbers (a regex), integers and non-integers.
        (#"{"type": "number"}"#, run(22), true), (#"{"type": "number"}"#, run(23), false),
        (#"{"type": "number"}"#, "0." + run(22, "0"), true), (#"{"type": "number"}"#, "0." + run(23, "0"), false),
        (#"{"type": "number"}"#, "1e" + run(22), true), (#"{"type": "number"}"#, "1e-" + run(23, "0"), false),
        (#"{"type": "integer"}"#, "-0." + run(22, "0"), true), (#"{"type": "integer"}"#, "-0." + run(23, "0"), false),
        (#"{"type": "number", "not": {"type": "integer"}}"#, "0." + run(21, "0") + "5", true),
        (#"{"type": "number", "not": {"type": "integer"}}"#, "0." + run(22, "0") + "5", false),
        // Bounded numbers (`NumberLexeme` inside `DigitRunLexeme`): the real model's route.
        (integerAtLeastZero, "-0." + run(22, "0"), true), (integerAtLeastZero, "-0." + run(23, "0"), false),
        (integerAtLeastZero, run(22), true), (integerAtLeastZero, run(23), false),
        (#"{"type": "number", "minimum": 1, "maximum": 2}"#, "1." + run(22), true),
        (#"{"type": "number", "minimum": 1, "maximum": 2}"#, "1." + run(23), false),
        // Exponent zeros leave room for the significant digits the bounds check.
        (#"{"type": "number", "maximum": 5}"#, "1e" + run(13, "0"), true),
        (#"{"type": "number", "maximum": 5}"#, "1e" + run(14, "0"), false),
        // Enum and const: the value is never cut, only zeros after it.
        (#"{"enum": [1.5]}"#, "1.5" + run(22, "0"), true), (#"{"enum": [1.5]}"#, "1.5" + run(23, "0"), false),
        (#"{"const": 2}"#, "2." + run(22, "0"), true), (#"{"const": 2}"#, "2." + run(23, "0"), false),
    ])
    func runsAreBounded(schema: String, text: String, accepted: Bool) throws {
        #expect(try Self.accepts(schema, text) == accepted, "\(text) under \(schema)")
    }

    /// A schema whose own numbers need longer runs keeps its instances: the bound widens there.
    @Test func schemaNumbersWidenTheBound() throws {
        let tiny = #"{"type": "number", "exclusiveMinimum": 0, "maximum": 1e-30}"#
        #expect(try Self.accepts(tiny, "0." + Self.run(30, "0") + "1"))
        #expect(try Self.accepts(#"{"type": "integer", "minimum": 1e30}"#, "1" + Self.run(30, "0")))
        #expect(try Self.accepts(#"{"const": 123456789012345678901234567890}"#, "123456789012345678901234567890"))
        // A bound widens its own number only: a huge maximum leaves the other numbers bounded.
        let huge = #"{"properties": {"big": {"type": "number", "maximum": 1.7976931348623157e308}, "n": {"type": "number"}}}"#
        #expect(try Self.accepts(huge, #"{"big": 1\#(Self.run(300, "0"))}"#))
        #expect(try !Self.accepts(huge, #"{"n": 1\#(Self.run(22, "0"))}"#))
        // Without a bound, runs are unbounded as before.
        #expect(try Self.accepts(#"{"type": "number"}"#, Self.run(40), maxDigits: nil))
    }

    /// No allowed prefix is a dead end where a run fills up: under `exclusiveMinimum: 0`, the 22nd
    /// fraction zero is refused (0 is not allowed), while a 22nd non-zero digit ends the number.
    @Test func aFullRunIsNeverADeadEnd() throws {
        let grammar = try Grammar.jsonSchema(#"{"type": "number", "exclusiveMinimum": 0, "maximum": 1}"#)
        var c = Constraint(grammar: grammar, vocabulary: SyntheticVocabulary.shared)
        let prefix = Array(("0." + Self.run(21, "0")).utf8)
        #expect(c.advance(bytes: prefix) == prefix.count)
        let zero = c.allows(Int(UInt8(ascii: "0"))), one = c.allows(Int(UInt8(ascii: "1")))
        #expect(!zero && one)
    }

    /// Closing a number cut at the bound ends it without another digit.
    @Test func closingHonoursTheBound() throws {
        let grammar = try Grammar.jsonSchema(#"{"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}, "required": ["n"]}"#)
        let closed = try ClosingTokensTests.close(grammar, #"{"n": -0."# + Self.run(22, "0"))
        #expect(closed == #"{"n": -0."# + Self.run(22, "0") + "}")
        let cutAfterPoint = try ClosingTokensTests.close(try Grammar.jsonSchema(#"{"type": "number"}"#), "1" + Self.run(21, "0") + ".")
        #expect(cutAfterPoint == "1" + Self.run(21, "0") + ".0")
    }
}
