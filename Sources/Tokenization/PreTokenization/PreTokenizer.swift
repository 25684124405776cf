/// A piece of text on its way to the model: its bytes and whether it starts at the beginning of
/// the original input (Metaspace's `prepend_scheme: first` needs to know).
struct Piece {
    var bytes: [UInt8]
    var atOrigin: Bool
}

/// How a split keeps the delimiters it finds (`SplitDelimiterBehavior` of `tokenizers`).
enum SplitBehavior: String, Sendable {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"

    init(json: JSONValue) throws {
        let name = try json.string()
        guard let b = SplitBehavior(rawValue: name) else { throw json.unsupported("split behavior", name) }
        self = b
    }

    /// Applies the behaviour to `(range, isMatch)` pieces, as `NormalizedString::split` does,
    /// dropping empty results.
    func apply(_ pieces: [(Range<Int>, Bool)]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var previousMatch = false
        switch self {
        case .removed:
            out = pieces.filter { !$0.1 }.map(\.0)
        case .isolated:
            out = pieces.map(\.0)
        case .mergedWithPrevious:
            for (r, isMatch) in pieces {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    out.append(r)
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            for (r, isMatch) in pieces.reversed() {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1] = r.lowerBound..<last.upperBound
                } else {
                    out.append(r)
                }
                previousMatch = isMatch
            }
            out.reverse()
        case .contiguous:
            for (r, isMatch) in pieces {
                if isMatch == previousMatch, let last = out.last {
                    out[out.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    out.append(r)
                }
                previousMatch = isMatch
            }
        }
        return out.filter { !$0.isEmpty }
    }
}

/// What a `Split` pre-tokenizer splits on.
enum SplitPattern: Sendable {
    case text(TextPattern)
    case scanner(PatternScanner)

    func pieces(in text: UnsafeBufferPointer<UInt8>) -> [(Range<Int>, Bool)] {
        switch self {
        case .text(let p): return p.pieces(in: text)
        case .scanner(let s):
            if text.isEmpty { return [(0..<0, false)] }
            var ranges: [Range<Int>] = []
            s.scan(text, into: &ranges)
            return ranges.map { ($0, true) }
        }
    }
}

/// Metaspace's rule for adding the replacement character in front of a piece.
enum PrependScheme: String, Sendable {
    case always, first, never

    /// Reads a Metaspace component's scheme (pre-tokenizer and decoder alike): `prepend_scheme`,
    /// or the older `add_prefix_space` flag (false = never), defaulting to `always`.
    init(metaspace json: JSONValue) throws {
        if let s = try json.member("prepend_scheme") {
            guard let p = PrependScheme(rawValue: try s.string()) else { throw s.unsupported("prepend_scheme", try s.string()) }
            self = p
        } else {
            self = try json.bool("add_prefix_space", default: true) ? .always : .never
        }
    }
}

/// A pre-tokenizer of `tokenizer.json`: splits normalized text into words for the model.
indirect enum PreTokenizer: Sendable {
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case split(SplitPattern, SplitBehavior, invert: Bool)
    case metaspace(replacement: [UInt8], prepend: PrependScheme, split: Bool)
    case digits(individual: Bool)
    case punctuation(SplitBehavior)
    case whitespace
    case whitespaceSplit
    case sequence([PreTokenizer])

    init(json: JSONValue) throws {
        let type = try json.typeName()
        switch type {
        case "ByteLevel":
            self = .byteLevel(addPrefixSpace: try json.bool("add_prefix_space", default: true),
                              useRegex: try json.bool("use_regex", default: true))
        case "Split":
            let patternJSON = try json.required("pattern")
            var pattern = SplitPattern.text(try TextPattern(json: patternJSON))
            if let r = try patternJSON.member("Regex"), let scanner = PatternScanner(pattern: try r.string()) {
                pattern = .scanner(scanner)
            }
            self = .split(pattern, try SplitBehavior(json: try json.required("behavior")), invert: try json.bool("invert", default: false))
        case "Metaspace":
            let replacement = try json.string("replacement")
            guard replacement.unicodeScalars.count == 1 else { throw try json.required("replacement").error("expected one character") }
            let scheme = try PrependScheme(metaspace: json)
            self = .metaspace(replacement: Array(replacement.utf8), prepend: scheme, split: try json.bool("split", default: true))
        case "Digits":
            self = .digits(individual: try json.bool("individual_digits", default: false))
        case "Punctuation":
            self = .punctuation(try json.member("behavior").map { try SplitBehavior(json: $0) } ?? .isolated)
        case "Whitespace":
            self = .whitespace
        case "WhitespaceSplit":
            self = .whitespaceSplit
        case "Sequence":
            let steps = try json.required("pretokenizers").array().map { try PreTokenizer(json: $0) }
            // Our byte-level model reads raw bytes, so nothing may look at the mapped characters
            // after a ByteLevel step.
            if let k = steps.firstIndex(where: { $0.isByteLevel }), steps[(k + 1)...].contains(where: { !$0.isByteLevel }) {
                throw json.error("a pre-tokenizer after ByteLevel in a Sequence is not supported", code: .unsupported)
            }
            self = .sequence(steps)
        default:
            throw json.unsupported("pre-tokenizer", type)
        }
    }

    var isByteLevel: Bool {
        if case .byteLevel = self { return true }
        return false
    }

    /// Whether the model must run in byte-level mode.
    var containsByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .sequence(let s): return s.contains { $0.containsByteLevel }
        default: return false
        }
    }

    /// The scanner of a pipeline that is only "split with a known pattern, then bytes", which
    /// `Tokenizer` runs without building pieces.
    var fastScanner: PatternScanner? {
        switch self {
        case .byteLevel(false, true):
            return .gpt2
        case .sequence(let s) where s.count == 2:
            if case .split(.scanner(let k), .isolated, false) = s[0], case .byteLevel(false, false) = s[1] { return k }
            return nil
        default:
            return nil
        }
    }

    /// Splits every piece.
    func apply(_ pieces: [Piece]) -> [Piece] {
        switch self {
        case .sequence(let steps):
            var p = pieces
            for s in steps { p = s.apply(p) }
            return p
        default:
            var out: [Piece] = []
            for piece in pieces { split(piece, into: &out) }
            return out
        }
    }

    private func split(_ piece: Piece, into out: inout [Piece]) {
        func emit(_ bytes: [UInt8], _ ranges: [Range<Int>]) {
            for r in ranges { out.append(Piece(bytes: Array(bytes[r]), atOrigin: piece.atOrigin && r.lowerBound == 0)) }
        }
        func byPredicate(_ bytes: [UInt8], _ pred: (Unicode.Scalar) -> Bool) -> [(Range<Int>, Bool)] {
            // `tokenizers`' char-predicate pattern: every matching character is its own match.
            bytes.withUnsafeBufferPointer { p in
                var pieces: [(Range<Int>, Bool)] = []
                var last = 0, i = 0
                while i < p.count {
                    let (v, n) = decodeScalar(p, i)
                    if pred(Unicode.Scalar(v)!) {
                        if last < i { pieces.append((last..<i, false)) }
                        pieces.append((i..<(i + n), true))
                        last = i + n
                    }
                    i += n
                }
                if i > last { pieces.append((last..<i, false)) }
                return pieces
            }
        }
        switch self {
        case .byteLevel(let addPrefixSpace, let useRegex):
            var bytes = piece.bytes
            if addPrefixSpace, bytes.first != 0x20 { bytes.insert(0x20, at: 0) }
            if useRegex {
                var ranges: [Range<Int>] = []
                bytes.withUnsafeBufferPointer { PatternScanner.gpt2.scan($0, into: &ranges) }
                emit(bytes, ranges)
            } else {
                out.append(Piece(bytes: bytes, atOrigin: piece.atOrigin))
            }
        case .split(let pattern, let behavior, let invert):
            var pieces = piece.bytes.withUnsafeBufferPointer { pattern.pieces(in: $0) }
            if invert { pieces = pieces.map { ($0.0, !$0.1) } }
            emit(piece.bytes, behavior.apply(pieces))
        case .metaspace(let replacement, let prepend, let split):
            var bytes: [UInt8] = []
            bytes.reserveCapacity(piece.bytes.count + replacement.count)
            for b in piece.bytes { if b == 0x20 { bytes += replacement } else { bytes.append(b) } }
            let startsWithReplacement = bytes.starts(with: replacement)
            if !startsWithReplacement, prepend == .always || (prepend == .first && piece.atOrigin) {
                bytes = replacement + bytes
            }
            if split {
                let pieces = bytes.withUnsafeBufferPointer { TextPattern.literal(replacement).pieces(in: $0) }
                emit(bytes, SplitBehavior.mergedWithNext.apply(pieces))
            } else {
                out.append(Piece(bytes: bytes, atOrigin: piece.atOrigin))
            }
        case .digits(let individual):
            // `char::is_numeric` (general category N), not only ASCII digits: the metaspace
            // fixture keeps "000٣٤٥" together.
            let pieces = byPredicate(piece.bytes) { CharacterClass.of($0.value) & CharacterClass.number != 0 }
            emit(piece.bytes, (individual ? SplitBehavior.isolated : .contiguous).apply(pieces))
        case .punctuation(let behavior):
            emit(piece.bytes, behavior.apply(byPredicate(piece.bytes, CharacterClass.isPunctuation)))
        case .whitespaceSplit:
            emit(piece.bytes, SplitBehavior.removed.apply(byPredicate(piece.bytes) { CharacterClass.isWhitespace($0.value) }))
        case .whitespace:
            // `\w+|[^\w\s]+`, keeping the matches (tokenizers splits on the inverted regex with
            // `Removed`).
            let pieces = piece.bytes.withUnsafeBufferPointer { p -> [(Range<Int>, Bool)] in
                var out: [(Range<Int>, Bool)] = []
                var i = 0
                func kind(_ at: Int) -> Int {
                    let s = Unicode.Scalar(decodeScalar(p, at).value)!
                    if CharacterClass.isWordCharacter(s) { return 1 }
                    return CharacterClass.isWhitespace(s.value) ? 0 : 2
                }
                while i < p.count {
                    let k = kind(i)
                    var j = i + scalarLength(leadByte: p[i])
                    if k != 0 { while j < p.count, kind(j) == k { j += scalarLength(leadByte: p[j]) } }
                    // The whitespace between matches is what `Removed` drops.
                    out.append((i..<j, k == 0))
                    i = j
                }
                return out
            }
            emit(piece.bytes, SplitBehavior.removed.apply(pieces))
        case .sequence:
            out += apply([piece])
        }
    }
}
