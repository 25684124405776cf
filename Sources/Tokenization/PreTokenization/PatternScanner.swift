/// Hand-written scanners for the three split patterns almost every byte-level tokenizer uses,
/// equivalent to Oniguruma running them (leftmost-first alternation with backtracking), but
/// without a regex engine in the loop. Chosen when a `Split`/`ByteLevel` pattern is exactly one
/// of these strings.
enum PatternScanner: Sendable, Equatable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3
    /// As Llama-3 with `\p{N}` (one digit per piece) instead of `\p{N}{1,3}`.
    case qwen2
    /// Llama-3 as llama.cpp rewrites it, contractions spelled `'[sS]|'[tT]|…`: case-insensitive
    /// in ASCII only (Oniguruma's `(?i:…)` also folds `ſ` to `s`).
    case llama3ASCII
    /// Qwen2 as llama.cpp rewrites it (see `llama3ASCII`).
    case qwen2ASCII

    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    static let llama3ASCIIPattern = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2ASCIIPattern = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The scanner for a pattern string, if it is one of the known ones.
    init?(pattern: String) {
        switch pattern {
        case Self.gpt2Pattern: self = .gpt2
        case Self.llama3Pattern: self = .llama3
        case Self.qwen2Pattern: self = .qwen2
        case Self.llama3ASCIIPattern: self = .llama3ASCII
        case Self.qwen2ASCIIPattern: self = .qwen2ASCII
        default: return nil
        }
    }

    /// Most digits in one piece (`\p{N}{1,3}` or `\p{N}`); GPT-2 takes any run.
    private var digitLimit: Int { self == .llama3 || self == .llama3ASCII ? 3 : 1 }

    /// Appends the matches in `text` to `out`. These patterns match at every position, so the
    /// matches tile the text.
    func scan(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Range<Int>]) {
        var i = 0
        while i < text.count { i = scan(text, from: i, maxMatches: Int.max, into: &out) }
    }

    /// Appends at most `maxMatches` matches starting at `from`; returns where the next starts.
    func scan(_ text: UnsafeBufferPointer<UInt8>, from: Int, maxMatches: Int, into out: inout [Range<Int>]) -> Int {
        CharacterClass.bmp.withUnsafeBufferPointer { table in
            scan(text, from: from, maxMatches: maxMatches, table: table.baseAddress!, into: &out)
        }
    }

    private func scan(_ text: UnsafeBufferPointer<UInt8>, from: Int, maxMatches: Int, table: UnsafePointer<UInt8>,
                      into out: inout [Range<Int>]) -> Int {
        let n = text.count
        var i = from
        var produced = 0
        let L = CharacterClass.letter, N = CharacterClass.number, S = CharacterClass.whitespace
        let NL = CharacterClass.newline
        @inline(__always) func cls(_ at: Int) -> UInt8 {
            let b = text[at]
            return b < 0x80 ? table[Int(b)] : CharacterClass.of(decodeScalar(text, at).value, table: table)
        }
        @inline(__always) func len(_ at: Int) -> Int { scalarLength(leadByte: text[at]) }
        /// End of the run of characters whose class satisfies `pred`, from `j`.
        @inline(__always) func run(_ j: Int, _ pred: (UInt8) -> Bool) -> Int {
            var k = j
            while k < n, pred(cls(k)) { k += len(k) }
            return k
        }
        let isOther: (UInt8) -> Bool = { $0 & (L | N | S) == 0 }
        while i < n, produced < maxMatches {
            produced += 1
            let start = i
            let b = text[i]
            let c = cls(i)
            var end = -1
            if b == 0x27, let e = contraction(text, i, caseInsensitive: self != .gpt2, foldsLongS: self == .llama3 || self == .qwen2) {
                end = e
            } else if self == .gpt2 {
                var j = i
                var cc = c
                if b == 0x20, i + 1 < n {
                    let next = cls(i + 1)
                    if next & (L | N) != 0 || isOther(next) { j = i + 1; cc = next }
                }
                if cc & L != 0 { end = run(j) { $0 & L != 0 } }
                else if cc & N != 0 { end = run(j) { $0 & N != 0 } }
                else if isOther(cc) { end = run(j, isOther) }
            } else {
                if c & (NL | L | N) == 0, i + len(i) < n, cls(i + len(i)) & L != 0 {
                    end = run(i + len(i)) { $0 & L != 0 }
                } else if c & L != 0 {
                    end = run(i) { $0 & L != 0 }
                } else if c & N != 0 {
                    let limit = digitLimit
                    var k = i, count = 0
                    while k < n, count < limit, cls(k) & N != 0 { k += len(k); count += 1 }
                    end = k
                } else {
                    var j = i
                    var cc = c
                    if b == 0x20, i + 1 < n, isOther(cls(i + 1)) { j = i + 1; cc = cls(i + 1) }
                    if isOther(cc) {
                        end = run(j, isOther)
                        while end < n, text[end] == 0x0D || text[end] == 0x0A { end += 1 }
                    }
                }
            }
            if end < 0 {
                // Whitespace at i: \s*[\r\n]+ (Llama-3/Qwen2 only), then \s+(?!\S), then \s+.
                let e = run(i) { $0 & S != 0 }
                if self != .gpt2 {
                    var k = i, lastNewline = -1
                    while k < e {
                        if text[k] == 0x0D || text[k] == 0x0A { lastNewline = k }
                        k += len(k)
                    }
                    if lastNewline >= 0 { end = lastNewline + 1 }
                }
                if end < 0 {
                    if e == n { end = e } else {
                        // Give back the last whitespace character so the next piece can start with it.
                        var last = e - 1
                        while last > i, text[last] & 0xC0 == 0x80 { last -= 1 }
                        end = last > i ? last : e
                    }
                }
            }
            out.append(start..<end)
            i = end
        }
        return i
    }

    /// The end of a contraction `'s 't 're 've 'm 'll 'd` starting at `i` (an apostrophe).
    private func contraction(_ text: UnsafeBufferPointer<UInt8>, _ i: Int, caseInsensitive: Bool, foldsLongS: Bool) -> Int? {
        let n = text.count
        guard i + 1 < n else { return nil }
        @inline(__always) func lower(_ at: Int) -> (UInt32, Int)? {
            guard at < n else { return nil }
            let (v, l) = decodeScalar(text, at)
            if caseInsensitive {
                if v >= 0x41 && v <= 0x5A { return (v | 0x20, l) }
                if foldsLongS, v == 0x17F { return (0x73, l) } // ſ folds to s
            }
            return (v, l)
        }
        guard let (c1, l1) = lower(i + 1) else { return nil }
        switch c1 {
        case 0x73, 0x74, 0x6D, 0x64: // s t m d
            return i + 1 + l1
        case 0x72, 0x76, 0x6C: // r v l
            guard let (c2, l2) = lower(i + 1 + l1) else { return nil }
            let want: UInt32 = c1 == 0x6C ? 0x6C : 0x65
            return c2 == want ? i + 1 + l1 + l2 : nil
        default:
            return nil
        }
    }
}
