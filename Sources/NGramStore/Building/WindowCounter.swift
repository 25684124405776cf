import Foundation
/// Counts one run of a corpus by sorting, not hashing: every position's window (the context
/// length plus the continuation length of tokens from it) is sorted, so that each context of
/// every length is a contiguous range and, inside it, the continuations are sorted too. One scan
/// per context length then reads each record's exact counts in the store's key order, without a
/// per-context allocation. Exact counts are then cut to `countersPerDepth` per depth with the
/// merge step of Agarwal et al. (`ContinuationSummary.prune`), which keeps the Misra–Gries
/// guarantees; merging runs later uses the same step.
///
/// Memory: `bytesPerToken(window:)` per token held (the tokens, a sort item, the sorted windows).
struct WindowCounter {
    /// One position to sort: its first two tokens packed for the radix passes, where it is in
    /// `tokens`, and how many tokens its window holds (fewer at a text's end).
    struct Item {
        var prefix: UInt64
        var position: UInt32
        var length: UInt32
    }

    /// Bytes held per token: 4 for the token, 16 for its item, and the larger of the radix sort's
    /// scratch (16) and the sorted copy of its window (4 per token of context and continuation,
    /// 32 with the default lengths), which follow each other: 52 bytes by default.
    static func bytesPerToken(window: Int) -> Int {
        4 + MemoryLayout<Item>.stride + max(MemoryLayout<Item>.stride, 4 * window)
    }
    /// Most windows in one run: their offsets in the sorted copy are 32-bit.
    static func maximumRunTokens(window: Int) -> Int { Int(UInt32.max) / window }
    /// Store bytes per corpus token of code with the default parameters (41 on the CPython
    /// standard library): sizes the new store's map, which grows when this falls short.
    static let estimatedRecordBytesPerToken = 48

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

    /// Windows below which a run is scanned on one thread: splitting costs two files per
    /// context length, worth it only for a run of some size.
    static let parallelScanItems = 1 << 16

    /// Sorts the windows and emits one record per context, in key order (by length, then ids).
    ///
    /// With `spillDirectory`, the scan runs on two threads: the windows are cut in two at a
    /// change of first token (no context spans the cut), this thread emits the first half of each
    /// length while another writes the second half to a file there, emitted after it in order.
    /// - Parameters:
    ///   - spillDirectory: where the second thread's records wait (`nil`: one thread).
    ///   - emit: receives each record's version-2 key and value bytes.
    func emitRecords(spillDirectory: String? = nil,
                     _ emit: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
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
        // After sorting, each window's tokens are copied out in sorted order, so the scans read
        // memory in sequence instead of at scattered positions (4 scans × a cache miss a window).
        var windows: [UInt32] = []
        tokens.withUnsafeBufferPointer { tokens in
            items.withUnsafeMutableBufferPointer { items in
                Self.sort(items, tokens: tokens)
                windows = [UInt32](repeating: 0, count: items.count * window)
                windows.withUnsafeMutableBufferPointer { windows in
                    for g in items.indices {
                        let from = Int(items[g].position), to = g * window
                        for t in 0..<Int(items[g].length) { windows[to + t] = tokens[from + t] }
                        items[g].position = UInt32(to)
                    }
                }
            }
        }
        try windows.withUnsafeBufferPointer { tokens in
            try items.withUnsafeMutableBufferPointer { items in
                var cut = items.count / 2
                while cut < items.count, cut > 0, items[cut].prefix >> 32 == items[cut - 1].prefix >> 32 { cut += 1 }
                guard let spillDirectory, items.count >= Self.parallelScanItems, cut < items.count else {
                    var scratch = Scratch()
                    for n in 1...parameters.contextLength {
                        try scan(items, tokens: tokens, contextLength: n, scratch: &scratch, emit)
                    }
                    return
                }
                try scanInTwo(UnsafeMutableBufferPointer(rebasing: items[..<cut]), UnsafeMutableBufferPointer(rebasing: items[cut...]),
                              tokens: tokens, spillDirectory: spillDirectory, emit)
            }
        }
    }

    /// The two-thread scan of `emitRecords`.
    private func scanInTwo(_ first: UnsafeMutableBufferPointer<Item>, _ second: UnsafeMutableBufferPointer<Item>,
                           tokens: UnsafeBufferPointer<UInt32>, spillDirectory: String,
                           _ emit: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) throws {
        let lengths = parameters.contextLength
        let paths = (1...lengths).map { (spillDirectory as NSString).appendingPathComponent("second-half-\($0)") }
        defer { for path in paths { unlink(path) } }
        let done = (1...lengths).map { _ in DispatchSemaphore(value: 0) }
        // Written by the second thread before it signals each length, read after the wait.
        nonisolated(unsafe) var failure: Error?
        nonisolated(unsafe) let (secondHalf, tokenBuffer) = (second, tokens)
        let counter = self
        DispatchQueue.global().async {
            var scratch = Scratch()
            for n in 1...lengths {
                if failure == nil {
                    do {
                        let writer = try RunFile.Writer(path: paths[n - 1])
                        try counter.scan(secondHalf, tokens: tokenBuffer, contextLength: n, scratch: &scratch) { key, value in
                            try writer.append(key: key, value: value)
                        }
                        try writer.flush()
                    } catch {
                        failure = error
                    }
                }
                done[n - 1].signal()
            }
        }
        var scratch = Scratch()
        var waited = 0
        // However this ends, wait for the other thread: it reads the windows this frame owns.
        defer { for n in waited..<lengths { done[n].wait() } }
        for n in 1...lengths {
            try scan(first, tokens: tokens, contextLength: n, scratch: &scratch, emit)
            done[n - 1].wait()
            waited = n
            if let failure { throw failure }
            let reader = try RunFile.Reader(path: paths[n - 1])
            while try reader.next() {
                try reader.key.withUnsafeBytes { k in try reader.value.withUnsafeBytes { v in try emit(k, v) } }
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
        // Ranges of equal first two tokens: order by the tokens after them, then by length. The
        // ranges are independent, so two threads sort the two halves (cut between ranges): this
        // pass was a ninth of a build's time on one thread.
        var cut = items.count / 2
        while cut < items.count, cut > 0, items[cut].prefix == items[cut - 1].prefix { cut += 1 }
        let halves = items.count >= parallelSortItems ? [0..<cut, cut..<items.count] : [0..<items.count]
        nonisolated(unsafe) let (shared, sharedTokens) = (items, tokens)
        DispatchQueue.concurrentPerform(iterations: halves.count) { h in
            sortRanges(UnsafeMutableBufferPointer(rebasing: shared[halves[h]]), tokens: sharedTokens)
        }
    }

    /// Items from which `sort` sorts its ranges on two threads.
    static let parallelSortItems = 1 << 16

    /// Sorts each range of equal first two tokens of radix-sorted `items` by the tokens after them,
    /// then by length (a shorter window before one it prefixes).
    private static func sortRanges(_ items: UnsafeMutableBufferPointer<Item>, tokens: UnsafeBufferPointer<UInt32>) {
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
        var keep: [Bool] = []
        var perDepth: [Int] = Array(repeating: 0, count: TokenRun.capacity)
    }

    /// Emits the records of contexts of length `n`: each group of windows that agree on their
    /// first `n` tokens and go on past them.
    func scan(_ items: UnsafeMutableBufferPointer<Item>, tokens: UnsafeBufferPointer<UInt32>,
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
            // The first two tokens are in the items: most group ends are found without reading
            // `tokens` at the (scattered) positions.
            let prefixMask: UInt64 = n == 1 ? 0xFFFF_FFFF_0000_0000 : .max
            let prefix = items[i].prefix & prefixMask
            while end < items.count, items[end].prefix & prefixMask == prefix, Int(items[end].length) > n,
                  n <= 2 || Self.equal(tokens, first + 2, Int(items[end].position) + 2, count: n - 2) { end += 1 }
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
        // Most groups are far below capacity: count without allocating, and stop there.
        var overfull = false
        scratch.perDepth.withUnsafeMutableBufferPointer { perDepth in
            for d in 0..<parameters.continuationLength { perDepth[d] = 0 }
            for node in scratch.nodes {
                perDepth[node.depth] += 1
                if perDepth[node.depth] > k { overfull = true }
            }
        }
        guard overfull else { return }
        // One pass keeps the k+1 largest counts of every depth (descending, in `depthCounts`,
        // k+1 slots a depth); the last of each is the depth's cut.
        let m = parameters.continuationLength, slots = k + 1
        scratch.depthCounts.removeAll(keepingCapacity: true)
        scratch.depthCounts.append(contentsOf: repeatElement(0, count: m * slots))
        scratch.depthCounts.withUnsafeMutableBufferPointer { top in
            scratch.nodes.withUnsafeMutableBufferPointer { nodes in
                for node in nodes {
                    let base = node.depth * slots
                    var j = base + slots - 1
                    guard node.count > top[j] else { continue }
                    while j > base, top[j - 1] < node.count {
                        top[j] = top[j - 1]
                        j -= 1
                    }
                    top[j] = node.count
                }
                for i in nodes.indices {
                    let d = nodes[i].depth
                    // A depth of at most k nodes has a cut of 0: its (k+1)-th slot was never filled.
                    let cut = scratch.perDepth[d] > k ? top[d * slots + k] : 0
                    nodes[i].count -= min(cut, nodes[i].count)
                }
            }
        }
        // Backwards through the pre-order: a node is kept when counted or when a child is kept.
        for d in scratch.kept.indices { scratch.kept[d] = false }
        scratch.keep.removeAll(keepingCapacity: true)
        scratch.keep.append(contentsOf: repeatElement(false, count: scratch.nodes.count))
        for i in scratch.nodes.indices.reversed() {
            let d = scratch.nodes[i].depth
            scratch.keep[i] = scratch.nodes[i].count > 0 || scratch.kept[d + 1]
            scratch.kept[d + 1] = false
            if scratch.keep[i] { scratch.kept[d] = true }
        }
        var w = 0
        for i in scratch.nodes.indices where scratch.keep[i] {
            scratch.nodes[w] = scratch.nodes[i]
            w += 1
        }
        scratch.nodes.removeLast(scratch.nodes.count - w)
    }
}
