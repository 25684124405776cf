/// How much JSON whitespace (RFC 8259 §2: space, tab, line feed, carriage return) one gap between
/// two JSON tokens may hold: at most `maxBytes` bytes, of which at most `maxNewlines` line feeds.
///
/// Bounded, so a model cannot pad forever (a known failure of whitespace-unbounded JSON grammars),
/// but wide enough for the output a model was trained on: pretty-printed JSON puts one line feed and
/// the next line's indentation in a gap (`json.dumps(indent=2)` at nesting depth d: `"\n"` plus 2d
/// spaces), and byte-level BPE vocabularies hold that run as one token (SmolLM2's has a line feed
/// followed by each of 1 to 51 spaces, for code indentation). A bound below the token's length forbids it and
/// pushes the model off its usual output. One automaton (`Gap`) serves both the whitespace before
/// values and keys (`WhitespacePrefixedLexeme`) and the gaps before punctuation (`JSONWhitespaceLexeme`),
/// so they always agree.
public struct JSONWhitespace: Sendable, Equatable {
    /// Most whitespace bytes in one gap; `nil` for unbounded.
    public var maxBytes: Int?
    /// Most line feeds in one gap; `nil` for unbounded.
    public var maxNewlines: Int?

    /// Creates a bound.
    /// - Parameters:
    ///   - maxBytes: most whitespace bytes per gap (`nil`: unbounded).
    ///   - maxNewlines: most line feeds per gap (`nil`: unbounded).
    public init(maxBytes: Int?, maxNewlines: Int? = JSONWhitespace.defaultMaxNewlines) {
        self.maxBytes = maxBytes.map { max(0, $0) }
        self.maxNewlines = maxNewlines.map { max(0, $0) }
    }

    /// The default byte bound: a line feed and 32 columns of indentation, which is
    /// `json.dumps(indent=4)` eight levels deep (`indent=2` sixteen), deeper than extraction schemas
    /// nest. SmolLM2's vocabulary has line-feed-and-spaces tokens up to 52 bytes (code
    /// indentation); JSON at depth 8 or less never needs the longer ones. Each gap is bounded, so the
    /// output's whitespace is at most this times the number of gaps its structure has.
    public static let defaultMaxBytes = 33
    /// The default line-feed bound: pretty-printers write one line feed per gap; blank lines
    /// inside a JSON value are padding.
    public static let defaultMaxNewlines = 1

    /// The default: `defaultMaxBytes` bytes and `defaultMaxNewlines` line feeds per gap.
    public static let standard = JSONWhitespace(maxBytes: defaultMaxBytes, maxNewlines: defaultMaxNewlines)
    /// No whitespace at all (compact JSON, `json.dumps(separators=(",", ":"))`).
    public static let none = JSONWhitespace(maxBytes: 0, maxNewlines: 0)
    /// No bound.
    public static let unbounded = JSONWhitespace(maxBytes: nil, maxNewlines: nil)

    /// The automaton of one gap: states count the bytes and line feeds read so far (only the
    /// bounded ones), so a gap has `(maxBytes + 1) × (maxNewlines + 1)` states; all accept.
    struct Gap {
        let bounds: JSONWhitespace
        /// Line-feed counts per byte count (1 when line feeds are not counted).
        private let newlineSlots: Int32
        /// Number of states.
        let stateCount: Int32

        init(_ bounds: JSONWhitespace) {
            self.bounds = bounds
            newlineSlots = Int32(bounds.maxNewlines.map { $0 + 1 } ?? 1)
            stateCount = Int32(bounds.maxBytes.map { $0 + 1 } ?? 1) * newlineSlots
        }

        private func counts(_ state: Int32) -> (bytes: Int32, newlines: Int32) {
            (state / newlineSlots, state % newlineSlots)
        }

        private func state(bytes: Int32, newlines: Int32) -> Int32 { bytes * newlineSlots + newlines }

        /// The state after a whitespace byte, or -1 past a bound (any other byte: -1 too).
        func next(_ state: Int32, _ byte: UInt8) -> Int32 {
            guard ByteSet.jsonWhitespace.contains(byte) else { return -1 }
            var (bytes, newlines) = counts(state)
            if let maxBytes = bounds.maxBytes {
                guard bytes < Int32(maxBytes) else { return -1 }
                bytes += 1
            }
            if byte == 0x0A, let maxNewlines = bounds.maxNewlines {
                guard newlines < Int32(maxNewlines) else { return -1 }
                newlines += 1
            }
            return self.state(bytes: bytes, newlines: newlines)
        }

        /// The whitespace bytes that go where `byte` goes: all four, or line feed apart when line
        /// feeds are counted.
        func transitionClass(_ byte: UInt8) -> ByteSet {
            guard bounds.maxNewlines != nil else { return .jsonWhitespace }
            if byte == 0x0A { return ByteSet(byte: 0x0A) }
            var others = ByteSet.jsonWhitespace
            others.remove(0x0A)
            return others
        }

        /// The state standing for `state`'s mask class: every count more than `horizon` below its
        /// bound moves to `horizon + 1` below it, since strings of at most `horizon` bytes cannot
        /// reach the bound from either (see `ByteLexeme.maskClass(of:horizon:)`).
        func maskClass(of state: Int32, horizon: Int) -> Int32 {
            let (bytes, newlines) = counts(state)
            func representative(_ used: Int32, _ bound: Int?) -> Int32 {
                guard let bound else { return used }
                let left = Int32(bound) - used
                return left > Int32(horizon) ? Int32(bound) - Int32(horizon) - 1 : used
            }
            return self.state(bytes: representative(bytes, bounds.maxBytes), newlines: representative(newlines, bounds.maxNewlines))
        }

        /// The bounds, for fingerprints.
        var fingerprint: String {
            "\(bounds.maxBytes.map(String.init) ?? "*")/\(bounds.maxNewlines.map(String.init) ?? "*")"
        }
    }
}

/// One gap of JSON whitespace as a lexeme (nullable: the empty gap is accepted), the `ws` before
/// punctuation in `JSONSchemaCompiler`'s grammars.
final class JSONWhitespaceLexeme: ByteLexeme {
    private let gap: JSONWhitespace.Gap
    let startState: Int32 = 0

    init(_ bounds: JSONWhitespace) { gap = JSONWhitespace.Gap(bounds) }

    func next(_ state: Int32, _ byte: UInt8) -> Int32 { gap.next(state, byte) }

    func isAccepting(_ state: Int32) -> Bool { true }

    /// Whitespace bytes by `Gap.transitionClass`, every other byte dead (see `ByteLexeme`).
    func transitionClass(_ state: Int32, _ byte: UInt8) -> ByteSet {
        ByteSet.jsonWhitespace.contains(byte) ? gap.transitionClass(byte) : Self.nonWhitespace
    }

    /// Every byte but JSON whitespace.
    static let nonWhitespace: ByteSet = {
        var set = ByteSet(0...255)
        ByteSet.jsonWhitespace.forEach { set.remove($0) }
        return set
    }()

    /// Counts far from the bounds share a class (see `ByteLexeme`).
    func maskClass(of state: Int32, horizon: Int) -> Int32 { gap.maskClass(of: state, horizon: horizon) }

    /// The bounds (see `ByteLexeme`).
    var maskFingerprint: String? { "jsonws(\(gap.fingerprint))" }

    /// The state (the counts, in an encoding fixed by the bounds) or its class (see `ByteLexeme`).
    func canonicalKey(of state: Int32, horizon: Int?) -> [Int32] {
        [horizon.map { gap.maskClass(of: state, horizon: $0) } ?? state]
    }
}
