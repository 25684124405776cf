import Support
import Testing
@testable import Constraints

/// Numbers written with exponents under numeric bounds, against a brute-force reference: the value
/// parsed exactly (`DecimalNumber`) and compared with the bounds, and liveness as "some syntactically
/// valid completion is accepted".
@Suite struct NumberLexemeExponentTests {
    struct Case: CustomStringConvertible {
        var lower: NumberLexeme.Bound?
        var upper: NumberLexeme.Bound?
        var integerOnly: Bool
        var description: String {
            "[\(lower.map { "\($0.value)\($0.exclusive ? " excl" : "")" } ?? "-inf"), "
                + "\(upper.map { "\($0.value)\($0.exclusive ? " excl" : "")" } ?? "inf")] integer: \(integerOnly)"
        }
    }

    /// A bound such as `-0.35`, `25e-3`, `0`, `4E+01`.
    static func boundText(_ rng: inout SplitMix64) -> String {
        let sign = Bool.random(using: &rng) ? "-" : ""
        let whole = ["0", "1", "3", "25", "4"].randomElement(using: &rng)!
        let fraction = ["", ".5", ".35", ".07"].randomElement(using: &rng)!
        let exponent = ["", "", "e-3", "e-1", "E+01", "e2", "e-06"].randomElement(using: &rng)!
        return sign + whole + fraction + exponent
    }

    static func randomCase(_ rng: inout SplitMix64) -> Case {
        func bound() -> NumberLexeme.Bound? {
            Int.random(in: 0..<5, using: &rng) == 0 ? nil
                : .init(value: DecimalNumber(boundText(&rng))!, exclusive: Bool.random(using: &rng))
        }
        return Case(lower: bound(), upper: bound(), integerOnly: Int.random(in: 0..<4, using: &rng) == 0)
    }

    /// A number with an exponent: signs, leading zeros in the exponent, `e` and `E`.
    static func instance(_ rng: inout SplitMix64) -> String {
        let sign = Int.random(in: 0..<3, using: &rng) == 0 ? "-" : ""
        let whole = ["0", "1", "2", "5", "12", "35", "250", "4"].randomElement(using: &rng)!
        let fraction = ["", "", ".0", ".5", ".25", ".07", ".350"].randomElement(using: &rng)!
        let mark = Bool.random(using: &rng) ? "e" : "E"
        let expSign = ["", "+", "-", "-"].randomElement(using: &rng)!
        let zeros = String(repeating: "0", count: Int.random(in: 0...2, using: &rng))
        let digits = String(Int.random(in: 0...7, using: &rng))
        return sign + whole + fraction + mark + expSign + zeros + digits
    }

    /// The reference: JSON syntax, the lexeme's documented language (`integer` takes exponents only
    /// on an integral mantissa and never negative ones) and the exact value within the bounds.
    static func reference(_ text: String, _ c: Case) -> Bool {
        let bytes = Array(text.utf8)
        guard NumberLexeme.isSyntaxPrefix(bytes, integerOnly: c.integerOnly), let last = bytes.last,
              (0x30...0x39).contains(last), let v = DecimalNumber(text) else { return false }
        if c.integerOnly && !v.isInteger { return false }
        if let l = c.lower, l.exclusive ? !(l.value < v) : v < l.value { return false }
        if let u = c.upper, u.exclusive ? !(v < u.value) : u.value < v { return false }
        return true
    }

    static let completionAlphabet = Array("0123456789.eE+-".utf8)

    /// Whether some completion of at most `depth` more bytes is accepted by the reference.
    static func referenceCompletes(_ prefix: [UInt8], _ c: Case, depth: Int) -> Bool {
        if reference(String(decoding: prefix, as: UTF8.self), c) { return true }
        guard depth > 0 else { return false }
        return completionAlphabet.contains { b in
            let t = prefix + [b]
            return NumberLexeme.isSyntaxPrefix(t, integerOnly: c.integerOnly) && referenceCompletes(t, c, depth: depth - 1)
        }
    }

    /// Whether the lexeme reaches, within `depth` bytes, an accepting state whose text the reference
    /// accepts too.
    static func lexemeCompletes(_ lexeme: NumberLexeme, _ state: Int32, _ text: [UInt8], _ c: Case, depth: Int) -> Bool {
        if lexeme.isAccepting(state) { return reference(String(decoding: text, as: UTF8.self), c) }
        guard depth > 0 else { return false }
        return completionAlphabet.contains { b in
            let s = lexeme.next(state, b)
            return s >= 0 && lexemeCompletes(lexeme, s, text + [b], c, depth: depth - 1)
        }
    }

    /// Completions of the generated bounds need at most this many bytes (`-0.07e-6` from `-`, say).
    static let soundnessDepth = 7
    /// The reference's completion search: enough for a few digits or an exponent such as `e-1`.
    static let completenessDepth = 3

    @Test(arguments: 0..<40)
    func acceptanceAndLivenessMatchTheReference(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed) &* 0x9E37_79B9 &+ 17)
        let c = Self.randomCase(&rng)
        let lexeme = NumberLexeme(lower: c.lower, upper: c.upper, integerOnly: c.integerOnly)
        for _ in 0..<60 {
            let text = Self.instance(&rng)
            #expect(lexeme.matches(text.utf8) == Self.reference(text, c), "'\(text)' under \(c)")
            // Every prefix: admitted by the lexeme exactly when the reference finds a completion
            // (one way by bounded search on each side, so neither depth limit can fake agreement).
            var state = lexeme.startState
            var prefix: [UInt8] = []
            for b in text.utf8 {
                prefix.append(b)
                let next = state >= 0 ? lexeme.next(state, b) : -1
                if next >= 0 {
                    #expect(Self.lexemeCompletes(lexeme, next, prefix, c, depth: Self.soundnessDepth),
                            "'\(String(decoding: prefix, as: UTF8.self))' admitted but dead under \(c)")
                } else if state >= 0 {
                    #expect(!Self.referenceCompletes(prefix, c, depth: Self.completenessDepth),
                            "'\(String(decoding: prefix, as: UTF8.self))' refused but completes under \(c)")
                }
                state = next
            }
        }
    }

    /// Cases that fail on the lexeme without exponents, and exponent edge cases.
    @Test(arguments: [
        ("0", "1", false, "5e-1", true), ("0", "1", false, "5E-0001", true), ("0", "1", false, "1e0", true),
        ("0", "1", false, "1.5e-0", false), ("0", "1", false, "0e999", true), ("0", "1", false, "-0e5", true),
        ("100", "200", false, "1.5E+2", true), ("100", "200", false, "2e2", true), ("100", "200", false, "2.1e2", false),
        ("-1", "-0.001", false, "-5e-1", true), ("-1", "-0.001", false, "-1e-3", true), ("-1", "-0.001", false, "-1e-4", false),
        ("1e-06", "2e-06", false, "15e-7", true), ("1e-06", "2e-06", false, "1.5e-6", true),
        ("0", "1", true, "1e0", true), ("0", "1", true, "1E+0", true), ("0", "1", true, "1e1", false),
        ("10", "1000", true, "2e2", true), ("10", "1000", true, "2.00e2", true), ("10", "1000", true, "2e-0", false),
    ] as [(String, String, Bool, String, Bool)])
    func exponentInstances(lower: String, upper: String, integerOnly: Bool, text: String, accepted: Bool) {
        let lexeme = NumberLexeme(lower: .init(value: DecimalNumber(lower)!, exclusive: false),
                                  upper: .init(value: DecimalNumber(upper)!, exclusive: false), integerOnly: integerOnly)
        #expect(lexeme.matches(text.utf8) == accepted)
    }

    /// Exclusive bounds met exactly by a value with an exponent.
    @Test func exclusiveBoundsWithExponents() {
        let lexeme = NumberLexeme(lower: .init(value: DecimalNumber("0")!, exclusive: true),
                                  upper: .init(value: DecimalNumber("1")!, exclusive: true), integerOnly: false)
        #expect(!lexeme.matches("1e0".utf8))
        #expect(!lexeme.matches("10e-1".utf8))
        #expect(lexeme.matches("9.99e-1".utf8))
        #expect(!lexeme.matches("0e1".utf8))
        #expect(lexeme.matches("1e-999999999".utf8))
    }

    /// Exponents of more than `maxExponentDigits` significant digits are refused where the bounds are
    /// checked, at once and with a bounded state count; leading zeros do not count and share states.
    @Test func hugeExponentsAreBounded() {
        let lexeme = NumberLexeme(lower: .init(value: DecimalNumber("0")!, exclusive: false),
                                  upper: .init(value: DecimalNumber("1")!, exclusive: false), integerOnly: false)
        #expect(!lexeme.matches("1e999999999".utf8))
        #expect(!lexeme.matches("1e-1000000000".utf8))
        #expect(lexeme.matches(("1e-" + String(repeating: "0", count: 10_000) + "1").utf8))
        var state = lexeme.startState
        for b in "1e-".utf8 { state = lexeme.next(state, b) }
        let zero = lexeme.next(state, UInt8(ascii: "0"))
        #expect(zero >= 0 && lexeme.next(zero, UInt8(ascii: "0")) == zero)
        // One-sided bounds: every completion is inside, only syntax is checked, any exponent passes.
        let open = NumberLexeme(lower: .init(value: DecimalNumber("0")!, exclusive: false), upper: nil, integerOnly: false)
        #expect(open.matches("1e99999999999999999999".utf8))
        #expect(!open.matches("-1e-99999999999999999999".utf8))
    }

    /// Through the schema compiler: the issue's example.
    @Test(arguments: [
        (#"{"type": "number", "minimum": 0, "maximum": 1}"#, "5e-1", true),
        (#"{"type": "number", "minimum": 0, "maximum": 1}"#, "5e-0", false),
        (#"{"type": "number", "exclusiveMaximum": 1e-06}"#, "-2E+3", true),
        (#"{"type": "integer", "minimum": 100}"#, "1e2", true),
    ])
    func schemaAcceptsExponents(schema: String, text: String, accepted: Bool) throws {
        #expect(try NotTypeTests.accepts(schema, text) == accepted)
    }
}
