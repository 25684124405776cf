/// The set of token ids allowed next, as a bitset over the vocabulary (bit `t` set = token `t` allowed).
///
/// This is the form a sampler applies to logits (`-inf` where the bit is clear) and a draft filter
/// uses to prune proposed tree nodes.
public struct TokenMask: Equatable, Sendable {
    /// One bit per token, 64 tokens per word.
    public private(set) var words: [UInt64]
    /// The vocabulary size the mask covers.
    public let count: Int

    /// A mask with no token allowed.
    /// - Parameter count: the vocabulary size.
    public init(count: Int) {
        self.count = count
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    /// Whether `token` is allowed.
    /// - Parameter token: a token id; ids outside the vocabulary are never allowed.
    /// - Returns: `true` when its bit is set.
    @inline(__always)
    public func contains(_ token: Int) -> Bool {
        guard token >= 0, token < count else { return false }
        return words[token >> 6] & (UInt64(1) << UInt64(token & 63)) != 0
    }

    /// Allows `token`.
    /// - Parameter token: a token id inside the vocabulary.
    @inline(__always)
    public mutating func insert(_ token: Int) {
        words[token >> 6] |= UInt64(1) << UInt64(token & 63)
    }

    /// Allows every token the other mask allows.
    /// - Parameter other: a mask over the same vocabulary.
    public mutating func formUnion(_ other: TokenMask) {
        for w in words.indices { words[w] |= other.words[w] }
    }

    /// Runs `body` on the bit words (for hot loops that set many bits).
    mutating func withUnsafeMutableWords<R>(_ body: (UnsafeMutableBufferPointer<UInt64>) throws -> R) rethrows -> R {
        try words.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// The number of allowed tokens.
    public var allowedCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// The allowed token ids in increasing order.
    public var allowed: [Int] {
        var out: [Int] = []
        for (w, word) in words.enumerated() {
            var bits = word
            while bits != 0 {
                out.append(w * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return out
    }
}
