#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the special tokens of a GGUF vocabulary in text as llama.cpp does when it tokenizes with
/// `parse_special` (`tokenizer_st_partition`): the tokens are taken longest first, and each one
/// splits every stretch of plain text the longer ones left at all its occurrences, left to right.
/// This differs from `AddedTokenMatcher`'s leftmost-longest scan: in "ABCD" with tokens "BCD" and
/// "AB", llama.cpp takes "BCD".
struct SpecialTokenPartition: Sendable {
    /// The tokens' texts and ids, longest first (equal lengths by id, where llama.cpp's unstable
    /// sort leaves the order open; only tokens that overlap in text could tell).
    private let tokens: [(bytes: [UInt8], id: Int32)]

    init(tokens: [(text: String, id: Int32)]) {
        self.tokens = tokens.map { (Array($0.text.utf8), $0.id) }.filter { !$0.0.isEmpty }
            .sorted { $0.0.count != $1.0.count ? $0.0.count > $1.0.count : $0.1 < $1.1 }
    }

    /// Splits `text` into runs of plain text (`id == nil`) and special tokens, in order.
    func split(_ text: [UInt8]) -> [(range: Range<Int>, id: Int32?)] {
        var pieces: [(range: Range<Int>, id: Int32?)] = text.isEmpty ? [] : [(0..<text.count, nil)]
        if tokens.isEmpty || text.isEmpty { return pieces }
        var present = [Bool](repeating: false, count: 256)
        for b in text { present[Int(b)] = true }
        text.withUnsafeBufferPointer { p in
            for token in tokens where present[Int(token.bytes[0])] && token.bytes.count <= p.count {
                var next: [(range: Range<Int>, id: Int32?)] = []
                next.reserveCapacity(pieces.count + 2)
                for piece in pieces {
                    guard piece.id == nil else {
                        next.append(piece)
                        continue
                    }
                    var start = piece.range.lowerBound
                    var i = start
                    let end = piece.range.upperBound
                    token.bytes.withUnsafeBufferPointer { needle in
                        // Candidates by memchr on the first byte (vectorised): a scan per token
                        // over the whole text, byte by byte, was 5 % of a store build.
                        while i + needle.count <= end,
                              let hit = memchr(p.baseAddress! + i, Int32(needle[0]), end - needle.count + 1 - i) {
                            i = p.baseAddress!.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                            if memcmp(p.baseAddress! + i, needle.baseAddress!, needle.count) == 0 {
                                if i > start { next.append((start..<i, nil)) }
                                next.append((i..<(i + needle.count), token.id))
                                i += needle.count
                                start = i
                            } else {
                                i += 1
                            }
                        }
                    }
                    if start < end { next.append((start..<end, nil)) }
                }
                pieces = next
            }
        }
        return pieces
    }
}
