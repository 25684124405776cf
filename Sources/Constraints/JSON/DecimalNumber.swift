/// An exact decimal number: `±digits × 10^exponent`, normalised (no leading or trailing zero digits;
/// zero has no digits and is never negative). Used for JSON Schema number equality and bounds, where
/// binary floating point would accept `0.30000000000000004` as `0.3`.
struct DecimalNumber: Comparable, Hashable, CustomStringConvertible {
    private(set) var negative: Bool
    private(set) var digits: [UInt8]
    private(set) var exponent: Int
    /// Exponents are clamped to this magnitude when parsing; ordering of any practical number is kept.
    static let exponentClamp = 1_000_000_000

    init(negative: Bool, digits: [UInt8], exponent: Int) {
        var d = digits
        var e = exponent
        while let first = d.first, first == 0 { d.removeFirst() }
        while let last = d.last, last == 0 { d.removeLast(); e += 1 }
        self.negative = d.isEmpty ? false : negative
        self.digits = d
        self.exponent = d.isEmpty ? 0 : e
    }

    /// Parses JSON number syntax (`-?int(.frac)?([eE][+-]?exp)?`); nil for anything else.
    init?(_ text: String) {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") { negative = true; bytes = bytes.dropFirst() }
        var digits: [UInt8] = []
        var exponent = 0
        var sawDigit = false
        while let b = bytes.first, (0x30...0x39).contains(b) { digits.append(b - 0x30); bytes = bytes.dropFirst(); sawDigit = true }
        guard sawDigit else { return nil }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            var frac = false
            while let b = bytes.first, (0x30...0x39).contains(b) {
                digits.append(b - 0x30); exponent -= 1; bytes = bytes.dropFirst(); frac = true
            }
            guard frac else { return nil }
        }
        if let e = bytes.first, e | 0x20 == UInt8(ascii: "e") {
            bytes = bytes.dropFirst()
            var expNegative = false
            if bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() } else if bytes.first == UInt8(ascii: "-") {
                expNegative = true; bytes = bytes.dropFirst()
            }
            var value = 0, any = false
            while let b = bytes.first, (0x30...0x39).contains(b) {
                value = min(value * 10 + Int(b - 0x30), Self.exponentClamp)
                bytes = bytes.dropFirst(); any = true
            }
            guard any else { return nil }
            exponent += expNegative ? -value : value
        }
        guard bytes.isEmpty else { return nil }
        self.init(negative: negative, digits: digits, exponent: exponent)
    }

    var isZero: Bool { digits.isEmpty }
    var isInteger: Bool { exponent >= 0 }
    var negated: DecimalNumber { DecimalNumber(negative: !negative, digits: digits, exponent: exponent) }

    /// The position of the most significant digit (`digits.count + exponent`): orders magnitudes.
    var magnitude: Int { digits.count + exponent }

    static func < (a: DecimalNumber, b: DecimalNumber) -> Bool {
        if a.negative != b.negative { return a.negative }
        if a.isZero || b.isZero {
            if a.isZero && b.isZero { return false }
            return a.isZero ? !b.negative : a.negative
        }
        let lessInMagnitude: Bool
        if a.magnitude != b.magnitude {
            lessInMagnitude = a.magnitude < b.magnitude
        } else {
            var result: Bool? = nil
            for i in 0..<max(a.digits.count, b.digits.count) {
                let x = i < a.digits.count ? a.digits[i] : 0
                let y = i < b.digits.count ? b.digits[i] : 0
                if x != y { result = x < y; break }
            }
            guard let r = result else { return false }
            lessInMagnitude = r
        }
        return a.negative ? !lessInMagnitude : lessInMagnitude
    }

    /// `|self| + 10^k`, for a non-negative number.
    func addingPowerOfTen(_ k: Int) -> DecimalNumber {
        if isZero { return DecimalNumber(negative: false, digits: [1], exponent: k) }
        let e = min(exponent, k)
        var d = digits + [UInt8](repeating: 0, count: exponent - e)
        var i = d.count - 1 - (k - e)
        if i < 0 {
            d = [UInt8](repeating: 0, count: -i) + d
            i = 0
        }
        var carry: UInt8 = 1
        while carry > 0 {
            if i < 0 { d.insert(0, at: 0); i = 0 }
            let s = d[i] + carry
            d[i] = s % 10
            carry = s / 10
            i -= 1
        }
        return DecimalNumber(negative: false, digits: d, exponent: e)
    }

    /// The greatest integer not above `self`.
    var floor: DecimalNumber {
        if isInteger { return self }
        let keep = max(0, digits.count + exponent)
        let truncated = DecimalNumber(negative: negative, digits: Array(digits.prefix(keep)), exponent: 0)
        return negative ? truncated.negated.addingPowerOfTen(0).negated : truncated
    }

    var description: String {
        (negative ? "-" : "") + (digits.isEmpty ? "0" : digits.map(String.init).joined()) + "e\(exponent)"
    }
}
