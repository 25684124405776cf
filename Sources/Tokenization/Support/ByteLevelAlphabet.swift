/// GPT-2's reversible map from the 256 byte values to printable characters: printable Latin-1
/// bytes map to themselves, the others to U+0100 and up in byte order (the `bytes_to_unicode`
/// table of the GPT-2 paper's released encoder, which `tokenizers`' ByteLevel reproduces).
enum ByteLevelAlphabet {
    /// Character (scalar value) for each byte.
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// Byte for each character of the alphabet.
    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s] = UInt8(b) }
        return map
    }()

    /// The raw bytes a byte-level token string stands for, or `nil` when it holds a character
    /// outside the alphabet (such a token cannot come out of byte-level BPE).
    static func bytes(of token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard let b = scalarToByte[s.value] else { return nil }
            out.append(b)
        }
        return out
    }
}
