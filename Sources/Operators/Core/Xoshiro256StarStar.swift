import Support
/// xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS
/// 2021): the seeded generator behind every sampling operator, so a run with `--seed S` is
/// reproducible on every platform — unlike `SystemRandomNumberGenerator`, and unlike Swift's
/// `Double.random(in:using:)`, whose conversion is not specified; `Distribution.unitDouble(using:)`
/// fixes it.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// A generator seeded from one 64-bit value through `SplitMix64`, as the authors recommend.
    /// - Parameter seed: any 64-bit value (the CLI's `--seed`).
    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        s = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
    }

    /// A generator with an explicit state, as the reference implementation's `s[4]`.
    /// - Parameter state: four words, not all zero.
    /// - Throws: `OperatorError.invalidParameter` for the all-zero state, which never leaves zero.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) throws {
        guard state != (0, 0, 0, 0) else {
            throw OperatorError(.invalidParameter, at: "state", "the all-zero state is a fixed point of xoshiro256**")
        }
        s = state
    }

    /// The next 64 random bits.
    /// - Returns: a uniformly distributed `UInt64`.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotateLeft(s.3, 45)
        return result
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
