import Synchronization

/// Ouroboros's candidate pool (Zhao et al. 2024, "Ouroboros: Generating Longer Drafts Phrase by
/// Phrase for Faster Speculative Decoding", §3.3): phrases the target itself produced while
/// verifying, keyed by the token they follow, so that a drafter can append one below any draft
/// leaf carrying that token.
///
/// Bounded twice: each key keeps its `keep` most recently refreshed phrases, and the pool as a
/// whole at most `capacity`, dropping the least recently refreshed phrase of all when a new one
/// would exceed it. A phrase offered again moves to the front of its key (refresh, not growth);
/// one that is a prefix of a kept phrase refreshes that phrase, and one that extends a kept phrase
/// replaces it, so a key never holds a phrase and its own prefix.
///
/// Shared by every hypothesis and run of a session (the paper's warm start); its lock is held only
/// for a harvest's insertions or one lookup.
final class PhrasePool: Sendable {
    /// One kept phrase: the tokens after its key, and when it was last offered.
    struct Phrase: Equatable {
        var tokens: [Int32]
        var stamp: UInt64
    }

    /// The phrases per key, most recently refreshed first, and the count of all of them.
    struct Storage {
        var byKey: [Int32: [Phrase]] = [:]
        var count = 0
        var clock: UInt64 = 0
    }

    /// Phrases kept per key.
    let keep: Int
    /// Phrases kept in all.
    let capacity: Int
    /// The pool, behind a lock: hypotheses of one batch harvest and draft concurrently.
    let storage: Mutex<Storage> = Mutex(Storage())

    /// An empty pool.
    /// - Parameters:
    ///   - keep: phrases kept per key (≥ 1).
    ///   - capacity: phrases kept in all (≥ `keep`).
    init(keep: Int, capacity: Int) {
        self.keep = keep
        self.capacity = capacity
    }

    /// Offers phrases, in order (a later offer is the more recent).
    /// - Parameter phrases: each phrase's key and the tokens after it (empty ones are ignored).
    func offer(_ phrases: [(key: Int32, tokens: [Int32])]) {
        storage.withLock { storage in
            for phrase in phrases where !phrase.tokens.isEmpty && phrase.key >= 0 {
                Self.insert(phrase.tokens, key: phrase.key, into: &storage, keep: keep)
                while storage.count > capacity { Self.evictOldest(&storage) }
            }
        }
    }

    private static func insert(_ tokens: [Int32], key: Int32, into storage: inout Storage, keep: Int) {
        storage.clock += 1
        var list = storage.byKey[key] ?? []
        var phrase = Phrase(tokens: tokens, stamp: storage.clock)
        if let i = list.firstIndex(where: { $0.tokens.starts(with: tokens) || tokens.starts(with: $0.tokens) }) {
            // The longer of the two stays: the shorter says nothing the longer does not.
            if list[i].tokens.count > tokens.count { phrase.tokens = list[i].tokens }
            list.remove(at: i)
        } else {
            storage.count += 1
        }
        list.insert(phrase, at: 0)
        if list.count > keep {
            storage.count -= list.count - keep
            list.removeLast(list.count - keep)
        }
        storage.byKey[key] = list
    }

    /// Drops the least recently refreshed phrase of the whole pool (each key's last is its oldest).
    private static func evictOldest(_ storage: inout Storage) {
        guard let (key, _) = storage.byKey.min(by: { $0.value.last!.stamp < $1.value.last!.stamp }) else { return }
        storage.byKey[key]!.removeLast()
        if storage.byKey[key]!.isEmpty { storage.byKey[key] = nil }
        storage.count -= 1
    }

    /// The most recently refreshed phrases after a token.
    /// - Parameters:
    ///   - key: the token the phrases follow.
    ///   - limit: the most phrases returned.
    /// - Returns: up to `limit` phrases, most recent first.
    func phrases(after key: Int32, limit: Int) -> [[Int32]] {
        storage.withLock { storage in (storage.byKey[key] ?? []).prefix(limit).map(\.tokens) }
    }

    /// Phrases held in all.
    var count: Int { storage.withLock { $0.count } }

    /// What one verification teaches the pool: along every root-to-leaf path of the scored tree,
    /// the target's prediction at each position (the argmax of its logits there), accepted or not.
    /// Past the first rejected draft token the predictions are the target's continuation of a
    /// partly wrong draft, which Ouroboros keeps as phrases all the same. Position `j` of a path
    /// (the root is position 0) gives the phrase of the predictions from `j` on, at most `length`,
    /// keyed by the token at `j` — at the root the previous context's last token, when known. Its
    /// first token is what the target said after the key; the rest were said after the draft's
    /// tokens, which hold the phrase only as far as the draft was right.
    ///
    /// Not kept: the phrases after the target's own prediction at a rejection (its correction,
    /// which the next step starts from, followed by what it said after the rejected token). On the
    /// demo pair they halved the pool's own acceptance (MAT 1.15 against 1.90 drafting alone, 2.98
    /// against 3.03 lengthening the draft model's chain; docs/measurements.md).
    /// - Parameters:
    ///   - tree: the tree the target scored.
    ///   - predictions: the target's prediction at the root and at every node (`tree.count + 1`).
    ///   - rootToken: the token the root row followed, if known.
    ///   - length: the most tokens per phrase.
    /// - Returns: the phrases, each path's shallow positions first.
    static func harvest(tree: TokenTree, predictions: [Int32], rootToken: Int32?, length: Int) -> [(key: Int32, tokens: [Int32])] {
        var phrases: [(key: Int32, tokens: [Int32])] = []
        // Each leaf's path once (the root alone when the tree is empty): rows, root first.
        for leaf in tree.leaves {
            let rows = [0] + tree.path(to: leaf).map { $0 + 1 }
            let said = rows.map { predictions[$0] }
            for j in rows.indices {
                guard let token = j == 0 ? rootToken : tree.nodes[rows[j] - 1].token else { continue }
                phrases.append((token, Array(said[j..<min(j + length, said.count)])))
            }
        }
        return phrases
    }
}
