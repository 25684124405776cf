/// The storage of a lexeme built on demand: states interned by a key that describes them, and one
/// row of 256 cached transitions per state (`-2` not computed yet, `-1` dead). Regex DFAs, JSON
/// strings and intersections are determinised this way; each computes a missing transition from
/// the state's key and records it.
struct LazyAutomaton<Key: Hashable> {
    /// The states, numbered by their keys.
    private var states = Interner<Key>()
    private var transitions: [Int32] = []

    /// Each state's key, by state number.
    var keys: [Key] { states.keys }

    /// The number of states built so far.
    var count: Int { states.count }

    /// The key of `state`.
    subscript(state: Int32) -> Key { states[state] }

    /// The state of `key`, if it has been interned.
    func state(of key: Key) -> Int32? { states.id(of: key) }

    /// The state of `key`, added (with no transition computed) when new.
    mutating func intern(_ key: Key) -> Int32 {
        let (id, inserted) = states.intern(key)
        if inserted { transitions.append(contentsOf: repeatElement(-2, count: 256)) }
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

/// Values numbered in the order they are first seen, one id per distinct value: the states of a
/// `LazyAutomaton`, the key sets of a `KeySetTable`.
struct Interner<Key: Hashable> {
    /// Each value, by id.
    private(set) var keys: [Key] = []
    private var index: [Key: Int32] = [:]

    /// The number of distinct values.
    var count: Int { keys.count }

    /// The value of `id`.
    subscript(id: Int32) -> Key { keys[Int(id)] }

    /// The id of `key`, if it has been interned.
    func id(of key: Key) -> Int32? { index[key] }

    /// The id of `key`, added when new.
    /// - Returns: the id, and whether the value was new.
    mutating func intern(_ key: Key) -> (id: Int32, inserted: Bool) {
        if let id = index[key] { return (id, false) }
        let id = Int32(keys.count)
        keys.append(key)
        index[key] = id
        return (id, true)
    }
}
