/// A set of bytes as a 256-bit bitmap: the terminal of a grammar rule (`[a-z]`, `"x"`).
public struct ByteSet: Hashable, Sendable {
    /// Four 64-bit words; bit `b % 64` of word `b / 64` says whether byte `b` is in the set.
    var words: (UInt64, UInt64, UInt64, UInt64)

    /// The empty set.
    public init() { words = (0, 0, 0, 0) }

    /// The set of the bytes in a closed range.
    /// - Parameter range: the bytes to include.
    public init(_ range: ClosedRange<UInt8>) {
        self.init()
        for b in range { insert(b) }
    }

    /// The set holding one byte.
    /// - Parameter byte: the byte.
    public init(byte: UInt8) {
        self.init()
        insert(byte)
    }

    /// JSON's insignificant whitespace (RFC 8259 §2): space, tab, line feed, carriage return.
    public static let jsonWhitespace: ByteSet = {
        var set = ByteSet(byte: 0x20)
        for b: UInt8 in [0x09, 0x0A, 0x0D] { set.insert(b) }
        return set
    }()

    /// Whether `byte` is in the set.
    /// - Parameter byte: the byte to test.
    /// - Returns: `true` when it is a member.
    @inline(__always)
    public func contains(_ byte: UInt8) -> Bool {
        // Selects the word with conditional moves: a switch on `byte >> 6` compiles to an indirect
        // jump that mispredicts in the trie walks' inner loops.
        let low = byte & 64 == 0 ? words.0 : words.1
        let high = byte & 64 == 0 ? words.2 : words.3
        return (byte < 128 ? low : high) >> UInt64(byte & 63) & 1 != 0
    }

    /// Adds a byte.
    /// - Parameter byte: the byte to add.
    public mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    /// Removes a byte.
    /// - Parameter byte: the byte to remove.
    public mutating func remove(_ byte: UInt8) {
        let bit = ~(UInt64(1) << UInt64(byte & 63))
        switch byte >> 6 {
        case 0: words.0 &= bit
        case 1: words.1 &= bit
        case 2: words.2 &= bit
        default: words.3 &= bit
        }
    }

    /// Adds every byte of another set.
    /// - Parameter other: the set to merge in.
    public mutating func formUnion(_ other: ByteSet) {
        words.0 |= other.words.0
        words.1 |= other.words.1
        words.2 |= other.words.2
        words.3 |= other.words.3
    }

    /// Keeps only the bytes also in another set.
    /// - Parameter other: the set to intersect with.
    public mutating func formIntersection(_ other: ByteSet) {
        words.0 &= other.words.0
        words.1 &= other.words.1
        words.2 &= other.words.2
        words.3 &= other.words.3
    }

    /// Whether the set has no member.
    public var isEmpty: Bool { words.0 | words.1 | words.2 | words.3 == 0 }

    /// The number of members.
    public var count: Int {
        words.0.nonzeroBitCount + words.1.nonzeroBitCount + words.2.nonzeroBitCount + words.3.nonzeroBitCount
    }

    /// Calls `body` with each member in increasing order.
    /// - Parameter body: called once per member.
    @inline(__always)
    public func forEach(_ body: (UInt8) throws -> Void) rethrows {
        for w in 0..<4 {
            var bits = w == 0 ? words.0 : w == 1 ? words.1 : w == 2 ? words.2 : words.3
            while bits != 0 {
                try body(UInt8(w * 64 + bits.trailingZeroBitCount))
                bits &= bits - 1
            }
        }
    }

    /// The members in increasing order.
    public var members: [UInt8] {
        var out: [UInt8] = []
        forEach { out.append($0) }
        return out
    }

    public static func == (a: ByteSet, b: ByteSet) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
