/// The pre-tokenizer a GGUF file names in `tokenizer.ggml.pre`, split as llama.cpp splits it
/// (`llm_tokenizer_bpe` and `unicode_regex_split` in its src/llama-vocab.cpp and src/unicode.cpp):
/// an ordered list of patterns, each splitting every piece the previous ones left into its
/// matches and the text between them. Three patterns run through llama.cpp's hand-written
/// splitters, whose behaviour `PatternScanner` shares; every other one runs through C++
/// `std::regex` (ECMAScript), which this type reproduces with `Regex` over the same rewritten
/// text llama.cpp matches: with a `\p{…}` class, every non-ASCII character is collapsed to one
/// stand-in per general category (and non-ASCII whitespace to U+000B); without one, only the
/// whitespace is replaced.
struct LlamaCppPreTokenizer: Sendable {
    /// One pattern of the list.
    enum Step: Sendable {
        case scanner(PatternScanner)
        /// `\p{N}` (each number character a piece) or `\p{N}+` (runs of them), scanned: what
        /// `std::regex` matches over the collapsed text — an ASCII digit, or a non-ASCII character
        /// of category N (Nd, Nl, No) — without building that text (the backtracking `Regex`
        /// spent a quarter of a store build's time on SmolLM2's digit split).
        case numbers(runs: Bool)
        case regex(Regex, collapsed: Bool)
    }

    let steps: [Step]
    /// llama.cpp's `ignore_merges`: a word that is a token is taken whole.
    let ignoreMerges: Bool
    /// llama.cpp adds BOS for these names unless `tokenizer.ggml.add_bos_token` says otherwise.
    let addsBOS: Bool

    /// A name's patterns and flags as llama.cpp's `llama_vocab::impl::load` and
    /// `llm_tokenizer_bpe` set them.
    private struct Recipe {
        var names: [String]
        var patterns: [String]
        var ignoreMerges = false
        var addsBOS = false
    }

    /// GPT-2's pattern as llama.cpp spells it (without the final `|\s+`, which its hand-written
    /// splitter implements anyway).
    private static let gpt2 = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#
    private static let llama3 = PatternScanner.llama3ASCIIPattern
    private static let qwen2 = PatternScanner.qwen2ASCIIPattern
    private static let cjk = "[\u{4E00}-\u{9FA5}\u{800}-\u{4E00}\u{AC00}-\u{D7FF}]+"
    private static let contractionsASCII = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"

    /// The names supported, each with llama.cpp's patterns for it. Non-ASCII characters are
    /// written as escapes: several (U+1FD3, U+212A, …) have singleton canonical decompositions,
    /// which an editor normalizing to NFC would silently change.
    private static let recipes: [Recipe] = [
        Recipe(names: ["default"], patterns: [#"[\p{P}\$\+<=>\^~\|]+"#, gpt2, #"\p{N}+"#, "[0-9][0-9][0-9]"]),
        Recipe(names: ["gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
                       "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "exaone4", "trillion",
                       "granite-docling"],
               patterns: [gpt2]),
        Recipe(names: ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano"],
               patterns: [llama3], ignoreMerges: true, addsBOS: true),
        Recipe(names: ["dbrx", "smaug-bpe"], patterns: [llama3]),
        Recipe(names: ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open"],
               patterns: [qwen2]),
        Recipe(names: ["smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b", "mellum2"],
               patterns: [#"\p{N}"#, gpt2]),
        Recipe(names: ["falcon"], patterns: [#"[\p{P}\$\+<=>\^~\|`]+"#, gpt2, "[0-9][0-9][0-9]"]),
        Recipe(names: ["deepseek-llm"],
               patterns: ["[\r\n]",
                          "\\s?[A-Za-z\u{B5}\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{1BA}\u{1BC}-\u{1BF}\u{1C4}-\u{293}\u{295}-\u{2AF}\u{370}-\u{373}\u{376}\u{377}\u{37B}-\u{37D}\u{37F}\u{386}\u{388}-\u{38A}\u{38C}\u{38E}-\u{3A1}\u{3A3}-\u{3F5}\u{3F7}-\u{481}\u{48A}-\u{52F}\u{531}-\u{556}\u{10A0}-\u{10C5}\u{13A0}-\u{13F5}\u{13F8}-\u{13FD}\u{1C90}-\u{1CBA}\u{1CBD}-\u{1CBF}\u{1D00}-\u{1D2B}\u{1D6B}-\u{1D77}\u{1D79}-\u{1D9A}\u{1E00}-\u{1F15}\u{1F18}-\u{1F1D}\u{1F20}-\u{1F45}\u{1F48}-\u{1F4D}\u{1F50}-\u{1F57}\u{1F59}\u{1F5B}\u{1F5D}\u{1F5F}-\u{1F7D}\u{1F80}-\u{1FB4}\u{1FB6}-\u{1FBC}\u{1FBE}\u{1FC2}-\u{1FC4}\u{1FC6}-\u{1FCC}\u{1FD0}-\u{1FD3}\u{1FD6}-\u{1FDB}\u{1FE0}-\u{1FEC}\u{1FF2}-\u{1FF4}\u{1FF6}-\u{1FFC}\u{2102}\u{2107}\u{210A}-\u{2113}\u{2115}\u{2119}-\u{211D}\u{2124}\u{2126}\u{2128}\u{212A}-\u{212D}\u{212F}-\u{2134}\u{2139}\u{213C}-\u{213F}\u{2145}-\u{2149}\u{214E}\u{2183}\u{2184}\u{2C00}-\u{2C7B}\u{2C7E}-\u{2CE4}\u{2CEB}-\u{2CEE}\u{2CF2}\u{2CF3}\u{A640}-\u{A66D}\u{A680}-\u{A69B}\u{A722}-\u{A76F}\u{A771}-\u{A787}\u{A78B}-\u{A78E}\u{AB70}-\u{ABBF}\u{FB00}-\u{FB06}\u{FB13}-\u{FB17}\u{FF21}-\u{FF3A}\u{FF41}-\u{FF5A}\u{10400}-\u{1044F}\u{104B0}-\u{104D3}\u{104D8}-\u{104FB}\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}]+",
                          "\\s?[!-/:-~\u{FF01}-\u{FF0F}\u{FF1A}-\u{FF5E}\u{2018}-\u{201F}\u{3000}-\u{3002}]+", #"\s+$"#, cjk,
                          #"\p{N}+"#]),
        Recipe(names: ["deepseek-coder"], patterns: ["[\r\n]", #"\s?\p{L}+"#, #"\s?\p{P}+"#, cjk, #"\p{N}"#]),
        Recipe(names: ["deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"],
               patterns: [#"\p{N}{1,3}"#, "[\u{4E00}-\u{9FA5}\u{3040}-\u{309F}\u{30A0}-\u{30FF}]+",
                          "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"]),
        Recipe(names: ["gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"],
               patterns: [#"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+"# + contractionsASCII + "?"
                          + #"|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*"# + contractionsASCII + "?"
                          + #"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#]),
        Recipe(names: ["seed-coder"],
               patterns: [contractionsASCII + #"|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+"#]),
        Recipe(names: ["poro-chat", "bloom", "gpt3-finnish"], patterns: [" ?[^(\\s|.,!?\u{2026}\u{3002}\u{FF0C}\u{3001}\u{964}\u{6D4}\u{60C})]+"]),
        Recipe(names: ["viking"], patterns: [" ?[^(\\s|.,!?\u{2026}\u{3002}\u{FF0C}\u{3001}\u{964}\u{6D4}\u{60C})]+", #"\p{N}"#]),
    ]

    /// Every name `tokenizer.ggml.pre` may hold here, sorted (for messages).
    static let supportedNames: [String] = recipes.flatMap(\.names).sorted()

    /// The pre-tokenizer of a name, or `nil` when it is not supported.
    init?(name: String) {
        guard let recipe = Self.recipes.first(where: { $0.names.contains(name) }) else { return nil }
        steps = recipe.patterns.map(Self.step)
        ignoreMerges = recipe.ignoreMerges
        addsBOS = recipe.addsBOS
    }

    private static func step(_ pattern: String) -> Step {
        if pattern == gpt2 { return .scanner(.gpt2) }
        if pattern == #"\p{N}"# || pattern == #"\p{N}+"# { return .numbers(runs: pattern.hasSuffix("+")) }
        if let scanner = PatternScanner(pattern: pattern) { return .scanner(scanner) }
        let collapsed = StandInText.categoryClasses.keys.contains { pattern.contains($0) }
        // The recipes are constants this file's tests compile, so a failure here is a bug in them.
        return .regex(try! Regex(StandInText.rewrite(pattern, collapsed: collapsed)), collapsed: collapsed)
    }

    /// The words of `text` as byte ranges, in order, tiling it.
    func split(_ text: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var pieces: [Range<Int>] = text.isEmpty ? [] : [0..<text.count]
        for step in steps {
            var next: [Range<Int>] = []
            next.reserveCapacity(pieces.count * 2)
            for piece in pieces {
                let slice = UnsafeBufferPointer(rebasing: text[piece])
                let base = piece.lowerBound
                switch step {
                case .scanner(let scanner):
                    var ranges: [Range<Int>] = []
                    scanner.scan(slice, into: &ranges)
                    for r in ranges { next.append((r.lowerBound + base)..<(r.upperBound + base)) }
                case .numbers(let runs):
                    var last = 0, i = 0
                    while i < slice.count {
                        let (number, length) = StandInText.isNumber(slice, i)
                        guard number else {
                            i += length
                            continue
                        }
                        var end = i + length
                        while runs, end < slice.count {
                            let (more, n) = StandInText.isNumber(slice, end)
                            if !more { break }
                            end += n
                        }
                        if i > last { next.append((base + last)..<(base + i)) }
                        next.append((base + i)..<(base + end))
                        (last, i) = (end, end)
                    }
                    if last < slice.count { next.append((base + last)..<(base + slice.count)) }
                case .regex(let regex, let collapsed):
                    let standIn = StandInText(slice, collapsed: collapsed)
                    var last = 0
                    standIn.bytes.withUnsafeBufferPointer { p in
                        regex.forEachMatch(in: p) { m in
                            let lo = standIn.original[m.lowerBound], hi = standIn.original[m.upperBound]
                            if lo > last { next.append((base + last)..<(base + lo)) }
                            if hi > lo { next.append((base + lo)..<(base + hi)) }
                            last = hi
                        }
                    }
                    if last < slice.count { next.append((base + last)..<(base + slice.count)) }
                }
            }
            pieces = next
        }
        return pieces
    }
}

/// The text llama.cpp hands `std::regex`, as UTF-8 with a map back to the original bytes.
struct StandInText {
    /// The rewritten text.
    var bytes: [UInt8] = []
    /// For each byte offset of `bytes` that starts a character (and its end), the original offset.
    var original: [Int] = []

    /// Stand-ins for the categories llama.cpp collapses a non-ASCII character to (it uses the
    /// bytes 0xD0–0xD5; here private-use characters, which no other class of these patterns
    /// matches).
    static let standIn: [String: Unicode.Scalar] = [
        "N": "\u{E0D1}", "L": "\u{E0D2}", "P": "\u{E0D3}", "M": "\u{E0D4}", "S": "\u{E0D5}", "other": "\u{E0D0}",
    ]

    /// What each `\p{…}` of the patterns becomes inside a class: its stand-in, plus the ASCII
    /// characters llama.cpp counts in it (its `k_ucat_map`, which puts `$+<=>^`|~` under S).
    static let categoryClasses: [String: String] = {
        let ascii = ["N": "0-9", "L": "A-Za-z", "P": #"!-#%-*,-/:-;?-@\[-\]_\{\}"#, "M": "", "S": #"\$\+<-\>\^`\|\~"#]
        var table: [String: String] = [:]
        for (name, category) in [("N", "N"), ("L", "L"), ("P", "P"), ("M", "M"), ("S", "S"),
                                 ("Lu", "L"), ("Ll", "L"), ("Lt", "L"), ("Lm", "L"), ("Lo", "L")] {
            table["\\p{\(name)}"] = String(Character(standIn[category]!)) + ascii[category]!
        }
        return table
    }()

    /// Rewrites a pattern as llama.cpp does before handing it to `std::regex`: `\p{…}` becomes its
    /// collapsed class (when `collapsed`), and `$`, which ECMAScript anchors at the end of the
    /// input only, becomes `\z` (`Regex` reads `$` as an end of line, as Oniguruma does).
    static func rewrite(_ pattern: String, collapsed: Bool) -> String {
        let s = Array(pattern.unicodeScalars)
        var out = ""
        var inside = false
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == "\\", i + 1 < s.count {
                if collapsed, s[i + 1] == "p", let close = s[i...].firstIndex(of: "}") {
                    let name = String(String.UnicodeScalarView(s[i...close]))
                    if let cls = categoryClasses[name] {
                        out += inside ? cls : "[" + cls + "]"
                        i = close + 1
                        continue
                    }
                }
                out.unicodeScalars.append(c)
                out.unicodeScalars.append(s[i + 1])
                i += 2
                continue
            }
            if c == "[" { inside = true } else if c == "]" { inside = false }
            if c == "$", !inside { out += "\\z" } else { out.unicodeScalars.append(c) }
            i += 1
        }
        return out
    }

    /// Rewrites `text`: non-ASCII whitespace becomes U+000B, and (when `collapsed`) every other
    /// non-ASCII character its category's stand-in.
    init(_ text: UnsafeBufferPointer<UInt8>, collapsed: Bool) {
        bytes.reserveCapacity(text.count)
        original = [Int](repeating: 0, count: 1)
        original.reserveCapacity(text.count * 2 + 1)
        var i = 0
        while i < text.count {
            let (v, n) = decodeScalar(text, i)
            var replacement: Unicode.Scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
            if v >= 0x80 {
                if CharacterClass.isWhitespace(v) {
                    replacement = "\u{0B}"
                } else if collapsed {
                    replacement = Self.standIn[Self.category(replacement)]!
                }
            }
            let before = bytes.count
            bytes.append(contentsOf: String(replacement).utf8)
            // Offsets inside a stand-in character never start a match; fill them to keep the
            // table dense.
            for _ in (before + 1)..<bytes.count { original.append(i) }
            i += n
            original.append(i)
        }
    }

    /// Whether the character at byte `i` is in the collapsed `\p{N}` class (an ASCII digit, or a
    /// non-ASCII character of category N that is not whitespace), and its length.
    static func isNumber(_ text: UnsafeBufferPointer<UInt8>, _ i: Int) -> (Bool, Int) {
        let byte = text[i]
        if byte < 0x80 { return (byte >= 0x30 && byte <= 0x39, 1) }
        let (v, n) = decodeScalar(text, i)
        guard !CharacterClass.isWhitespace(v), let scalar = Unicode.Scalar(v) else { return (false, n) }
        return (category(scalar) == "N", n)
    }

    private static func category(_ s: Unicode.Scalar) -> String {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return "L"
        case .decimalNumber, .letterNumber, .otherNumber: return "N"
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation: return "P"
        case .nonspacingMark, .spacingMark, .enclosingMark: return "M"
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: return "S"
        default: return "other"
        }
    }
}
