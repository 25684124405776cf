import Foundation

/// A JSON object with its members in document order and every key kept exactly as written,
/// scalar for scalar.
///
/// Vocabulary files need this: `JSONSerialization` (like any `[String: Any]`) merges keys that
/// Swift's `String ==` calls equal, and that is canonical equivalence — `"é"` (U+00E9) and
/// `"e\u{301}"`, or `"Å"` (U+00C5) and `"Å"` (U+212B ANGSTROM SIGN), would collapse into one entry,
/// silently losing a token, whereas `tokenizers` treats them as the distinct byte strings they are.
public struct JSONObject {
    public let keys: [String]
    public let values: [Any]

    /// The value of the last member whose key has exactly the UTF-8 bytes of `key`.
    /// Linear: component objects have a handful of members; the large vocabulary object is only
    /// ever iterated.
    public func value(_ key: String) -> Any? {
        var k = keys.count - 1
        while k >= 0 {
            if keys[k].utf8.elementsEqual(key.utf8) { return values[k] }
            k -= 1
        }
        return nil
    }
}

/// Where a JSON text stops being valid, in bytes from its start.
struct JSONSyntaxError: Error {
    var offset: Int
    var message: String

    /// `line L, column C` of the offset (both from 1, the column counted in bytes).
    func location(in bytes: UnsafeBufferPointer<UInt8>) -> String {
        var line = 1, lineStart = 0
        for k in 0..<min(offset, bytes.count) where bytes[k] == 0x0A {
            line += 1
            lineStart = k + 1
        }
        return "line \(line), column \(offset - lineStart + 1)"
    }
}

/// A JSON reader over UTF-8 bytes (RFC 8259) producing `JSONObject`, `[Any]`, `String`,
/// `NSNumber` (booleans as `NSNumber(value: Bool)`, which `JSONValue` tells apart) and `NSNull`.
/// Strings keep every scalar, U+FEFF included; invalid UTF-8 and lone surrogate escapes are
/// errors, as in `serde_json`, which `tokenizers` uses.
struct JSONParser {
    /// Nesting deeper than this is refused: tokenizer files nest fewer than ten levels, and the
    /// bound keeps a hostile file from exhausting the stack through recursion.
    static let maximumDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Parses a whole document (a leading UTF-8 byte order mark is skipped).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> Any {
        var p = JSONParser(bytes)
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { p.i = 3 }
        let value = try p.value()
        p.skipWhitespace()
        if p.i != bytes.count { throw p.fail("unexpected text after the JSON value") }
        return value
    }

    private func fail(_ message: String) -> JSONSyntaxError { JSONSyntaxError(offset: i, message: message) }

    private mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private mutating func expect(_ literal: StaticString, _ value: Any) throws(JSONSyntaxError) -> Any {
        let n = literal.utf8CodeUnitCount
        guard bytes.count - i >= n, memcmp(bytes.baseAddress! + i, literal.utf8Start, n) == 0 else {
            throw fail("invalid literal (expected \(literal))")
        }
        i += n
        return value
    }

    private mutating func value() throws(JSONSyntaxError) -> Any {
        skipWhitespace()
        guard i < bytes.count else { throw fail("unexpected end of the text") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return try string()
        case UInt8(ascii: "t"): return try expect("true", NSNumber(value: true))
        case UInt8(ascii: "f"): return try expect("false", NSNumber(value: false))
        case UInt8(ascii: "n"): return try expect("null", NSNull())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character")
        }
    }

    private mutating func object() throws(JSONSyntaxError) -> JSONObject {
        var keys: [String] = [], values: [Any] = []
        try elements(close: UInt8(ascii: "}"), in: "an object") { p throws(JSONSyntaxError) in
            p.skipWhitespace()
            guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: "\"") else { throw p.fail("expected a string as object key") }
            keys.append(try p.string())
            p.skipWhitespace()
            guard p.i < p.bytes.count, p.bytes[p.i] == UInt8(ascii: ":") else { throw p.fail("expected ':' after an object key") }
            p.i += 1
            values.append(try p.value())
        }
        return JSONObject(keys: keys, values: values)
    }

    private mutating func array() throws(JSONSyntaxError) -> [Any] {
        var out: [Any] = []
        try elements(close: UInt8(ascii: "]"), in: "an array") { p throws(JSONSyntaxError) in out.append(try p.value()) }
        return out
    }

    /// The comma-separated items of an object or array, from its opening bracket through `close`.
    private mutating func elements(close: UInt8, in container: String,
                                   _ item: (inout JSONParser) throws(JSONSyntaxError) -> Void) throws(JSONSyntaxError) {
        depth += 1
        if depth > Self.maximumDepth { throw fail("nested deeper than \(Self.maximumDepth) levels") }
        i += 1
        skipWhitespace()
        if i < bytes.count, bytes[i] == close {
            i += 1
        } else {
            while true {
                try item(&self)
                skipWhitespace()
                guard i < bytes.count else { throw fail("unexpected end of the text inside \(container)") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == close { i += 1; break }
                throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))' in \(container)")
            }
        }
        depth -= 1
    }

    private mutating func string() throws(JSONSyntaxError) -> String {
        i += 1
        let start = i
        // Fast path: no escapes, so the string is the bytes themselves.
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 { i += 1 }
        guard i < bytes.count else { throw fail("unterminated string") }
        if bytes[i] == UInt8(ascii: "\"") {
            i += 1
            return try validated(UnsafeBufferPointer(rebasing: bytes[start..<(i - 1)]), at: start)
        }
        var out = [UInt8](bytes[start..<i])
        while true {
            guard i < bytes.count else { throw fail("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            if b < 0x20 { throw fail("control character inside a string (escape it)") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var v = try hex4()
                if (0xD800..<0xDC00).contains(v) {
                    guard bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw fail("lone leading surrogate in a \\u escape")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("invalid trailing surrogate in a \\u escape") }
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(v) {
                    throw fail("lone trailing surrogate in a \\u escape")
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(v)!)).utf8)
            default:
                throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
            }
        }
        return try out.withUnsafeBufferPointer { p throws(JSONSyntaxError) in try validated(p, at: start) }
    }

    private func validated(_ p: UnsafeBufferPointer<UInt8>, at start: Int) throws(JSONSyntaxError) -> String {
        guard let s = String(validating: p, as: UTF8.self) else {
            throw JSONSyntaxError(offset: start, message: "string is not valid UTF-8")
        }
        return s
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard bytes.count - i >= 4 else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw fail("invalid hex digit in a \\u escape")
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    /// Integers that fit in `Int` stay exact; everything else is the correctly rounded `Double`
    /// (Unigram scores are compared as `f64` sums, so their parsing must be exact as in Rust).
    private mutating func number() throws(JSONSyntaxError) -> NSNumber {
        let start = i
        func digits() -> Int {
            let s = i
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
            return i - s
        }
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        let intStart = i
        let intDigits = digits()
        guard intDigits > 0 else { throw fail("invalid number") }
        if intDigits > 1, bytes[intStart] == UInt8(ascii: "0") { throw JSONSyntaxError(offset: intStart, message: "leading zero in a number") }
        var integral = true
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            integral = false
            guard digits() > 0 else { throw fail("expected digits after '.'") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            integral = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw fail("expected digits in the exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if integral, let n = Int(text) { return NSNumber(value: n) }
        guard let d = Double(text) else { throw JSONSyntaxError(offset: start, message: "invalid number") }
        return NSNumber(value: d)
    }
}
