/// A number lexeme (`NumberLexeme`) whose digit runs — integer part, fraction, exponent — hold at most
/// `maxDigits` digits each (`JSONSchemaOptions.maxNumberDigits`), so a model cannot write digits
/// forever (`-0.000000…` is a valid spelling of the integer 0).
///
/// No dead state: a digit that fills a run is allowed only if the number can end there or go on
/// with `.` or an exponent, and the compiler widens the bound past the digits the schema's own
/// bounds need (`SchemaCompilation.digitBound`), which makes that one-step check exact: a run one
/// digit short of the bound can always end or take one more digit, since a value that fine or
/// that large is on the open side of every bound. Exponent leading zeros leave room for the
/// `NumberLexeme.maxExponentDigits` significant digits an exponent may need.
final class DigitRunLexeme: ByteLexeme {
    private let inner: any ByteLexeme
    private let maxDigits: Int
    /// The inner lexeme's exhaustion (see `ByteLexeme`).
    var exhausted: ConstraintError? { inner.exhausted }
    /// A state is [inner state, phase (0 integer part, 1 fraction, 2 exponent), digits in the
    /// phase's run, whether the exponent has a significant digit].
    private var states = LazyAutomaton<[Int32]>()
    let startState: Int32 = 0

    /// - Parameters:
    ///   - inner: the number lexeme.
    ///   - maxDigits: the most digits of each run, at least 1.
    init(inner: any ByteLexeme, maxDigits: Int) {
        self.inner = inner
        self.maxDigits = maxDigits
        _ = states.intern([inner.startState, 0, 0, 0])
    }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        if let known = states.cached(state, byte) { return known }
        let target = step(states[state], byte).map { states.intern($0) } ?? -1
        states.record(state, byte, target)
        return target
    }

    private func step(_ key: [Int32], _ byte: UInt8) -> [Int32]? {
        let n = inner.next(key[0], byte)
        guard n >= 0 else { return nil }
        var phase = key[1], run = key[2], significant = key[3]
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            run += 1
            guard run <= maxDigits else { return nil }
            if phase == 2 {
                if byte == UInt8(ascii: "0") && significant == 0 {
                    guard Int(run) + NumberLexeme.maxExponentDigits <= maxDigits else { return nil }
                } else {
                    significant = 1
                }
            }
            if run == maxDigits {
                // The run is full: the number must be able to end, or go on without a digit here.
                let goesOn = (phase == 0 && inner.next(n, UInt8(ascii: ".")) >= 0)
                    || (phase < 2 && (inner.next(n, UInt8(ascii: "e")) >= 0 || inner.next(n, UInt8(ascii: "E")) >= 0))
                guard inner.isAccepting(n) || goesOn else { return nil }
            }
        case UInt8(ascii: "."):
            phase = 1
            run = 0
        case UInt8(ascii: "e"), UInt8(ascii: "E"):
            phase = 2
            run = 0
            significant = 0
        default:
            break
        }
        return [n, phase, run, significant]
    }

    func isAccepting(_ state: Int32) -> Bool { inner.isAccepting(states[state][0]) }

    /// The bound and the inner lexeme's fingerprint (see `ByteLexeme`).
    var maskFingerprint: String? { inner.maskFingerprint.map { "digits(\(maxDigits)) \($0)" } }

    /// The run's phase, length and exponent flag, then the inner key (see `ByteLexeme`).
    func canonicalKey(of state: Int32, horizon: Int?) -> [Int32] {
        let key = states[state]
        return Array(key[1...]) + inner.canonicalKey(of: key[0], horizon: horizon)
    }
}
