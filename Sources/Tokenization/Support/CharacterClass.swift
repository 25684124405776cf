/// Unicode character classes the Hugging Face pre-tokenizer patterns use, computed from
/// `Unicode.Scalar.Properties` with an ASCII table in front (most text is ASCII).
enum CharacterClass {
    /// `\p{L}`: general category L (Lu, Ll, Lt, Lm, Lo).
    static let letter: UInt8 = 1
    /// `\p{N}`: general category N (Nd, Nl, No).
    static let number: UInt8 = 2
    /// `\s`: the White_Space property (Oniguruma's and Rust's definition agree).
    static let whitespace: UInt8 = 4
    /// `\r` or `\n`.
    static let newline: UInt8 = 8

    /// Class bits of every Basic Multilingual Plane character (64 KiB, computed once in a few
    /// milliseconds); other planes are computed on demand.
    static let bmp: [UInt8] = (0..<0x10000).map { v in Unicode.Scalar(UInt32(v)).map(compute) ?? 0 }

    /// The class bits of a scalar value.
    @inline(__always)
    static func of(_ value: UInt32) -> UInt8 {
        if value < 0x10000 { return bmp[Int(value)] }
        guard let scalar = Unicode.Scalar(value) else { return 0 }
        return compute(scalar)
    }

    /// The class bits of a scalar value, given `bmp` already in hand (hot loops avoid the lazy
    /// static's check per character).
    @inline(__always)
    static func of(_ value: UInt32, table: UnsafePointer<UInt8>) -> UInt8 {
        if value < 0x10000 { return table[Int(value)] }
        guard let scalar = Unicode.Scalar(value) else { return 0 }
        return compute(scalar)
    }

    private static func compute(_ scalar: Unicode.Scalar) -> UInt8 {
        var bits: UInt8 = 0
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            bits |= letter
        case .decimalNumber, .letterNumber, .otherNumber:
            bits |= number
        default:
            break
        }
        if scalar.properties.isWhitespace { bits |= whitespace }
        if scalar == "\r" || scalar == "\n" { bits |= newline }
        return bits
    }

    /// Rust's `char::is_whitespace` (White_Space).
    static func isWhitespace(_ value: UInt32) -> Bool { of(value) & whitespace != 0 }

    /// Rust's `char::is_alphanumeric` (Alphabetic or general category N).
    static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || of(scalar.value) & number != 0
    }

    /// Punctuation as the `Punctuation` pre-tokenizer sees it: ASCII punctuation or general category P.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (0x21...0x2F).contains(v) || (0x3A...0x40).contains(v) || (0x5B...0x60).contains(v) || (0x7B...0x7E).contains(v)
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// `\w` of Rust's regex and of Oniguruma: Alphabetic, M, Nd, Pc, Join_Control.
    static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        let p = scalar.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation:
            return true
        default:
            return false
        }
    }
}

/// Decodes one scalar from well-formed UTF-8 (our buffers always come from Swift strings).
@inline(__always)
func decodeScalar(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (value: UInt32, length: Int) {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { return (b0, 1) }
    if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
    if b0 < 0xF0 { return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3) }
    return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4)
}

/// The UTF-8 length of a scalar from its first byte.
@inline(__always)
func scalarLength(leadByte b: UInt8) -> Int {
    b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
}
