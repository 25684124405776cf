/// An open-addressing hash table keyed by byte strings, storing keys in one arena so a lookup by
/// a slice of a larger buffer allocates nothing (a `Dictionary<[UInt8], V>` would need an array
/// per lookup). Used for the vocabulary and the BPE word cache.
struct ByteKeyTable<Value> {
    private var slots: [Int32]          // index into entries, or -1
    private var hashes: [UInt64] = []
    private var keyStarts: [Int32] = []
    private var keyLengths: [Int32] = []
    private(set) var values: [Value] = []
    private var arena: [UInt8] = []
    private var mask: Int

    /// Creates a table sized for about `capacity` keys.
    init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    var count: Int { values.count }
    /// Bytes held by keys (for bounding a cache's memory).
    var arenaSize: Int { arena.count }

    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        // FNV-1a 64; keys are short words, and the table only needs a good spread.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h ^ (h >> 29)
    }

    /// The value stored for `key`, if any.
    @inline(__always)
    func find(_ key: UnsafeBufferPointer<UInt8>) -> Value? {
        let h = Self.hash(key)
        var slot = Int(truncatingIfNeeded: h) & mask
        return arena.withUnsafeBufferPointer { arena in
            while true {
                let e = Int(slots[slot])
                if e < 0 { return nil }
                if hashes[e] == h, Int(keyLengths[e]) == key.count {
                    let start = Int(keyStarts[e])
                    if key.count == 0 || memcmp(arena.baseAddress! + start, key.baseAddress!, key.count) == 0 {
                        return values[e]
                    }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    func find(_ key: [UInt8]) -> Value? {
        key.withUnsafeBufferPointer { find($0) }
    }

    /// Inserts `key` unless present; returns whether it was inserted.
    @discardableResult
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, _ value: Value) -> Bool {
        if find(key) != nil { return false }
        if (values.count + 1) * 2 > slots.count { grow() }
        let h = Self.hash(key)
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(values.count)
        hashes.append(h)
        keyStarts.append(Int32(arena.count))
        keyLengths.append(Int32(key.count))
        arena.append(contentsOf: key)
        values.append(value)
        return true
    }

    @discardableResult
    mutating func insert(_ key: [UInt8], _ value: Value) -> Bool {
        key.withUnsafeBufferPointer { insert($0, value) }
    }

    /// Empties the table, keeping its capacity.
    mutating func removeAll() {
        for i in slots.indices { slots[i] = -1 }
        hashes.removeAll(keepingCapacity: true)
        keyStarts.removeAll(keepingCapacity: true)
        keyLengths.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
    }

    private mutating func grow() {
        let size = slots.count * 2
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
        for e in 0..<values.count {
            var slot = Int(truncatingIfNeeded: hashes[e]) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(e)
        }
    }
}

extension ByteKeyTable: Sendable where Value: Sendable {}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
