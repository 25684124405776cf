/// A JSON string literal (quotes included) whose *decoded* content must be accepted by an inner lexeme.
///
/// JSON Schema's `pattern`, `minLength`, `format` and `const` speak about the decoded string, while the
/// model emits escaped JSON text: `"\u00e9"` and `"é"` are the same string. This lexeme decodes escapes
/// on the fly (`\n`, `\uXXXX`, surrogate pairs) and feeds the decoded UTF-8 bytes to the inner automaton,
/// so every spelling of an accepted string is accepted and no spelling of a rejected one is. Raw control
/// characters are refused as JSON requires; lone surrogate escapes are refused (they have no UTF-8 form).
final class JSONStringLexeme: ByteLexeme {
    private enum Phase: UInt8 {
        case open, body, escape, hex, lowBackslash, lowU, lowHex, closed
    }

    private struct State: Hashable {
        var phase: Phase
        /// Hex digits read in the current `\u` escape.
        var hexCount: UInt8
        /// Value of the escape being read; with a pending high surrogate in bits 16…
        var value: UInt32
        var inner: Int32
    }

    private let inner: any ByteLexeme
    private var states: [State] = []
    private var index: [State: Int32] = [:]
    private var transitions: [Int32] = []
    /// Mask classes: the state with the inner state replaced by its class.
    private var classes = MaskClassTable<State>()
    let startState: Int32 = 0

    /// - Parameter inner: the automaton for the decoded content (must only accept valid UTF-8).
    init(inner: any ByteLexeme) {
        self.inner = inner
        _ = intern(State(phase: .open, hexCount: 0, value: 0, inner: inner.startState))
    }

    private func intern(_ s: State) -> Int32 {
        if let id = index[s] { return id }
        let id = Int32(states.count)
        states.append(s)
        index[s] = id
        transitions.append(contentsOf: repeatElement(-2, count: 256))
        return id
    }

    func isAccepting(_ state: Int32) -> Bool { states[Int(state)].phase == .closed }

    /// The decoding state with the inner state's class (see `ByteLexeme`): escapes never decode to
    /// more bytes than they spell, so the inner automaton sees at most `horizon` bytes.
    func maskClass(of state: Int32, horizon: Int) -> Int32 {
        classes.classOf(state, horizon: horizon) {
            var s = states[Int(state)]
            s.inner = inner.maskClass(of: s.inner, horizon: horizon)
            return s
        }
    }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        let slot = Int(state) * 256 + Int(byte)
        if transitions[slot] != -2 { return transitions[slot] }
        let result = step(states[Int(state)], byte).map(intern) ?? -1
        transitions[slot] = result
        return result
    }

    /// Feeds a decoded scalar's UTF-8 bytes to the inner automaton.
    private func feed(_ innerState: Int32, scalar: UInt32) -> Int32? {
        guard let s = Unicode.Scalar(scalar) else { return nil }
        var state = innerState
        for b in String(Character(s)).utf8 {
            state = inner.next(state, b)
            if state < 0 { return nil }
        }
        return state
    }

    private func step(_ s: State, _ byte: UInt8) -> State? {
        var t = s
        switch s.phase {
        case .open:
            guard byte == UInt8(ascii: "\"") else { return nil }
            t.phase = .body
        case .body:
            switch byte {
            case UInt8(ascii: "\""):
                guard inner.isAccepting(s.inner) else { return nil }
                t.phase = .closed
            case UInt8(ascii: "\\"):
                t.phase = .escape
            case 0..<0x20:
                return nil
            default:
                let n = inner.next(s.inner, byte)
                guard n >= 0 else { return nil }
                t.inner = n
            }
        case .escape:
            let decoded: UInt32
            switch byte {
            case UInt8(ascii: "\""): decoded = 0x22
            case UInt8(ascii: "\\"): decoded = 0x5C
            case UInt8(ascii: "/"): decoded = 0x2F
            case UInt8(ascii: "b"): decoded = 0x08
            case UInt8(ascii: "f"): decoded = 0x0C
            case UInt8(ascii: "n"): decoded = 0x0A
            case UInt8(ascii: "r"): decoded = 0x0D
            case UInt8(ascii: "t"): decoded = 0x09
            case UInt8(ascii: "u"):
                t.phase = .hex
                t.hexCount = 0
                t.value = 0
                return t
            default: return nil
            }
            guard let n = feed(s.inner, scalar: decoded) else { return nil }
            t.phase = .body
            t.inner = n
        case .hex, .lowHex:
            guard let d = Unicode.Scalar(byte).hexDigitValue else { return nil }
            t.value = (s.value & 0xFFFF_0000) | ((s.value & 0xFFFF) << 4) | UInt32(d)
            t.hexCount += 1
            guard t.hexCount == 4 else { return t }
            let unit = t.value & 0xFFFF
            if s.phase == .hex {
                if (0xD800...0xDBFF).contains(unit) {
                    t.phase = .lowBackslash
                    t.value = unit
                    return t
                }
                guard !(0xDC00...0xDFFF).contains(unit), let n = feed(s.inner, scalar: unit) else { return nil }
                t.inner = n
            } else {
                let high = t.value >> 16
                guard (0xDC00...0xDFFF).contains(unit) else { return nil }
                let scalar = 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00)
                guard let n = feed(s.inner, scalar: scalar) else { return nil }
                t.inner = n
            }
            t.phase = .body
            t.value = 0
            t.hexCount = 0
        case .lowBackslash:
            guard byte == UInt8(ascii: "\\") else { return nil }
            t.phase = .lowU
        case .lowU:
            guard byte == UInt8(ascii: "u") else { return nil }
            t.phase = .lowHex
            t.hexCount = 0
            // Keep the high surrogate above the 16 bits the low one is read into.
            t.value = s.value << 16
        case .closed:
            return nil
        }
        return t
    }
}

/// Accepts a string exactly when every one of its parts does (the product automaton, built lazily).
final class IntersectionLexeme: ByteLexeme {
    private let parts: [any ByteLexeme]
    private var states: [[Int32]] = []
    private var index: [[Int32]: Int32] = [:]
    private var transitions: [Int32] = []
    /// Mask classes: the parts' classes.
    private var classes = MaskClassTable<[Int32]>()
    let startState: Int32 = 0

    /// - Parameter parts: at least one lexeme (an empty intersection would accept everything).
    init(_ parts: [any ByteLexeme]) {
        precondition(!parts.isEmpty, "an intersection needs at least one part")
        self.parts = parts
        _ = intern(parts.map(\.startState))
    }

    private func intern(_ s: [Int32]) -> Int32 {
        if let id = index[s] { return id }
        let id = Int32(states.count)
        states.append(s)
        index[s] = id
        transitions.append(contentsOf: repeatElement(-2, count: 256))
        return id
    }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        let slot = Int(state) * 256 + Int(byte)
        if transitions[slot] != -2 { return transitions[slot] }
        var out: [Int32] = []
        for (k, p) in parts.enumerated() {
            let n = p.next(states[Int(state)][k], byte)
            if n < 0 { transitions[slot] = -1; return -1 }
            out.append(n)
        }
        let id = intern(out)
        transitions[slot] = id
        return id
    }

    func isAccepting(_ state: Int32) -> Bool {
        for (k, p) in parts.enumerated() where !p.isAccepting(states[Int(state)][k]) { return false }
        return true
    }

    /// The tuple of the parts' classes (see `ByteLexeme`).
    func maskClass(of state: Int32, horizon: Int) -> Int32 {
        classes.classOf(state, horizon: horizon) {
            zip(parts, states[Int(state)]).map { $0.maskClass(of: $1, horizon: horizon) }
        }
    }
}

/// Accepts the valid UTF-8 strings its inner lexeme rejects (used for "any key but the named ones").
final class ComplementLexeme: ByteLexeme {
    private let inner: any ByteLexeme
    private let utf8: RegexLexeme
    /// Pairs (inner state or -1 once the inner is dead, UTF-8 validator state).
    private var states: [[Int32]] = []
    private var index: [[Int32]: Int32] = [:]
    let startState: Int32 = 0

    init(_ inner: any ByteLexeme) {
        self.inner = inner
        utf8 = try! RegexLexeme(node: .repetition(RegexNode.anyScalar, min: 0, max: nil), search: false)
        _ = intern([inner.startState, utf8.startState])
    }

    private func intern(_ s: [Int32]) -> Int32 {
        if let id = index[s] { return id }
        states.append(s)
        index[s] = Int32(states.count - 1)
        return Int32(states.count - 1)
    }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 {
        let s = states[Int(state)]
        let u = utf8.next(s[1], byte)
        guard u >= 0 else { return -1 }
        let i = s[0] < 0 ? -1 : inner.next(s[0], byte)
        return intern([i, u])
    }

    func isAccepting(_ state: Int32) -> Bool {
        let s = states[Int(state)]
        return utf8.isAccepting(s[1]) && (s[0] < 0 || !inner.isAccepting(s[0]))
    }
}
