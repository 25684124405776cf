/// Counts one run of a corpus by sorting, not hashing: every position's window (the context
/// length plus the continuation length of tokens from it) is sorted, so that each context of
/// every length is a contiguous range and, inside it, the continuations are sorted too. One scan
/// per context length then reads each record's exact counts in the store's key order, without a
/// per-context allocation. Exact counts are then cut to `countersPerDepth` per depth with the
/// merge step of Agarwal et al. (`ContinuationSummary.prune`), which keeps the Misra–Gries
/// guarantees; merging runs later uses the same step.
///
/// Memory: `bytesPerToken` per token held (the tokens, a sort item, and the radix sort's scratch).
struct WindowCounter {
    /// One position to sort: its first two tokens packed for the radix passes, where it is in
    /// `tokens`, and how many tokens its window holds (fewer at a text's end).
    struct Item {
        var prefix: UInt64
        var position: UInt32
        var length: UInt32
    }

    /// Bytes held per token: 4 for the token, 16 for its item, 16 for the radix scratch.
    static let bytesPerToken = 4 + 2 * MemoryLayout<Item>.stride

    let parameters: NGramParameters
    /// Context plus continuation: the tokens a window needs.
    let window: Int
    private(set) var tokens: [UInt32] = []
    /// Positions whose windows are counted in this run, with the end of their text in `tokens`.
    private var segments: [(start: Int, owned: Int, end: Int)] = []
    private(set) var ownedTokens = 0

    init(parameters: NGramParameters) {
        self.parameters = parameters
        window = parameters.contextLength + parameters.continuationLength
    }

    var isEmpty: Bool { ownedTokens == 0 }

    /// Adds positions `owned` of a text; `text` may run on past them (up to `window - 1` tokens)
    /// so that windows near the end of a piece of a long text see the tokens after it.
    mutating func add(_ text: ArraySlice<Int32>, owned: Int) {
        let start = tokens.count
        tokens.append(contentsOf: text.lazy.map { UInt32(bitPattern: $0) })
        segments.append((start, owned, tokens.count))
        ownedTokens += owned
    }

    mutating func removeAll() {
        tokens.removeAll(keepingCapacity: true)
        segments.removeAll(keepingCapacity: true)
        ownedTokens = 0
    }

    /// Sorts the windows and emits one record per context, in key order (by length, then ids).
    /// - Parameter emit: receives each record's version-2 key and value bytes.
    func emitRecords(_ emit: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        var items: [Item] = []
        items.reserveCapacity(ownedTokens)
        for segment in segments {
            for j in segment.start..<(segment.start + segment.owned) {
                let length = min(window, segment.end - j)
                // A window of one token is a context with nothing after it: it counts nowhere.
                guard length >= 2 else { continue }
                items.append(Item(prefix: UInt64(tokens[j]) << 32 | UInt64(tokens[j + 1]),
                                  position: UInt32(j), length: UInt32(length)))
            }
        }
        try tokens.withUnsafeBufferPointer { tokens in
            try items.withUnsafeMutableBufferPointer { items in
                Self.sort(items, tokens: tokens)
                var scratch = Scratch()
                for n in 1...parameters.contextLength {
                    try scan(items, tokens: tokens, contextLength: n, scratch: &scratch, emit)
                }
            }
        }
    }

    // MARK: Sorting

    /// Sorts windows lexicographically by their tokens, a shorter window before one it prefixes:
    /// a least-significant-digit radix sort on the first two tokens (16-bit digits; digits equal in
    /// every item are skipped, so a vocabulary under 65 536 takes two passes), then a comparison
    /// sort of each range of equal first two tokens on the rest.
    static func sort(_ items: UnsafeMutableBufferPointer<Item>, tokens: UnsafeBufferPointer<UInt32>) {
        guard items.count > 1 else { return }
        var all = UInt64.max, any: UInt64 = 0
        for item in items {
            all &= item.prefix
            any |= item.prefix
        }
        let scratch = UnsafeMutableBufferPointer<Item>.allocate(capacity: items.count)
        defer { scratch.deallocate() }
        var source = items, target = scratch
        var counts = [Int](repeating: 0, count: 1 << 16)
        for shift in stride(from: 0, to: 64, by: 16) where (all ^ any) >> UInt64(shift) & 0xFFFF != 0 {
            for i in counts.indices { counts[i] = 0 }
            for item in source { counts[Int(item.prefix >> UInt64(shift) & 0xFFFF)] += 1 }
            var sum = 0
            for i in counts.indices {
                let c = counts[i]
                counts[i] = sum
                sum += c
            }
            for item in source {
                let digit = Int(item.prefix >> UInt64(shift) & 0xFFFF)
                target[counts[digit]] = item
                counts[digit] += 1
            }
            swap(&source, &target)
        }
        if source.baseAddress != items.baseAddress {
            _ = items.initialize(fromContentsOf: source)
        }
        // Ranges of equal first two tokens: order by the tokens after them, then by length.
        var start = 0
        while start < items.count {
            var end = start + 1
            while end < items.count, items[end].prefix == items[start].prefix { end += 1 }
            if end - start > 1 {
                var range = UnsafeMutableBufferPointer(rebasing: items[start..<end])
                range.sort { a, b in
                    let shared = Int(min(a.length, b.length))
                    var i = 2
                    while i < shared {
                        let x = tokens[Int(a.position) + i], y = tokens[Int(b.position) + i]
                        if x != y { return x < y }
                        i += 1
                    }
                    return a.length < b.length
                }
            }
            start = end
        }
    }

    // MARK: Scanning

    /// Buffers reused across records.
    struct Scratch {
        var nodes: [RecordCoding.TrieNode] = []
        var open: [Int] = Array(repeating: 0, count: TokenRun.capacity)
        var value: [UInt8] = []
        var key: [UInt8] = Array(repeating: 0, count: RecordCoding.maxKeySize)
        var depthCounts: [UInt32] = []
        var kept: [Bool] = Array(repeating: false, count: TokenRun.capacity + 1)
    }

    /// Emits the records of contexts of length `n`: each group of windows that agree on their
    /// first `n` tokens and go on past them.
    private func scan(_ items: UnsafeMutableBufferPointer<Item>, tokens: UnsafeBufferPointer<UInt32>,
                      contextLength n: Int, scratch: inout Scratch,
                      _ emit: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        let m = parameters.continuationLength
        var i = 0
        while i < items.count {
            guard Int(items[i].length) > n else {
                i += 1
                continue
            }
            let first = Int(items[i].position)
            // The group: windows with the same first n tokens and at least one token after them.
            var end = i + 1
            while end < items.count, Int(items[end].length) > n,
                  Self.equal(tokens, first, Int(items[end].position), count: n) { end += 1 }
            scratch.nodes.removeAll(keepingCapacity: true)
            var previousLength = 0, previous = first
            for g in i..<end {
                let p = Int(items[g].position)
                let length = min(Int(items[g].length) - n, m)
                var shared = 0
                if g > i {
                    let limit = min(length, previousLength)
                    while shared < limit, tokens[p + n + shared] == tokens[previous + n + shared] { shared += 1 }
                }
                for d in 0..<shared {
                    let node = scratch.open[d]
                    if scratch.nodes[node].count < .max { scratch.nodes[node].count += 1 }
                }
                for d in shared..<length {
                    scratch.open[d] = scratch.nodes.count
                    scratch.nodes.append(.init(depth: d, token: tokens[p + n + d], count: 1))
                }
                previous = p
                previousLength = length
            }
            prune(&scratch)
            let total = UInt32(min(end - i, Int(UInt32.max)))
            scratch.value.removeAll(keepingCapacity: true)
            RecordCoding.encodeTrie(total: total, nodes: scratch.nodes[...], into: &scratch.value)
            var context = TokenRun()
            for t in 0..<n { context.append(Int32(bitPattern: tokens[first + t])) }
            try scratch.key.withUnsafeMutableBytes { key in
                let size = RecordCoding.encodeKey(context, into: key, version: 2)
                try scratch.value.withUnsafeBytes { value in
                    try emit(UnsafeRawBufferPointer(rebasing: key[..<size]), value)
                }
            }
            i = end
        }
    }

    @inline(__always)
    private static func equal(_ tokens: UnsafeBufferPointer<UInt32>, _ a: Int, _ b: Int, count: Int) -> Bool {
        for t in 0..<count where tokens[a + t] != tokens[b + t] { return false }
        return true
    }

    /// Cuts each depth with more than `countersPerDepth` nodes by its `(k+1)`-th largest count
    /// (`ContinuationSummary.prune`), then drops nodes left at 0 that have no counted descendant.
    private func prune(_ scratch: inout Scratch) {
        let k = parameters.countersPerDepth
        var perDepth = [Int](repeating: 0, count: parameters.continuationLength)
        for node in scratch.nodes { perDepth[node.depth] += 1 }
        guard perDepth.contains(where: { $0 > k }) else { return }
        for depth in perDepth.indices where perDepth[depth] > k {
            scratch.depthCounts.removeAll(keepingCapacity: true)
            for node in scratch.nodes where node.depth == depth { scratch.depthCounts.append(node.count) }
            scratch.depthCounts.sort(by: >)
            let cut = scratch.depthCounts[k]
            for i in scratch.nodes.indices where scratch.nodes[i].depth == depth {
                scratch.nodes[i].count -= min(cut, scratch.nodes[i].count)
            }
        }
        // Backwards through the pre-order: a node is kept when counted or when a child is kept.
        for d in scratch.kept.indices { scratch.kept[d] = false }
        var keep = [Bool](repeating: false, count: scratch.nodes.count)
        for i in scratch.nodes.indices.reversed() {
            let d = scratch.nodes[i].depth
            keep[i] = scratch.nodes[i].count > 0 || scratch.kept[d + 1]
            scratch.kept[d + 1] = false
            if keep[i] { scratch.kept[d] = true }
        }
        var w = 0
        for i in scratch.nodes.indices where keep[i] {
            scratch.nodes[w] = scratch.nodes[i]
            w += 1
        }
        scratch.nodes.removeLast(scratch.nodes.count - w)
    }
}
