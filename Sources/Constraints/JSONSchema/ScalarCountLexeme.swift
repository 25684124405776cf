/// Valid UTF-8 of between `min` and `max` Unicode scalars, as a lexeme that counts instead of
/// unrolling: a state is (scalars read, UTF-8 decoding phase). `minLength`/`maxLength` above
/// `SchemaCompilation.maxUnrolledLength` use it, inside a JSON string lexeme.
final class ScalarCountLexeme: ByteLexeme {
    /// Decoding phases: at a scalar boundary, or the continuation bytes still expected (with the
    /// restricted second-byte ranges of E0, ED, F0 and F4 that exclude overlong forms and
    /// surrogates).
    private enum Phase: Int32 {
        case boundary = 0, one, two, three, afterE0, afterED, afterF0, afterF4
    }
    private static let phases: Int32 = 8

    let min: Int
    let max: Int?
    /// Counts at or above this behave alike (past `min`, with no `max`).
    private let cap: Int
    let startState: Int32 = 0

    /// Lengths whose states would not fit an `Int32` state number (count × phases) are refused
    /// by the compiler.
    static let maxCount = Int(Int32.max / phases) - 1

    init(min: Int, max: Int?) {
        self.min = min
        self.max = max
        cap = max ?? min
    }

    private func count(_ state: Int32) -> Int { Int(state / Self.phases) }
    private func phase(_ state: Int32) -> Phase { Phase(rawValue: state % Self.phases)! }
    private func state(_ count: Int, _ phase: Phase) -> Int32 { Int32(count) * Self.phases + phase.rawValue }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        let n = count(state)
        let continuation = (0x80...0xBF).contains(byte)
        switch phase(state) {
        case .boundary:
            // A lead byte starts a scalar: it counts now.
            if let max, n >= max { return -1 }
            let counted = Swift.min(n + 1, cap)
            switch byte {
            case 0x00...0x7F: return self.state(counted, .boundary)
            case 0xC2...0xDF: return self.state(counted, .one)
            case 0xE0: return self.state(counted, .afterE0)
            case 0xED: return self.state(counted, .afterED)
            case 0xE1...0xEC, 0xEE...0xEF: return self.state(counted, .two)
            case 0xF0: return self.state(counted, .afterF0)
            case 0xF1...0xF3: return self.state(counted, .three)
            case 0xF4: return self.state(counted, .afterF4)
            default: return -1
            }
        case .one: return continuation ? self.state(n, .boundary) : -1
        case .two: return continuation ? self.state(n, .one) : -1
        case .three: return continuation ? self.state(n, .two) : -1
        case .afterE0: return (0xA0...0xBF).contains(byte) ? self.state(n, .one) : -1
        case .afterED: return (0x80...0x9F).contains(byte) ? self.state(n, .one) : -1
        case .afterF0: return (0x90...0xBF).contains(byte) ? self.state(n, .two) : -1
        case .afterF4: return (0x80...0x8F).contains(byte) ? self.state(n, .two) : -1
        }
    }

    func isAccepting(_ state: Int32) -> Bool { phase(state) == .boundary && count(state) >= min }

    /// The byte ranges `next` tells apart (see `ByteLexeme`).
    func transitionClass(_ state: Int32, _ byte: UInt8) -> ByteSet {
        let ranges: [ClosedRange<UInt8>]
        switch phase(state) {
        case .boundary:
            ranges = [0x00...0x7F, 0x80...0xC1, 0xC2...0xDF, 0xE0...0xE0, 0xE1...0xEC, 0xED...0xED, 0xEE...0xEF,
                      0xF0...0xF0, 0xF1...0xF3, 0xF4...0xF4, 0xF5...0xFF]
        case .one, .two, .three: ranges = [0x00...0x7F, 0x80...0xBF, 0xC0...0xFF]
        case .afterE0: ranges = [0x00...0x9F, 0xA0...0xBF, 0xC0...0xFF]
        case .afterED: ranges = [0x00...0x7F, 0x80...0x9F, 0xA0...0xFF]
        case .afterF0: ranges = [0x00...0x8F, 0x90...0xBF, 0xC0...0xFF]
        case .afterF4: ranges = [0x00...0x7F, 0x80...0x8F, 0x90...0xFF]
        }
        var set = ByteSet()
        for b in ranges.first(where: { $0.contains(byte) })! { set.insert(b) }
        // Invalid bytes all lead to the dead state, whatever their range.
        if next(state, byte) < 0 { for b in 0...255 where next(state, UInt8(b)) < 0 { set.insert(UInt8(b)) } }
        return set
    }

    /// Counts that no string of `horizon` bytes can carry to `min` or to `max` behave alike on such
    /// strings (see `ByteLexeme`): below `min` they all reject every end, between the bounds they
    /// all accept it.
    func maskClass(of state: Int32, horizon: Int) -> Int32 {
        let n = count(state)
        if n + horizon < min { return self.state(0, phase(state)) }
        if n >= min && max.map({ n + horizon <= $0 }) ?? true { return self.state(min, phase(state)) }
        return state
    }

    /// The bounds (see `ByteLexeme`).
    var maskFingerprint: String? { "scalars(\(min), \(max.map(String.init) ?? "none"))" }

    /// The count and phase, or those of the state's mask class (see `ByteLexeme`).
    func canonicalKey(of state: Int32, horizon: Int?) -> [Int32] {
        let s = horizon.map { maskClass(of: state, horizon: $0) } ?? state
        return [Int32(count(s)), phase(s).rawValue]
    }
}
