/// The storage of a lexeme built on demand: states interned by a key that describes them, and one
/// row of 256 cached transitions per state (`-2` not computed yet, `-1` dead). Regex DFAs, JSON
/// strings and intersections are determinised this way; each computes a missing transition from
/// the state's key and records it.
struct LazyAutomaton<Key: Hashable> {
    /// Each state's key, by state number.
    private(set) var keys: [Key] = []
    private var index: [Key: Int32] = [:]
    private var transitions: [Int32] = []

    /// The number of states built so far.
    var count: Int { keys.count }

    /// The key of `state`.
    subscript(state: Int32) -> Key { keys[Int(state)] }

    /// The state of `key`, if it has been interned.
    func state(of key: Key) -> Int32? { index[key] }

    /// The state of `key`, added (with no transition computed) when new.
    mutating func intern(_ key: Key) -> Int32 {
        if let id = index[key] { return id }
        let id = Int32(keys.count)
        keys.append(key)
        index[key] = id
        transitions.append(contentsOf: repeatElement(-2, count: 256))
        return id
    }

    /// The cached transition from `state` on `byte`, or `nil` when not computed yet.
    func cached(_ state: Int32, _ byte: UInt8) -> Int32? {
        let t = transitions[Int(state) << 8 | Int(byte)]
        return t == -2 ? nil : t
    }

    /// Records the transition from `state` on `byte` (a state or `-1`).
    mutating func record(_ state: Int32, _ byte: UInt8, _ target: Int32) {
        transitions[Int(state) << 8 | Int(byte)] = target
    }
}
