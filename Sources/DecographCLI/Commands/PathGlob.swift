#if canImport(Glibc)
import Glibc
#endif

/// A gitignore-style glob (`--include` / `--exclude` of the store commands), matched against a
/// path relative to the directory being walked, as ripgrep's `--glob` does:
///
/// - `*` any run of characters within one path component, `?` one character, `[...]` a class
///   (`[!...]` or `[^...]` negated, ranges `a-z`), `\` escapes: fnmatch(3) on each component;
/// - `**` as a whole component: any number of components (`**/test`, `docs/**`, `a/**/b`);
/// - a glob without a `/` (other than a trailing one) matches at any depth (`*.py`,
///   `__pycache__`); with one it is anchored at the directory (`src/*.py`; a leading `/` anchors
///   a single component: `/build`);
/// - a trailing `/` matches directories only (`build/`).
///
/// A glob that matches a directory matches everything under it.
struct PathGlob: Equatable {
    /// The glob as written.
    let pattern: String
    /// Its components, `**` standing for any number of path components.
    let segments: [String]
    /// Written with a trailing `/`.
    let directoriesOnly: Bool

    /// Parses a glob.
    /// - Throws: `UsageError` for an empty glob, or a `[` without its `]`.
    init(_ pattern: String, option: String) throws {
        self.pattern = pattern
        var body = Substring(pattern)
        directoriesOnly = body.hasSuffix("/")
        while body.hasSuffix("/") { body = body.dropLast() }
        let anchored = body.hasPrefix("/") || body.contains("/")
        while body.hasPrefix("/") { body = body.dropFirst() }
        guard !body.isEmpty else { throw UsageError("The glob '\(pattern)' in '--\(option)' matches no path.") }
        var segments = body.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if !anchored { segments.insert("**", at: 0) }
        for segment in segments where Self.hasUnclosedClass(segment) {
            throw UsageError("The glob '\(pattern)' in '--\(option)' has a '[' without its ']'.")
        }
        self.segments = segments
    }

    /// Whether the glob matches a path.
    /// - Parameters:
    ///   - components: the path's components, relative to the walked directory.
    ///   - isDirectory: whether the path is a directory.
    func matches(_ components: ArraySlice<Substring>, isDirectory: Bool) -> Bool {
        guard isDirectory || !directoriesOnly else { return false }
        return Self.match(segments[...], components)
    }

    private static func match(_ segments: ArraySlice<String>, _ components: ArraySlice<Substring>) -> Bool {
        guard let segment = segments.first else { return components.isEmpty }
        if segment == "**" {
            // Zero or more components, the shortest first.
            return (components.startIndex...components.endIndex).contains { match(segments.dropFirst(), components[$0...]) }
        }
        guard let component = components.first, fnmatch(segment, String(component), 0) == 0 else { return false }
        return match(segments.dropFirst(), components.dropFirst())
    }

    private static func hasUnclosedClass(_ segment: String) -> Bool {
        var open = false, escaped = false
        for c in segment {
            if escaped { escaped = false; continue }
            switch c {
            case "\\": escaped = true
            case "[": open = true
            case "]": open = false
            default: break
            }
        }
        return open
    }
}

/// Which files found under a directory argument are inputs: those matching an `--include` glob
/// (all when none is given) and no `--exclude` glob. A glob matching a directory takes in (or
/// leaves out) everything under it; excluded directories are not walked.
struct PathFilter {
    var includes: [PathGlob] = []
    var excludes: [PathGlob] = []

    /// Reads `--include` and `--exclude` (each repeatable).
    /// - Throws: `UsageError` for a malformed glob.
    static func from(_ args: ParsedArguments) throws -> PathFilter {
        PathFilter(includes: try args.values("include").map { try PathGlob($0, option: "include") },
                   excludes: try args.values("exclude").map { try PathGlob($0, option: "exclude") })
    }

    /// Whether a directory (relative path) is left out, with everything under it.
    func excludesDirectory(_ relative: String) -> Bool {
        let components = relative.split(separator: "/")[...]
        return excludes.contains { $0.matches(components, isDirectory: true) }
    }

    /// Whether a file (relative path) is an input; its directories were not excluded.
    func admitsFile(_ relative: String) -> Bool {
        let components = relative.split(separator: "/")[...]
        if excludes.contains(where: { $0.matches(components, isDirectory: false) }) { return false }
        guard !includes.isEmpty else { return true }
        // The file itself, or one of the directories it is in.
        return (1...components.count).contains { n in
            includes.contains { $0.matches(components.prefix(n), isDirectory: n < components.count) }
        }
    }
}
