#if canImport(Glibc)
import Glibc
#endif

/// Checks that a path names a regular file before anything opens it. Opening a named pipe for
/// reading blocks until a writer appears — a load or a `check` that never returns — and a device
/// or socket is never a graph, prompt or model file, so every reader of user-named files asks
/// first and refuses the path by name.
public enum RegularFile {
    /// What the path is, when it exists and is not a regular file.
    /// - Parameter path: the path about to be read (symbolic links are followed, as opening would).
    /// - Returns: `a named pipe (FIFO)`, `a directory`, `a device`, `a socket`; `nil` for a regular
    ///   file or a path that cannot be examined (opening it then says why).
    public static func otherKind(at path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFIFO: return "a named pipe (FIFO)"
        case S_IFDIR: return "a directory"
        case S_IFCHR, S_IFBLK: return "a device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }
}
