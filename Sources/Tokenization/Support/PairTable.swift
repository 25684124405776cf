/// An open-addressing map from a packed id pair (`left << 32 | right`) to a packed value, with a
/// multiplicative hash: the BPE merge loop looks pairs up constantly, and `Dictionary`'s
/// seeded SipHash costs several times more per lookup.
struct PairTable: Sendable {
    /// Marks an empty slot (no id pair packs to it: ids are below `Int32.max`).
    private static let empty = UInt64.max
    private var keys: [UInt64]
    private var values: [UInt64]
    private let shift: UInt64
    private(set) var count = 0

    init(capacity: Int) {
        var bits = 4
        while (1 << bits) < capacity * 2 { bits += 1 }
        keys = [UInt64](repeating: Self.empty, count: 1 << bits)
        values = [UInt64](repeating: 0, count: 1 << bits)
        shift = UInt64(64 - bits)
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The value of `key`, or `UInt64.max` when absent.
    @inline(__always)
    func value(_ key: UInt64) -> UInt64 {
        let mask = keys.count - 1
        var s = slot(key)
        return keys.withUnsafeBufferPointer { k in
            while true {
                let stored = k[s]
                if stored == key { return values[s] }
                if stored == Self.empty { return UInt64.max }
                s = (s + 1) & mask
            }
        }
    }

    /// Stores `value` for `key` unless `key` is present; the table never grows (size it first).
    mutating func insertIfAbsent(_ key: UInt64, _ value: UInt64) {
        let mask = keys.count - 1
        var s = slot(key)
        while keys[s] != Self.empty {
            if keys[s] == key { return }
            s = (s + 1) & mask
        }
        keys[s] = key
        values[s] = value
        count += 1
    }
}
