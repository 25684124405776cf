/// Sorts the suffixes of a token array: prefix doubling (U. Manber, G. Myers, "Suffix arrays: a new
/// method for on-line string searches", SIAM J. Computing 1993) with bucket-head ranks, so each
/// doubling round is one bucket placement pass and one re-ranking pass over the array.
///
/// Why prefix doubling and not SA-IS: the alphabet is a tokenizer's vocabulary (up to 2^32 ids), for
/// which SA-IS needs bucket arrays the size of the alphabet and a recursion whose working memory is
/// hard to bound tightly; prefix doubling needs exactly four 32-bit arrays of the text's length
/// besides the text (20 bytes per token in all, 2 GB for 100 M tokens), touches them in sequential
/// passes except for one scattered write per pass, and stops as soon as every rank is distinct.
/// Rounds are ⌈log₂(L + 1)⌉ where L is the longest repeated substring, so it is O(n log n) in the
/// worst case and O(n log L) on text, where L stays far below n.
///
/// Order: suffixes compare token by token as unsigned 32-bit values; a suffix that is a proper
/// prefix of another sorts first (the end of the array is smaller than any token).
enum SuffixSorter {
    /// Bits sorted per radix pass of the first round (two passes cover a 32-bit id); 2^16 counters
    /// (256 KiB) stay in the L2 cache.
    static let radixBits = 16

    /// The suffix array of `text`: `result[r]` is the start of the `r`-th smallest suffix.
    /// - Parameter text: the tokens, fewer than `UInt32.max` of them.
    /// - Returns: the suffix array.
    static func sort(_ text: UnsafeBufferPointer<UInt32>) -> [UInt32] {
        let n = text.count
        precondition(n < Int(UInt32.max), "a suffix array indexes fewer than 2^32 - 1 tokens")
        guard n > 0 else { return [] }
        var sa = [UInt32](repeating: 0, count: n)
        var rank = [UInt32](repeating: 0, count: n)
        var work = [UInt32](repeating: 0, count: n)
        var cursor = [UInt32](repeating: 0, count: n)
        sa.withUnsafeMutableBufferPointer { sa in
            rank.withUnsafeMutableBufferPointer { rank in
                work.withUnsafeMutableBufferPointer { work in
                    cursor.withUnsafeMutableBufferPointer { cursor in
                        sortByFirstToken(text, into: sa, scratch: work)
                        var groups = assignHeadRanks(sa: sa, rank: rank) { a, b in text[a] == text[b] }
                        var h = 1
                        while groups < n {
                            groups = doublingRound(h: h, sa: sa, rank: rank, work: work, cursor: cursor)
                            h *= 2
                        }
                    }
                }
            }
        }
        return sa
    }

    /// Positions sorted by their token (stable): two LSD counting passes of `radixBits` each.
    private static func sortByFirstToken(_ text: UnsafeBufferPointer<UInt32>, into sa: UnsafeMutableBufferPointer<UInt32>,
                                         scratch: UnsafeMutableBufferPointer<UInt32>) {
        let buckets = 1 << radixBits
        let mask = UInt32(buckets - 1)
        var counts = [Int](repeating: 0, count: buckets + 1)
        counts.withUnsafeMutableBufferPointer { counts in
            // Low half: positions in text order into `scratch`; high half: from `scratch` into `sa`.
            for pass in 0..<2 {
                let shift = UInt32(pass * radixBits)
                for i in 0..<buckets + 1 { counts[i] = 0 }
                for t in text { counts[Int((t >> shift) & mask) + 1] += 1 }
                for i in 0..<buckets { counts[i + 1] += counts[i] }
                if pass == 0 {
                    for i in 0..<text.count {
                        let b = Int(text[i] & mask)
                        scratch[counts[b]] = UInt32(i)
                        counts[b] += 1
                    }
                } else {
                    for p in scratch {
                        let b = Int(text[Int(p)] >> shift)
                        sa[counts[b]] = p
                        counts[b] += 1
                    }
                }
            }
        }
    }

    /// Ranks each suffix by the position of its group's first member in `sa` (its "bucket head"),
    /// where consecutive members of `sa` share a group while `same` holds.
    /// - Returns: the number of groups.
    private static func assignHeadRanks(sa: UnsafeMutableBufferPointer<UInt32>, rank: UnsafeMutableBufferPointer<UInt32>,
                                        same: (Int, Int) -> Bool) -> Int {
        var head: UInt32 = 0
        var groups = 1
        rank[Int(sa[0])] = 0
        for r in 1..<sa.count {
            if !same(Int(sa[r - 1]), Int(sa[r])) {
                head = UInt32(r)
                groups += 1
            }
            rank[Int(sa[r])] = head
        }
        return groups
    }

    /// One round: `sa` and `rank` order suffixes by their first `h` tokens; afterwards by their
    /// first `2h`. Sorting by (rank[i], rank[i + h]) takes the suffixes in order of their second
    /// key — those shorter than `h + 1` first, then `sa` shifted by `h` — and places each stably
    /// at its first key's bucket cursor.
    /// - Returns: the number of groups after the round.
    private static func doublingRound(h: Int, sa: UnsafeMutableBufferPointer<UInt32>, rank: UnsafeMutableBufferPointer<UInt32>,
                                      work: UnsafeMutableBufferPointer<UInt32>, cursor: UnsafeMutableBufferPointer<UInt32>) -> Int {
        let n = sa.count
        var k = 0
        // A suffix with no token at offset h has the smallest second key; among themselves such
        // suffixes never share a rank (equal first-h ranks would need equal lengths).
        for i in max(0, n - h)..<n {
            work[k] = UInt32(i)
            k += 1
        }
        for p in sa where Int(p) >= h {
            work[k] = p - UInt32(h)
            k += 1
        }
        // Bucket cursors start at each group's head, which is its rank.
        for i in 0..<n { cursor[i] = UInt32(i) }
        for p in work {
            let r = Int(rank[Int(p)])
            sa[Int(cursor[r])] = p
            cursor[r] += 1
        }
        // New ranks (into `cursor`, free now): a new group starts where either key changes.
        func second(_ p: Int) -> Int64 { p + h < n ? Int64(rank[p + h]) : -1 }
        var groups = 1
        var head: UInt32 = 0
        cursor[Int(sa[0])] = 0
        for r in 1..<n {
            let a = Int(sa[r - 1]), b = Int(sa[r])
            if rank[a] != rank[b] || second(a) != second(b) {
                head = UInt32(r)
                groups += 1
            }
            cursor[b] = head
        }
        for i in 0..<n { rank[i] = cursor[i] }
        return groups
    }
}
