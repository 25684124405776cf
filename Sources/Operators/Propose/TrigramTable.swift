import Synchronization

/// ADED's tri-gram matrix (Liu et al. 2024, "Adaptive Draft-Verification for Efficient Large
/// Language Model Decoding"): for each pair of tokens, the tokens that followed it and how often,
/// learned from the text the run commits — the model's own output, and the prompt — so the
/// matrix follows the model's distribution as decoding goes on.
///
/// Each pair keeps `counters` counters with the Space-Saving summary (A. Metwally, D. Agrawal,
/// A. El Abbadi, "Efficient Computation of Frequent and Top-k Elements in Data Streams", 2005): a
/// new follower of a full row takes the smallest counter's place with that count plus one, so a
/// follower that is frequent in the stream is never lost and a row's size stays fixed. The table
/// is shared by every hypothesis and run of a node (a session keeps what it learned) and holds at
/// most `maximumPairs` rows; past that it starts afresh, which bounds a long-lived server's memory.
final class TrigramTable: Sendable {
    /// One counted follower.
    struct Entry: Sendable, Equatable {
        /// The token that followed the pair.
        var token: Int32
        /// How often (a Space-Saving count: at least the true count, at most it plus the row's
        /// smallest count when this token took its place).
        var count: Float
    }

    /// Counters per pair.
    let counters: Int
    /// Most pairs kept before the table is emptied (each row is a few hundred bytes at most).
    let maximumPairs: Int
    private let rows: Mutex<[UInt64: [Entry]]> = Mutex([:])

    /// Creates an empty table.
    /// - Parameters:
    ///   - counters: followers counted per pair, ≥ 1.
    ///   - maximumPairs: pairs kept before starting afresh, ≥ 1.
    init(counters: Int, maximumPairs: Int = 1 << 18) {
        self.counters = max(1, counters)
        self.maximumPairs = max(1, maximumPairs)
    }

    /// A pair's key.
    static func key(_ first: Int32, _ second: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: first)) << 32 | UInt64(UInt32(bitPattern: second))
    }

    /// Learns every tri-gram that ends in `tokens[from...]`: the pair before each such token and
    /// the token itself.
    /// - Parameters:
    ///   - tokens: the text (its earlier tokens give the first tri-grams their pairs).
    ///   - from: the first position whose token is learned as a follower.
    func learn(_ tokens: [Int32], from: Int) {
        let start = max(2, from)
        guard start < tokens.count else { return }
        rows.withLock { rows in
            for i in start..<tokens.count {
                let key = Self.key(tokens[i - 2], tokens[i - 1])
                if rows[key] == nil, rows.count >= maximumPairs { rows.removeAll(keepingCapacity: true) }
                Self.record(tokens[i], in: &rows[key, default: []], counters: counters)
            }
        }
    }

    /// Space-Saving's update of one row.
    static func record(_ token: Int32, in row: inout [Entry], counters: Int) {
        if let i = row.firstIndex(where: { $0.token == token }) {
            row[i].count += 1
        } else if row.count < counters {
            row.append(Entry(token: token, count: 1))
        } else if let smallest = row.indices.min(by: { row[$0].count < row[$1].count }) {
            row[smallest] = Entry(token: token, count: row[smallest].count + 1)
        }
    }

    /// What followed a pair.
    /// - Parameters:
    ///   - first: the pair's first token.
    ///   - second: its second.
    /// - Returns: the row's counters, most frequent first (ties: the smaller token first); empty
    ///   for a pair never seen.
    func followers(of first: Int32, _ second: Int32) -> [Entry] {
        let row = rows.withLock { $0[Self.key(first, second)] } ?? []
        return row.sorted { $0.count > $1.count || ($0.count == $1.count && $0.token < $1.token) }
    }

    /// Pairs held.
    var pairCount: Int { rows.withLock { $0.count } }
}
