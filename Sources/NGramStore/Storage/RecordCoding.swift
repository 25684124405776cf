/// The byte layout of the store's records (documented in docs/ngram-store.md).
///
/// Key: one byte holding the context length, then each token id as a big-endian 32-bit integer.
/// Length first makes LMDB's bytewise order group contexts by length; big-endian ids make the
/// order within a length the numeric order of the ids, so a context and its neighbours sort together.
///
/// Value: LEB128 varints (ids below 16 384 take two bytes instead of four): the context's total,
/// the number of entries, then per entry its length byte, its count, and its tokens.
enum RecordCoding {
    /// Longest key: the length byte and `TokenRun.capacity` ids.
    static let maxKeySize = 1 + 4 * TokenRun.capacity

    /// Writes the key of `context` into `buffer` (at least `maxKeySize` bytes).
    /// - Returns: the number of bytes written.
    static func encodeKey(_ context: TokenRun, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        buffer[0] = UInt8(context.count)
        var offset = 1
        for i in 0..<context.count {
            let id = context.lanes[i]
            buffer[offset] = UInt8(truncatingIfNeeded: id >> 24)
            buffer[offset + 1] = UInt8(truncatingIfNeeded: id >> 16)
            buffer[offset + 2] = UInt8(truncatingIfNeeded: id >> 8)
            buffer[offset + 3] = UInt8(truncatingIfNeeded: id)
            offset += 4
        }
        return offset
    }

    /// Reads a key.
    /// - Returns: the context, or `nil` when the bytes are not a well-formed key.
    static func decodeKey(_ bytes: UnsafeRawBufferPointer) -> TokenRun? {
        guard let length = bytes.first, length >= 1, Int(length) <= TokenRun.capacity,
              bytes.count == 1 + 4 * Int(length) else { return nil }
        var run = TokenRun()
        for i in 0..<Int(length) {
            let o = 1 + 4 * i
            let id = UInt32(bytes[o]) << 24 | UInt32(bytes[o + 1]) << 16 | UInt32(bytes[o + 2]) << 8 | UInt32(bytes[o + 3])
            run.append(Int32(bitPattern: id))
        }
        return run
    }

    /// Encodes a summary (entries should be normalized so equal summaries give equal bytes).
    static func encodeValue(_ summary: ContinuationSummary) -> [UInt8] {
        var out: [UInt8] = []
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

    /// Decodes a value, checking every length against the bytes present.
    /// - Returns: the summary, or `nil` when the bytes are malformed.
    static func decodeValue(_ bytes: UnsafeRawBufferPointer) -> ContinuationSummary? {
        var reader = Reader(bytes: bytes)
        guard let total = reader.varint(), total <= UInt32.max,
              let count = reader.varint(), count <= UInt64(bytes.count) else { return nil }
        var summary = ContinuationSummary()
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
        guard reader.offset == bytes.count else { return nil }
        return summary
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
