import Constraints

/// A vocabulary for tests: every single byte (so any text can be spelled) plus multi-byte JSON
/// fragments, so token boundaries fall inside and across JSON tokens, and one EOS id.
enum SyntheticVocabulary {
    static let fragments = [
        "{\"", "\":", "\": ", "\", \"", "\",\"", "\"}", "\"]", "[\"", "[]", "{}", ", ", ",", "true", "false",
        "null", "00", "12", "123", "1.", ".5", "e1", "-1", "foo", "bar", "baz", "aa", "ab", "\\u", "\\\"",
        "00:", "-0", "T0", "Z\"", "http", "://", "[1", "1]", "1,", " {", "} ", "\"a", "a\"", "é", "😀",
    ]

    static let shared: TokenVocabulary = {
        var tokens = (0...255).map { [UInt8($0)] }
        tokens += fragments.map { Array($0.utf8) }
        tokens.append([])   // EOS
        return TokenVocabulary(tokenBytes: tokens, endOfSequence: [tokens.count - 1])
    }()

    static var eos: Int { shared.count - 1 }
}
