import Foundation
import Testing
@testable import Constraints

/// `multipleOf`: the remainder automaton against Foundation's Decimal as the oracle, liveness of every
/// prefix it allows, and the schema keyword walked token by token.
@Suite struct MultipleOfLexemeTests {
    static let divisors: [(String, Bool)] = [
        ("2", false), ("3", true), ("1.5", false), ("0.5", false), ("0.0001", true), ("0.0001", false),
        ("7", false), ("0.25", false), ("100", false), ("1e-8", false), ("2.5e1", true),
    ]

    static func candidates() -> [String] {
        var out: [String] = []
        for whole in ["0", "1", "2", "3", "4", "6", "7", "9", "10", "12", "14", "21", "25", "35", "75", "100", "150", "12391239123"] {
            for sign in ["", "-"] {
                out.append(sign + whole)
                for fraction in ["0", "5", "25", "00", "50", "0075", "00751", "000000001", "500"] { out.append(sign + whole + "." + fraction) }
            }
        }
        return out
    }

    static func oracle(_ text: String, divisor: String, integerOnly: Bool) -> Bool {
        let x = Decimal(string: text)!, m = Decimal(string: divisor)!
        func isIntegral(_ v: Decimal) -> Bool {
            var copy = v, rounded = Decimal()
            NSDecimalRound(&rounded, &copy, 0, .plain)
            return rounded == v
        }
        return isIntegral(x / m) && (!integerOnly || isIntegral(x))
    }

    static func lexeme(_ divisor: String, integerOnly: Bool) -> MultipleOfLexeme {
        let (modulus, scale) = MultipleOfLexeme.decompose(DecimalNumber(divisor)!, maxScale: 100)!
        return MultipleOfLexeme(modulus: modulus, scale: scale, integerOnly: integerOnly)
    }

    @Test(arguments: divisors.indices)
    func acceptsExactlyTheMultiples(index: Int) {
        let (divisor, integerOnly) = Self.divisors[index]
        let lexeme = Self.lexeme(divisor, integerOnly: integerOnly)
        for text in Self.candidates() {
            #expect(lexeme.matches(text.utf8) == Self.oracle(text, divisor: divisor, integerOnly: integerOnly),
                    "\(text) multipleOf \(divisor) integerOnly \(integerOnly)")
        }
        // Exponent spellings are never generated (documented): rejected even when the value is a multiple.
        for text in ["1e2", "1E2", "2e0", "-4e+1", "1.5e1"] { #expect(!lexeme.matches(text.utf8), "\(text)") }
        // JSON syntax: no leading zeros, no bare sign or dot.
        for text in ["00", "-", "", "2.", ".5", "+2", "-00"] { #expect(!lexeme.matches(text.utf8), "\(text)") }
    }

    /// Every prefix the lexeme allows has an accepted completion of a few more characters.
    @Test(arguments: divisors.indices)
    func everyAllowedPrefixIsLive(index: Int) {
        let (divisor, integerOnly) = Self.divisors[index]
        let lexeme = Self.lexeme(divisor, integerOnly: integerOnly)
        var frontier: [(Int32, Int)] = [(lexeme.startState, 0)]
        while let (state, depth) = frontier.popLast() {
            #expect(Self.completes(lexeme, state, depth: 8), "dead state \(state) of multipleOf \(divisor)")
            guard depth < 4 else { continue }
            for b in Array("-0123456789.".utf8) {
                let n = lexeme.next(state, b)
                if n >= 0 { frontier.append((n, depth + 1)) }
            }
        }
    }

    static func completes(_ lexeme: MultipleOfLexeme, _ state: Int32, depth: Int) -> Bool {
        if lexeme.isAccepting(state) { return true }
        guard depth > 0 else { return false }
        return Array("0123456789.".utf8).contains { b in
            let n = lexeme.next(state, b)
            return n >= 0 && completes(lexeme, n, depth: depth - 1)
        }
    }

    @Test func combinesDivisorsByTheirLeastCommonMultiple() {
        let (modulus, scale) = MultipleOfLexeme.combine([(4, 0), (6, 0)])!
        #expect(modulus == 12 && scale == 0)
        // 0.5 and 0.02 at scale 2 are 50 and 2 hundredths: their common multiples are those of 0.5.
        let mixed = MultipleOfLexeme.combine([(5, 1), (2, 2)])!
        #expect(mixed.modulus == 50 && mixed.scale == 2)
        #expect(MultipleOfLexeme.combine([(999_999_999_989, 0), (999_999_999_959, 0)]) == nil)
        #expect(MultipleOfLexeme.decompose(DecimalNumber("1e30")!, maxScale: 100) == nil)
        #expect(MultipleOfLexeme.decompose(DecimalNumber("1e-101")!, maxScale: 100) == nil)
    }

    @Test(arguments: [
        (#"{"multipleOf": 0.5}"#, "1.5", true), (#"{"multipleOf": 0.5}"#, "-2.50", true), (#"{"multipleOf": 0.5}"#, "-0", true),
        (#"{"multipleOf": 0.5}"#, "0.25", false), (#"{"multipleOf": 0.5}"#, "\"x\"", true), (#"{"multipleOf": 0.5}"#, "1e1", false),
        (#"{"type": "integer", "multipleOf": 3}"#, "-9", true), (#"{"type": "integer", "multipleOf": 3}"#, "9.0", true),
        (#"{"type": "integer", "multipleOf": 3}"#, "10", false), (#"{"type": "integer", "multipleOf": 1.5}"#, "4.5", false),
        (#"{"type": "integer", "multipleOf": 1.5}"#, "3", true), (#"{"type": "integer", "multipleOf": 3}"#, "0", true),
        (#"{"allOf": [{"multipleOf": 4}, {"multipleOf": 6}]}"#, "24", true), (#"{"allOf": [{"multipleOf": 4}, {"multipleOf": 6}]}"#, "18", false),
        (#"{"allOf": [{"multipleOf": 4}, {"multipleOf": 6}]}"#, "8", false),
        (#"{"type": "array", "items": {"multipleOf": 0.01}}"#, "[1.25, -0.10, 3]", true),
        (#"{"type": "array", "items": {"multipleOf": 0.01}}"#, "[1.25, 0.001]", false),
    ])
    func schemaKeyword(schema: String, text: String, accepted: Bool) throws {
        let grammar = try Grammar.jsonSchema(schema)
        #expect(JSONSchemaTestSuiteTests.walk(grammar, text, sampleMasks: true) == accepted, "\(text) under \(schema)")
    }

    @Test(arguments: [
        (#"{"multipleOf": 2, "minimum": 0}"#, "#/multipleOf"),
        (#"{"properties": {"a": {"multipleOf": 1e-200}}}"#, "#/properties/a/multipleOf"),
        (#"{"not": {"type": "integer"}, "multipleOf": 0.5}"#, "#/multipleOf"),
    ])
    func refusalsAreLocated(schema: String, location: String) {
        #expect {
            _ = try Grammar.jsonSchema(schema)
        } throws: { error in
            let e = error as! ConstraintError
            return e.code == .unsupportedKeyword && e.feature == "multipleOf" && e.location == location
        }
    }

    @Test(arguments: [#"{"multipleOf": 0}"#, #"{"multipleOf": -2}"#, #"{"multipleOf": "2"}"#])
    func nonPositiveDivisorsAreInvalid(schema: String) {
        #expect {
            _ = try Grammar.jsonSchema(schema)
        } throws: { error in (error as! ConstraintError).code == .invalidSchema }
    }
}
