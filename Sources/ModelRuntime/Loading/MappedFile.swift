#if canImport(Glibc)
import Glibc
#endif
import Support

/// A read-only memory map of a whole file, unmapped on deinit. Weights are used in place from the
/// map, so loading a model costs page-table set-up, not a copy.
final class MappedFile: @unchecked Sendable {
    /// Path as given.
    let path: String
    /// First byte of the file (nil for an empty file).
    let base: UnsafeRawPointer?
    /// File size in bytes.
    let size: Int

    /// Maps `path`.
    /// - Parameter path: the file.
    /// - Throws: `RuntimeError.io` when it cannot be opened, sized or mapped.
    init(path: String) throws {
        self.path = path
        try Self.requireRegularFile(path)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RuntimeError(.io, "\(path): cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw RuntimeError(.io, "\(path): cannot stat (\(String(cString: strerror(errno))))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw RuntimeError(.io, "\(path): not a regular file") }
        size = Int(st.st_size)
        if size == 0 {
            base = nil
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw RuntimeError(.io, "\(path): cannot map \(size) bytes (\(String(cString: strerror(errno))))")
        }
        base = UnsafeRawPointer(p)
    }

    /// Drops the pages of `bytes` bytes at `start` (inside the map) from this process's resident
    /// set: for a range whose contents now live in a copy (a tiled quantized tensor). They stay
    /// in the page cache, and a later read faults them back in from the file, so nothing changes
    /// but the peak memory of a load (the mapping plus the copies otherwise).
    func releasePages(_ start: UnsafeRawPointer, bytes: Int) {
        guard let base, start >= base, start + bytes <= base + size else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page, end = (Int(bitPattern: start) + bytes) / page * page
        if end > first { madvise(UnsafeMutableRawPointer(bitPattern: first), end - first, MADV_DONTNEED) }
    }

    /// Refuses a path that is not a regular file before anything opens it (see `RegularFile`).
    /// - Parameter path: the file about to be read.
    /// - Throws: `RuntimeError.io` naming the path and what it is instead.
    static func requireRegularFile(_ path: String) throws {
        if let kind = RegularFile.otherKind(at: path) {
            throw RuntimeError(.io, "\(path): is \(kind); model files must be regular files")
        }
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }
}
