/// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014),
/// used to expand a 64-bit seed into `Xoshiro256StarStar`'s 256-bit state (as Vigna recommends for
/// the xoshiro family) and wherever a small deterministic generator makes synthetic data or fuzz
/// inputs reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The Weyl-sequence increment of the reference implementation (the golden ratio in 64 bits).
    public static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    private var state: UInt64

    /// A generator whose first output is the mix of `seed + golden`.
    /// - Parameter seed: any 64-bit value.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    /// - Returns: a uniformly distributed `UInt64`.
    public mutating func next() -> UInt64 {
        state &+= SplitMix64.golden
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1) from the next 53 bits.
    /// - Returns: the value.
    public mutating func unit() -> Double { Double(next() >> 11) / Double(UInt64(1) << 53) }
}
