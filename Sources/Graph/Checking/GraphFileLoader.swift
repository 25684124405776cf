import Foundation
import Support

/// Reads graph files (the root and the files its `use:` nodes name), resolving relative paths
/// and keeping each parsed file once per compile.
struct GraphFileLoader {
    /// The largest graph file read: graphs with inline schemas measure kilobytes, so a larger
    /// file is a wrong path (a model's weights), not a graph, and is refused before it is read.
    static let maximumFileSize = 4 << 20

    /// A directory that relative paths are read from (printed paths stay as written).
    let baseDirectory: String?
    private var cache: [String: (GraphDocument?, [Diagnostic])] = [:]

    /// Creates a loader.
    /// - Parameter baseDirectory: the directory relative paths are read from; `nil` for the
    ///   process's current directory.
    init(baseDirectory: String?) { self.baseDirectory = baseDirectory }

    /// Reads and parses a file, once.
    /// - Parameter path: the file's path as printed.
    /// - Returns: the document (if the file could be read and shaped) and its diagnostics, or
    ///   `nil` with a reason when it cannot be read.
    mutating func load(_ path: String) -> Result<(GraphDocument?, [Diagnostic]), LoadFailure> {
        if let hit = cache[path] { return .success(hit) }
        let real = path.hasPrefix("/") || baseDirectory == nil ? path : Self.join(baseDirectory!, path)
        guard FileManager.default.fileExists(atPath: real) else {
            return .failure(LoadFailure(reason: "no such file"))
        }
        if let kind = RegularFile.otherKind(at: real) { return .failure(LoadFailure(reason: "it is \(kind), not a regular file")) }
        if let size = (try? FileManager.default.attributesOfItem(atPath: real))?[.size] as? Int, size > Self.maximumFileSize {
            return .failure(LoadFailure(reason: "it is \(size) bytes, more than the \(Self.maximumFileSize) a graph file may have"))
        }
        guard let data = FileManager.default.contents(atPath: real) else {
            return .failure(LoadFailure(reason: "it cannot be read"))
        }
        let parsed = GraphDocument.parse([UInt8](data), file: path)
        cache[path] = parsed
        return .success(parsed)
    }

    /// The file's real path (symbolic links and `..` resolved), to know a file however it is
    /// spelled; the path itself when it does not exist.
    /// - Parameter path: the path as shown.
    /// - Returns: the canonical path.
    func canonicalPath(_ path: String) -> String {
        let real = path.hasPrefix("/") || baseDirectory == nil ? path : Self.join(baseDirectory!, path)
        guard let resolved = realpath(real, nil) else { return real }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Why a file could not be read.
    struct LoadFailure: Error { var reason: String }

    /// The directory part of a path (`graphs` for `graphs/x.yaml`, empty for `x.yaml`).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `relative` resolved against `directory`, with `.` and `..` folded lexically.
    static func join(_ directory: String, _ relative: String) -> String {
        let raw = relative.hasPrefix("/") || directory.isEmpty ? relative : directory + "/" + relative
        let absolute = raw.hasPrefix("/")
        var parts: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
            } else if part == "..", absolute {
                continue
            } else {
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}
