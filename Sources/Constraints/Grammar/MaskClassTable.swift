/// The state → mask-class map a lexeme keeps for `ByteLexeme.maskClass(of:horizon:)`: each state's
/// class is computed once, from a key the lexeme builds, and equal keys get equal class numbers.
struct MaskClassTable<Key: Hashable> {
    private var horizon = -1
    /// Class per state, `-1` while not computed.
    private var classOfState: [Int32] = []
    private var index: [Key: Int32] = [:]

    /// The class of `state`, computing its key with `key` the first time.
    /// - Parameters:
    ///   - state: a non-negative lexeme state.
    ///   - horizon: the horizon asked for; a different one than before starts the table afresh.
    ///   - key: the state's key; equal keys must mean equal behaviour up to `horizon` bytes.
    /// - Returns: the class number.
    mutating func classOf(_ state: Int32, horizon: Int, key: () -> Key) -> Int32 {
        if horizon != self.horizon {
            self.horizon = horizon
            classOfState.removeAll()
            index.removeAll()
        }
        let s = Int(state)
        if s < classOfState.count, classOfState[s] >= 0 { return classOfState[s] }
        if s >= classOfState.count { classOfState.append(contentsOf: repeatElement(-1, count: s + 1 - classOfState.count)) }
        let k = key()
        let c: Int32
        if let known = index[k] {
            c = known
        } else {
            c = Int32(index.count)
            index[k] = c
        }
        classOfState[s] = c
        return c
    }
}
