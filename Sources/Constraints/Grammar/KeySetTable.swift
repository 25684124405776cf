/// The sets of object keys that Earley items of member loops carry (`EarleyParser.Item.keys`),
/// interned by content: one id per distinct set, so items that read the same keys in another order
/// are one item, and an id is a plain `Int32` inside the chart (rollback and forks copy nothing).
///
/// A set is created only when the parser reads a key into it, so the table grows with the distinct
/// key sets read — about one per key written, plus the keys a mask walk reads speculatively where a
/// key may end (353 sets for a 300-key object written in full, masks included) — never with the
/// number of named properties alone. Not thread-safe: it belongs to its `Grammar`, which is used from one thread at a
/// time (see `Grammar`).
final class KeySetTable {
    /// The id of the empty set: items outside member loops, and a loop's start.
    static let empty: Int32 = 0

    /// Id → its keys, sorted; the empty set first.
    private var sets: Interner<[Int32]> = {
        var sets = Interner<[Int32]>()
        _ = sets.intern([])
        return sets
    }()
    /// (set, key) → the set with the key added, so reading a key again costs one lookup.
    private var additions: [UInt64: Int32] = [:]

    /// The number of distinct sets so far.
    var count: Int { sets.count }

    /// Whether `key` is in the set `set`.
    func contains(_ key: Int32, in set: Int32) -> Bool {
        let keys = sets[set]
        var low = 0, high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if keys[mid] < key { low = mid + 1 } else { high = mid }
        }
        return low < keys.count && keys[low] == key
    }

    /// The set `set` with `key` added.
    func adding(_ key: Int32, to set: Int32) -> Int32 {
        let memo = UInt64(UInt32(bitPattern: set)) << 32 | UInt64(UInt32(bitPattern: key))
        if let known = additions[memo] { return known }
        var keys = sets[set]
        let at = keys.firstIndex { $0 >= key } ?? keys.count
        if at == keys.count || keys[at] != key { keys.insert(key, at: at) }
        let id = sets.intern(keys).id
        additions[memo] = id
        return id
    }
}
