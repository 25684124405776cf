#if canImport(Glibc)
import Glibc
#endif

/// A sorted run spilled to disk by `StoreBuilder`: records in key order, each `varint keyLength,
/// key, varint valueLength, value` (version-2 bytes), read back through a fixed buffer so that
/// merging many runs holds `bufferBytes` per run.
enum RunFile {
    /// Read and write buffer per run file: large enough that a merge of a few dozen runs reads in
    /// long sequential stretches, small enough that each costs little of the memory budget.
    static let bufferBytes = 1 << 20

    /// Appends records to a new file.
    final class Writer {
        let path: String
        private let fd: Int32
        private var buffer: [UInt8] = []
        private(set) var bytesWritten = 0
        private(set) var records = 0

        init(path: String) throws {
            self.path = path
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw NGramStoreError.system(errno, path: path, doing: "creating a sorted run") }
            buffer.reserveCapacity(RunFile.bufferBytes)
        }

        deinit { close(fd) }

        func append(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws {
            RecordCoding.appendVarint(UInt64(key.count), to: &buffer)
            buffer.append(contentsOf: key)
            RecordCoding.appendVarint(UInt64(value.count), to: &buffer)
            buffer.append(contentsOf: value)
            records += 1
            if buffer.count >= RunFile.bufferBytes { try flush() }
        }

        func flush() throws {
            try buffer.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if n < 0, errno == EINTR { continue }
                    guard n > 0 else { throw NGramStoreError.system(errno, path: path, doing: "writing a sorted run") }
                    offset += n
                }
            }
            bytesWritten += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Reads the records of a run file in order, through a buffer of `bufferBytes` (grown only
    /// for a record longer than that).
    final class Reader: RecordSource {
        let path: String
        private let fd: Int32
        private var buffer: UnsafeMutableRawBufferPointer
        /// Unread bytes are `buffer[offset..<filled]`.
        private var offset = 0, filled = 0
        private var atEnd = false
        private(set) var key: [UInt8] = []
        private(set) var value: [UInt8] = []

        init(path: String) throws {
            self.path = path
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw NGramStoreError.system(errno, path: path, doing: "opening a sorted run") }
            buffer = .allocate(byteCount: RunFile.bufferBytes, alignment: 1)
        }

        deinit {
            close(fd)
            buffer.deallocate()
        }

        /// Makes at least `count` unread bytes available unless the file ends first.
        private func fill(_ count: Int) throws -> Bool {
            if filled - offset >= count { return true }
            let unread = filled - offset
            if count > buffer.count {
                let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
                larger.baseAddress!.copyMemory(from: buffer.baseAddress! + offset, byteCount: unread)
                buffer.deallocate()
                buffer = larger
            } else if unread > 0 {
                memmove(buffer.baseAddress!, buffer.baseAddress! + offset, unread)
            }
            offset = 0
            filled = unread
            while filled < count, !atEnd {
                let n = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
                if n < 0, errno == EINTR { continue }
                guard n >= 0 else { throw NGramStoreError.system(errno, path: path, doing: "reading a sorted run") }
                if n == 0 { atEnd = true }
                filled += n
            }
            return filled - offset >= count
        }

        private func varint() throws -> Int? {
            // A length varint is at most 10 bytes; fewer may remain at the end of the file.
            _ = try fill(10)
            var reader = RecordCoding.Reader(bytes: UnsafeRawBufferPointer(rebasing: buffer[offset..<filled]))
            guard let value = reader.varint(), value <= UInt64(Int32.max) else { return nil }
            offset += reader.offset
            return Int(value)
        }

        func next() throws -> Bool {
            guard try fill(1) else { return false }
            guard let keyLength = try varint(), try fill(keyLength) else { throw damaged() }
            key = Array(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + keyLength)]))
            offset += keyLength
            guard let valueLength = try varint(), try fill(valueLength) else { throw damaged() }
            value = Array(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + valueLength)]))
            offset += valueLength
            return true
        }

        private func damaged() -> NGramStoreError {
            NGramStoreError(.corrupt, path: path, "a sorted run of this build ends in the middle of a record (was the temporary directory changed meanwhile?); run the build again")
        }
    }
}

/// Records in key order, one at a time (a run file, or the store a build adds to).
protocol RecordSource: AnyObject {
    /// The current record's version-2 key; valid after `next()` returned true.
    var key: [UInt8] { get }
    /// The current record's version-2 value.
    var value: [UInt8] { get }
    /// Moves to the next record; false at the end.
    func next() throws -> Bool
}
