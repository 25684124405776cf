import Testing
@testable import Constraints

/// Every prefix a bounded-number lexeme admits can still be completed to a number within the
/// bounds — otherwise a mask could lead generation into a state where no token is allowed.
@Suite struct NumberLexemeLivenessTests {
    static let alphabet = Array("-0123456789.".utf8)
    /// Completions may use an exponent (`0` under [135, 140] completes as `0.135e3`); prefixes with
    /// one are explored by `NumberLexemeExponentTests`.
    static let completionAlphabet = Array("-0123456789.eE+".utf8)

    static func bound(_ text: String?, exclusive: Bool = false) -> NumberLexeme.Bound? {
        text.map { NumberLexeme.Bound(value: DecimalNumber($0)!, exclusive: exclusive) }
    }

    /// Whether an accepting state is reachable from `state` within `depth` bytes. `failed` holds,
    /// per state, the largest depth already known to reach no accepting state (states recur along
    /// many paths: without it the search is exponential in `depth`).
    static func completes(_ lexeme: NumberLexeme, from state: Int32, depth: Int, failed: inout [Int32: Int]) -> Bool {
        if lexeme.isAccepting(state) { return true }
        guard depth > 0, (failed[state] ?? -1) < depth else { return false }
        for b in completionAlphabet {
            let next = lexeme.next(state, b)
            if next >= 0, completes(lexeme, from: next, depth: depth - 1, failed: &failed) { return true }
        }
        failed[state] = depth
        return false
    }

    @Test(arguments: [
        ("135", "140", false, true), ("135", "140", false, false), ("-140", "-135", false, true),
        ("0.5", "0.75", true, false), ("990", "1010", false, true), (nil, "-35", false, true),
        ("250", nil, false, false), ("-7", "7", true, true),
    ] as [(String?, String?, Bool, Bool)])
    func everyAdmittedPrefixCompletes(lower: String?, upper: String?, exclusive: Bool, integerOnly: Bool) {
        let lexeme = NumberLexeme(lower: Self.bound(lower, exclusive: exclusive), upper: Self.bound(upper, exclusive: exclusive),
                                  integerOnly: integerOnly)
        var frontier: [(state: Int32, text: String)] = [(lexeme.startState, "")]
        var checked = 0
        var failed: [Int32: Int] = [:]
        // Prefixes of up to 4 bytes (with exponent completions live, 5 took over 6 minutes in a
        // debug build); longer ones, exponents included, are NumberLexemeExponentTests' property test.
        for _ in 0..<4 {
            var next: [(Int32, String)] = []
            for (state, text) in frontier {
                for b in Self.alphabet {
                    let s = lexeme.next(state, b)
                    guard s >= 0 else { continue }
                    let t = text + String(decoding: [b], as: UTF8.self)
                    // Completions of these bounds need at most 6 more bytes.
                    #expect(Self.completes(lexeme, from: s, depth: 6, failed: &failed), "'\(t)' is admitted but cannot be completed within [\(lower ?? "-∞"), \(upper ?? "∞")]")
                    next.append((s, t))
                    checked += 1
                }
            }
            frontier = next
        }
        #expect(checked > 0)
    }
}
