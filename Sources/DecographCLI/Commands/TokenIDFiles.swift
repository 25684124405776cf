import Foundation

/// Streams token-id texts from files: one text per line, ids as decimal integers separated by
/// spaces or tabs. Reads fixed-size chunks, so memory stays bounded by the chunk and the longest
/// text (a text longer than `maxTextTokens` is passed on in pieces).
///
/// This is the input of the `store` commands until a tokenizer is wired in: any tokenizer's
/// output can be written in this form.
struct TokenIDFiles {
    /// Bytes read at a time.
    static let chunkSize = 1 << 20
    /// Longest text handed over at once: a pathological one-line corpus is cut into pieces of
    /// this many tokens (contexts across a cut are not counted) instead of growing without bound.
    static let maxTextTokens = 1 << 20

    /// An input file, and whether it was found by walking a directory (such a file may be
    /// skipped as binary; a file named on the command line never is).
    struct Input: Equatable {
        var path: String
        var foundInDirectory: Bool
    }

    /// The regular files under `paths`: a file stands for itself; a directory is walked
    /// recursively, leaving out hidden entries (`.git`), symbolic links to directories (no
    /// cycles) and what `filter` leaves out, in order of relative path.
    /// - Throws: `CommandFailure` for a path that does not exist or a directory that cannot be read.
    static func expand(_ paths: [String], filter: PathFilter = PathFilter()) throws -> [Input] {
        var files: [Input] = []
        let fm = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CommandFailure("\(path): error: no such file or directory")
            }
            guard isDirectory.boolValue else {
                files.append(Input(path: path, foundInDirectory: false))
                continue
            }
            var found: [String] = []
            func walk(_ relative: String) throws {
                let dir = relative.isEmpty ? path : (path as NSString).appendingPathComponent(relative)
                let names: [String]
                do { names = try fm.contentsOfDirectory(atPath: dir) } catch {
                    throw CommandFailure("\(dir): error: cannot read the directory")
                }
                for name in names where !name.hasPrefix(".") {
                    let child = relative.isEmpty ? name : relative + "/" + name
                    let full = (path as NSString).appendingPathComponent(child)
                    var childIsDirectory: ObjCBool = false
                    guard fm.fileExists(atPath: full, isDirectory: &childIsDirectory) else { continue }  // a dangling link
                    if childIsDirectory.boolValue {
                        let isLink = (try? fm.destinationOfSymbolicLink(atPath: full)) != nil
                        if !isLink, !filter.excludesDirectory(child) { try walk(child) }
                    } else if filter.admitsFile(child) {
                        found.append(child)
                    }
                }
            }
            try walk("")
            files += found.sorted().map { Input(path: (path as NSString).appendingPathComponent($0), foundInDirectory: true) }
        }
        return files
    }

    /// Calls `body` with each text of `path`, in order.
    /// - Parameters:
    ///   - path: a token-id file.
    ///   - body: receives each non-empty text.
    /// - Throws: `CommandFailure` located at `path:line:column` for a malformed id, or what `body` throws.
    static func forEachText(in path: String, _ body: ([Int32]) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CommandFailure("\(path): error: cannot open the file for reading")
        }
        defer { try? handle.close() }
        var text: [Int32] = []
        var value: Int64 = 0
        var inNumber = false
        var line = 1, column = 0, numberColumn = 0
        func endNumber() throws {
            if inNumber {
                text.append(Int32(value))
                inNumber = false
                if text.count >= maxTextTokens {
                    try body(text)
                    text.removeAll(keepingCapacity: true)
                }
            }
        }
        while true {
            let chunk = handle.readData(ofLength: chunkSize)
            if chunk.isEmpty { break }
            for byte in chunk {
                column += 1
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if !inNumber {
                        inNumber = true
                        numberColumn = column
                        value = 0
                    }
                    value = value * 10 + Int64(byte - UInt8(ascii: "0"))
                    if value > Int64(Int32.max) {
                        throw CommandFailure("\(path):\(line):\(numberColumn): error: token id is larger than \(Int32.max)")
                    }
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                    try endNumber()
                case UInt8(ascii: "\n"):
                    try endNumber()
                    if !text.isEmpty { try body(text) }
                    text.removeAll(keepingCapacity: true)
                    line += 1
                    column = 0
                default:
                    let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(UnicodeScalar(byte)))'" : String(format: "byte 0x%02X", byte)
                    throw CommandFailure("\(path):\(line):\(column): error: \(shown) in a token-id file: expected decimal ids separated by spaces, one text per line")
                }
            }
        }
        try endNumber()
        if !text.isEmpty { try body(text) }
    }

    /// Parses ids given on the command line (`--ids "1 2 3"`).
    /// - Throws: `UsageError` when a word is not an id.
    static func parseIDs(_ text: String, option: String) throws -> [Int32] {
        try text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map { word in
            guard let id = Int32(word), id >= 0 else {
                throw UsageError("The value '\(word)' in '--\(option)' is not a token id (an integer 0…\(Int32.max)).")
            }
            return id
        }
    }
}
