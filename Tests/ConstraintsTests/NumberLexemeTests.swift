import Foundation
import Testing
@testable import Constraints

/// Bounded numbers against Foundation's Decimal as the oracle, and liveness: every prefix the lexeme
/// allows can still be completed within the bounds.
@Suite struct NumberLexemeTests {
    static let bounds: [(String?, Bool, String?, Bool, Bool)] = [
        ("0", false, "10", false, false), ("-1.5", true, "2.25", false, false), ("3", false, nil, false, true),
        (nil, false, "-0.5", true, true), ("0.001", false, "0.002", true, false), ("-10", false, "-10", false, true),
        ("1.5", false, "2.5", false, true),
    ]

    static func candidates() -> [String] {
        var out: [String] = []
        for whole in ["0", "1", "2", "3", "9", "10", "11", "12", "100", "-0", "-1", "-2", "-10", "-11"] {
            out.append(whole)
            for fraction in ["0", "5", "25", "001", "0015", "00"] { out.append(whole + "." + fraction) }
        }
        return out
    }

    @Test(arguments: bounds.indices)
    func acceptsExactlyTheNumbersWithinBounds(index: Int) {
        let (lo, loExclusive, hi, hiExclusive, integerOnly) = Self.bounds[index]
        let lexeme = NumberLexeme(lower: lo.map { .init(value: DecimalNumber($0)!, exclusive: loExclusive) },
                                  upper: hi.map { .init(value: DecimalNumber($0)!, exclusive: hiExclusive) },
                                  integerOnly: integerOnly)
        for text in Self.candidates() {
            let v = Decimal(string: text)!
            var ok = true
            if let lo { let l = Decimal(string: lo)!; ok = ok && (loExclusive ? v > l : v >= l) }
            if let hi { let h = Decimal(string: hi)!; ok = ok && (hiExclusive ? v < h : v <= h) }
            if integerOnly { var r = Decimal(); var copy = v; NSDecimalRound(&r, &copy, 0, .plain); ok = ok && v == r }
            #expect(lexeme.matches(text.utf8) == ok, "\(text) in bounds #\(index)")
            // Liveness: a prefix the lexeme allows has an accepted completion among the candidates
            // or by appending digits (checked up to two more digits).
            var state = lexeme.startState
            for b in text.utf8 {
                state = lexeme.next(state, b)
                if state < 0 { break }
                let completions = ["", "0", "5", "00", ".0", ".5", "1"]
                #expect(completions.contains { suffix in
                    var s = state
                    for c in suffix.utf8 { s = lexeme.next(s, c); if s < 0 { return false } }
                    return lexeme.isAccepting(s)
                } || Self.hasLongerCompletion(lexeme, state), "dead prefix allowed in \(text) #\(index)")
            }
        }
    }

    static func hasLongerCompletion(_ lexeme: NumberLexeme, _ state: Int32, depth: Int = 4) -> Bool {
        if lexeme.isAccepting(state) { return true }
        guard depth > 0 else { return false }
        for b in Array("0123456789.eE+-".utf8) {
            let s = lexeme.next(state, b)
            if s >= 0 && hasLongerCompletion(lexeme, s, depth: depth - 1) { return true }
        }
        return false
    }

    @Test func decimalOrderingAndEquality() {
        #expect(DecimalNumber("1.0") == DecimalNumber("1"))
        #expect(DecimalNumber("-0") == DecimalNumber("0"))
        #expect(DecimalNumber("1e2") == DecimalNumber("100"))
        #expect(DecimalNumber("0.30000000000000004")! > DecimalNumber("0.3")!)
        #expect(DecimalNumber("-2")! < DecimalNumber("-1.5")!)
        #expect(DecimalNumber("9.99")!.addingPowerOfTen(-2) == DecimalNumber("10"))
        #expect(DecimalNumber("-1.5")!.floor == DecimalNumber("-2"))
        #expect(DecimalNumber("1.") == nil)
    }
}
