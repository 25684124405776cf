/// The byte layouts of the store's records (documented in docs/ngram-store.md), by format version.
///
/// **Version 2** (written by this program):
/// - Key: one byte holding the context length, then each id in an order-preserving variable-length
///   code (`appendOrderedID`): 1 byte below 128, 2 below 16 384, 3 below 2^21, 4 below 2^28, else 5.
///   Codes of smaller ids sort first bytewise and no code is a prefix of another, so LMDB's
///   bytewise order stays "by length, then by the ids in numeric order".
/// - Value: LEB128 varints. `total << 1 | chain`. A *chain* record (every occurrence was followed
///   by the same tokens, as a context seen once always is) then holds just those tokens, each
///   counted `total` times. Otherwise: the number of depth-1 nodes, then the continuation trie in
///   pre-order, each node `token, count, children`. A count of 0 marks a node kept only as the
///   parent of counted ones (its own counter was dropped by the Misra–Gries summary).
///
/// **Version 1** (read, and written into version-1 stores so their owners can keep learning):
/// - Key: the length byte, then each id as a big-endian 32-bit integer.
/// - Value: varints `total, entryCount`, then per entry its length byte, count and tokens.
enum RecordCoding {
    /// Longest key of either version: the length byte and `TokenRun.capacity` ids of 5 bytes.
    static let maxKeySize = 1 + 5 * TokenRun.capacity

    /// Writes the key of `context` into `buffer` (at least `maxKeySize` bytes).
    /// - Returns: the number of bytes written.
    static func encodeKey(_ context: TokenRun, into buffer: UnsafeMutableRawBufferPointer, version: Int) -> Int {
        buffer[0] = UInt8(context.count)
        var offset = 1
        for i in 0..<context.count {
            let id = context.lanes[i]
            if version == 1 {
                buffer[offset] = UInt8(truncatingIfNeeded: id >> 24)
                buffer[offset + 1] = UInt8(truncatingIfNeeded: id >> 16)
                buffer[offset + 2] = UInt8(truncatingIfNeeded: id >> 8)
                buffer[offset + 3] = UInt8(truncatingIfNeeded: id)
                offset += 4
            } else {
                offset += writeOrderedID(id, into: buffer, at: offset)
            }
        }
        return offset
    }

    /// The key of `context` as bytes.
    static func key(_ context: TokenRun, version: Int) -> [UInt8] {
        withUnsafeTemporaryAllocation(byteCount: maxKeySize, alignment: 1) { buffer in
            Array(buffer[..<encodeKey(context, into: buffer, version: version)])
        }
    }

    /// Writes one id in the order-preserving code of version-2 keys; returns its length.
    @inline(__always)
    static func writeOrderedID(_ id: UInt32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        switch id {
        case ..<0x80:
            buffer[offset] = UInt8(id)
            return 1
        case ..<0x4000:
            buffer[offset] = 0x80 | UInt8(id >> 8)
            buffer[offset + 1] = UInt8(truncatingIfNeeded: id)
            return 2
        case ..<0x20_0000:
            buffer[offset] = 0xC0 | UInt8(id >> 16)
            buffer[offset + 1] = UInt8(truncatingIfNeeded: id >> 8)
            buffer[offset + 2] = UInt8(truncatingIfNeeded: id)
            return 3
        case ..<0x1000_0000:
            buffer[offset] = 0xE0 | UInt8(id >> 24)
            buffer[offset + 1] = UInt8(truncatingIfNeeded: id >> 16)
            buffer[offset + 2] = UInt8(truncatingIfNeeded: id >> 8)
            buffer[offset + 3] = UInt8(truncatingIfNeeded: id)
            return 4
        default:
            buffer[offset] = 0xF0
            buffer[offset + 1] = UInt8(truncatingIfNeeded: id >> 24)
            buffer[offset + 2] = UInt8(truncatingIfNeeded: id >> 16)
            buffer[offset + 3] = UInt8(truncatingIfNeeded: id >> 8)
            buffer[offset + 4] = UInt8(truncatingIfNeeded: id)
            return 5
        }
    }

    /// Reads a key.
    /// - Returns: the context, or `nil` when the bytes are not a well-formed key.
    static func decodeKey(_ bytes: UnsafeRawBufferPointer, version: Int) -> TokenRun? {
        guard let length = bytes.first, length >= 1, Int(length) <= TokenRun.capacity else { return nil }
        var run = TokenRun()
        if version == 1 {
            guard bytes.count == 1 + 4 * Int(length) else { return nil }
            for i in 0..<Int(length) {
                let o = 1 + 4 * i
                let id = UInt32(bytes[o]) << 24 | UInt32(bytes[o + 1]) << 16 | UInt32(bytes[o + 2]) << 8 | UInt32(bytes[o + 3])
                run.append(Int32(bitPattern: id))
            }
            return run
        }
        var offset = 1
        for _ in 0..<Int(length) {
            guard offset < bytes.count else { return nil }
            let lead = bytes[offset]
            let size = lead < 0x80 ? 1 : lead < 0xC0 ? 2 : lead < 0xE0 ? 3 : lead < 0xF0 ? 4 : 5
            guard offset + size <= bytes.count, size < 5 || lead == 0xF0 else { return nil }
            var id = UInt32(size == 5 ? 0 : lead & (0xFF >> size))
            for j in 1..<size { id = id << 8 | UInt32(bytes[offset + j]) }
            // One code per id: a longer code than needed would break the bytewise order.
            let minimum: UInt32 = [0, 0, 0x80, 0x4000, 0x20_0000, 0x1000_0000][size]
            guard id >= minimum else { return nil }
            run.append(Int32(bitPattern: id))
            offset += size
        }
        return offset == bytes.count ? run : nil
    }

    // MARK: Values

    /// One node of a continuation trie in pre-order: its depth (0 for the next token), token and
    /// count (0 when only its descendants are counted).
    struct TrieNode: Equatable {
        var depth: Int
        var token: UInt32
        var count: UInt32
    }

    /// Encodes a summary (entries should be normalized so equal summaries give equal bytes).
    static func encodeValue(_ summary: ContinuationSummary, version: Int) -> [UInt8] {
        var out: [UInt8] = []
        if version == 1 {
            out.reserveCapacity(8 + summary.entries.count * 12)
            appendVarint(UInt64(summary.total), to: &out)
            appendVarint(UInt64(summary.entries.count), to: &out)
            for e in summary.entries {
                out.append(UInt8(e.tokens.count))
                appendVarint(UInt64(e.count), to: &out)
                for i in 0..<e.tokens.count { appendVarint(UInt64(e.tokens.lanes[i]), to: &out) }
            }
            return out
        }
        var nodes: [TrieNode] = []
        trieNodes(of: summary, into: &nodes)
        encodeTrie(total: summary.total, nodes: nodes[...], into: &out)
        return out
    }

    /// The trie of a summary's entries in pre-order, with count-0 nodes for uncounted parents.
    static func trieNodes(of summary: ContinuationSummary, into nodes: inout [TrieNode]) {
        let paths = summary.entries.sorted { a, b in
            for i in 0..<min(a.tokens.count, b.tokens.count) where a.tokens.lanes[i] != b.tokens.lanes[i] {
                return a.tokens.lanes[i] < b.tokens.lanes[i]
            }
            return a.tokens.count < b.tokens.count
        }
        var previous = TokenRun()
        for entry in paths {
            var shared = 0
            while shared < min(previous.count, entry.tokens.count), previous.lanes[shared] == entry.tokens.lanes[shared] { shared += 1 }
            for d in shared..<entry.tokens.count {
                nodes.append(TrieNode(depth: d, token: entry.tokens.lanes[d], count: d == entry.tokens.count - 1 ? entry.count : 0))
            }
            previous = entry.tokens
        }
    }

    /// Writes a version-2 value from a pre-order trie (counts 0 only on nodes with descendants).
    static func encodeTrie(total: UInt32, nodes: ArraySlice<TrieNode>, into out: inout [UInt8]) {
        // A chain: one node per depth, each counted `total` times.
        var chain = !nodes.isEmpty && total > 0
        for (i, node) in zip(0..., nodes) where node.depth != i || node.count != total {
            chain = false
            break
        }
        appendVarint(UInt64(total) << 1 | (chain ? 1 : 0), to: &out)
        if chain {
            for node in nodes { appendVarint(UInt64(node.token), to: &out) }
            return
        }
        appendVarint(UInt64(nodes.lazy.filter { $0.depth == 0 }.count), to: &out)
        var i = nodes.startIndex
        while i < nodes.endIndex {
            let node = nodes[i]
            var children = 0
            var j = i + 1
            while j < nodes.endIndex, nodes[j].depth > node.depth {
                if nodes[j].depth == node.depth + 1 { children += 1 }
                j += 1
            }
            appendVarint(UInt64(node.token), to: &out)
            appendVarint(UInt64(node.count), to: &out)
            appendVarint(UInt64(children), to: &out)
            i += 1
        }
    }

    /// Decodes a value, checking every length against the bytes present.
    /// - Returns: the summary (entries normalized), or `nil` when the bytes are malformed.
    static func decodeValue(_ bytes: UnsafeRawBufferPointer, version: Int) -> ContinuationSummary? {
        var reader = Reader(bytes: bytes)
        var summary = ContinuationSummary()
        if version == 1 {
            guard let total = reader.varint(), total <= UInt32.max,
                  let count = reader.varint(), count <= UInt64(bytes.count) else { return nil }
            summary.total = UInt32(total)
            summary.entries.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let length = reader.byte(), length >= 1, Int(length) <= TokenRun.capacity,
                      let c = reader.varint(), c <= UInt32.max else { return nil }
                var run = TokenRun()
                for _ in 0..<length {
                    guard let id = reader.varint(), id <= UInt32.max else { return nil }
                    run.append(Int32(bitPattern: UInt32(id)))
                }
                summary.entries.append(.init(tokens: run, count: UInt32(c)))
            }
            return reader.offset == bytes.count ? summary : nil
        }
        guard let header = reader.varint(), header >> 1 <= UInt32.max else { return nil }
        summary.total = UInt32(header >> 1)
        var path = TokenRun()
        if header & 1 == 1 {
            while reader.offset < bytes.count {
                guard path.count < TokenRun.capacity, let id = reader.varint(), id <= UInt32.max else { return nil }
                path.append(Int32(bitPattern: UInt32(id)))
                summary.entries.append(.init(tokens: path, count: summary.total))
            }
            return summary.entries.isEmpty ? nil : summary
        }
        guard let roots = reader.varint(), roots <= UInt64(bytes.count) else { return nil }
        // Children still to read at each open depth; a node's children follow it.
        var pending: [UInt64] = [roots]
        while let last = pending.last {
            if last == 0 {
                pending.removeLast()
                if !pending.isEmpty { path = path.droppingLast }
                continue
            }
            pending[pending.count - 1] -= 1
            guard path.count < TokenRun.capacity, let id = reader.varint(), id <= UInt32.max,
                  let count = reader.varint(), count <= UInt32.max,
                  let children = reader.varint(), children <= UInt64(bytes.count) else { return nil }
            path.append(Int32(bitPattern: UInt32(id)))
            if count > 0 { summary.entries.append(.init(tokens: path, count: UInt32(count))) }
            pending.append(children)
        }
        guard reader.offset == bytes.count else { return nil }
        summary.normalize()
        return summary
    }

    /// The context's total, read without decoding the rest of the value.
    static func total(ofValue bytes: UnsafeRawBufferPointer, version: Int) -> UInt64? {
        var reader = Reader(bytes: bytes)
        guard let first = reader.varint() else { return nil }
        return version == 1 ? first : first >> 1
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// A bounds-checked cursor over a value's bytes.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        /// A LEB128 varint of at most 10 bytes (64 bits).
        mutating func varint() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while shift < 64 {
                guard let b = byte() else { return nil }
                result |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
            }
            return nil
        }
    }
}
