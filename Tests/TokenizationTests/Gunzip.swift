import Foundation

/// A small gzip (RFC 1952) / DEFLATE (RFC 1951) decoder for the compressed test fixtures:
/// canonical Huffman codes decoded bit by bit, stored/fixed/dynamic blocks, CRC-32 and length
/// checked. Test-only: Foundation on Linux has no decompressor and the package takes no
/// dependencies.
enum Gunzip {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func decompress(_ data: [UInt8]) throws -> [UInt8] {
        guard data.count >= 18, data[0] == 0x1F, data[1] == 0x8B, data[2] == 8 else { throw Failure(description: "not a gzip file") }
        let flags = data[3]
        var pos = 10
        if flags & 4 != 0 { pos += 2 + Int(data[pos]) | Int(data[pos + 1]) << 8 }
        if flags & 8 != 0 { while data[pos] != 0 { pos += 1 }; pos += 1 }
        if flags & 16 != 0 { while data[pos] != 0 { pos += 1 }; pos += 1 }
        if flags & 2 != 0 { pos += 2 }
        var reader = BitReader(data: data, position: pos)
        let out = try inflate(&reader)
        let tail = reader.alignedPosition
        guard tail + 8 <= data.count else { throw Failure(description: "truncated gzip trailer") }
        func le32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(data[at + $1]) << (8 * UInt32($1)) } }
        guard le32(tail) == crc32(out), le32(tail + 4) == UInt32(truncatingIfNeeded: out.count) else {
            throw Failure(description: "gzip checksum mismatch")
        }
        return out
    }

    struct BitReader {
        let data: [UInt8]
        var position: Int
        var bitBuffer: UInt32 = 0
        var bitCount = 0

        mutating func bits(_ n: Int) throws -> Int {
            while bitCount < n {
                guard position < data.count else { throw Failure(description: "truncated deflate data") }
                bitBuffer |= UInt32(data[position]) << UInt32(bitCount)
                position += 1
                bitCount += 8
            }
            let v = Int(bitBuffer & ((1 << UInt32(n)) - 1))
            bitBuffer >>= UInt32(n)
            bitCount -= n
            return v
        }

        /// Drops the bits left in the current byte; the byte position after them.
        var alignedPosition: Int { position - bitCount / 8 }

        mutating func align() {
            position = alignedPosition
            bitBuffer = 0
            bitCount = 0
        }
    }

    /// A canonical Huffman code: how many codes of each length, and the symbols in code order.
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) {
            for l in lengths { counts[l] += 1 }
            counts[0] = 0
            var offsets = [Int](repeating: 0, count: 16)
            for l in 1..<16 { offsets[l] = offsets[l - 1] + counts[l - 1] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (s, l) in lengths.enumerated() where l != 0 {
                symbols[offsets[l]] = s
                offsets[l] += 1
            }
        }

        func decode(_ r: inout BitReader) throws -> Int {
            var code = 0, first = 0, index = 0
            for length in 1..<16 {
                code |= try r.bits(1)
                let count = counts[length]
                if code - first < count { return symbols[index + code - first] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw Failure(description: "invalid Huffman code")
        }
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
                               2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    static func inflate(_ r: inout BitReader) throws -> [UInt8] {
        var out: [UInt8] = []
        var final = false
        while !final {
            final = try r.bits(1) == 1
            switch try r.bits(2) {
            case 0:
                r.align()
                let d = r.data, p = r.position
                guard p + 4 <= d.count else { throw Failure(description: "truncated stored block") }
                let length = Int(d[p]) | Int(d[p + 1]) << 8
                guard p + 4 + length <= d.count else { throw Failure(description: "truncated stored block") }
                out += d[(p + 4)..<(p + 4 + length)]
                r.position = p + 4 + length
            case 1:
                let lit = Huffman(lengths: Array(repeating: 8, count: 144) + Array(repeating: 9, count: 112)
                                  + Array(repeating: 7, count: 24) + Array(repeating: 8, count: 8))
                let dist = Huffman(lengths: Array(repeating: 5, count: 30))
                try inflateBlock(&r, lit, dist, &out)
            case 2:
                let nlit = try r.bits(5) + 257, ndist = try r.bits(5) + 1, ncode = try r.bits(4) + 4
                var codeLengths = [Int](repeating: 0, count: 19)
                for i in 0..<ncode { codeLengths[codeLengthOrder[i]] = try r.bits(3) }
                let codeCode = Huffman(lengths: codeLengths)
                var lengths: [Int] = []
                while lengths.count < nlit + ndist {
                    let sym = try codeCode.decode(&r)
                    switch sym {
                    case 0..<16: lengths.append(sym)
                    case 16:
                        guard let last = lengths.last else { throw Failure(description: "repeat with no previous length") }
                        lengths += Array(repeating: last, count: 3 + (try r.bits(2)))
                    case 17: lengths += Array(repeating: 0, count: 3 + (try r.bits(3)))
                    default: lengths += Array(repeating: 0, count: 11 + (try r.bits(7)))
                    }
                }
                try inflateBlock(&r, Huffman(lengths: Array(lengths[..<nlit])), Huffman(lengths: Array(lengths[nlit...])), &out)
            default:
                throw Failure(description: "invalid deflate block type")
            }
        }
        return out
    }

    static func inflateBlock(_ r: inout BitReader, _ lit: Huffman, _ dist: Huffman, _ out: inout [UInt8]) throws {
        while true {
            let sym = try lit.decode(&r)
            if sym < 256 {
                out.append(UInt8(sym))
            } else if sym == 256 {
                return
            } else {
                let i = sym - 257
                guard i < lengthBase.count else { throw Failure(description: "invalid length symbol") }
                let length = lengthBase[i] + (try r.bits(lengthExtra[i]))
                let d = try dist.decode(&r)
                guard d < distanceBase.count else { throw Failure(description: "invalid distance symbol") }
                let distance = distanceBase[d] + (try r.bits(distanceExtra[d]))
                guard distance <= out.count else { throw Failure(description: "distance beyond output") }
                let start = out.count - distance
                for k in 0..<length { out.append(out[start + k]) }
            }
        }
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
