/// The SentencePiece model of a GGUF vocabulary (`tokenizer.ggml.model` = `llama`) as llama.cpp
/// encodes it: every UTF-8 character starts as a symbol; the adjacent pair whose concatenation is
/// the highest-scored token merges first (the leftmost pair on equal scores), until no adjacent
/// pair spells a token; a symbol left that is no token becomes its bytes' `<0xXX>` tokens (or,
/// when a byte has none, the token spelling that byte, else the unknown token).
///
/// Text arrives already escaped (spaces as `▁`, the space prefix added), one fragment between
/// special tokens at a time, so a "word" here is a whole fragment.
final class SentencePieceModel: Sendable {
    let vocabulary: Vocabulary
    /// Score of every id.
    let scores: [Float]
    /// The `<0xXX>` token of each byte, else the token spelling the byte, else -1.
    let byteIDs: [Int32]
    let unkID: Int32?

    init(vocabulary: Vocabulary, scores: [Float], unkID: Int32?) {
        self.vocabulary = vocabulary
        self.scores = scores
        self.unkID = unkID
        let fallback = vocabulary.byteFallbackIDs()
        byteIDs = (0..<256).map { b in
            if fallback[b] >= 0 { return fallback[b] }
            var single = [UInt8(b)]
            return single.withUnsafeMutableBufferPointer { vocabulary.id(utf8: UnsafeBufferPointer($0)) } ?? -1
        }
    }

    /// One symbol of the merge loop: a byte range of the fragment in a linked list.
    private struct Symbol {
        var start: Int32
        var length: Int32
        var previous: Int32
        var next: Int32
    }

    /// A candidate merge, ordered by score (highest first), then by left position (lowest first).
    private struct Candidate: Comparable {
        var score: Float
        var left: Int32
        var right: Int32
        var length: Int32

        static func < (a: Candidate, b: Candidate) -> Bool {
            a.score > b.score || (a.score == b.score && a.left < b.left)
        }
    }

    /// Encodes the words `ranges` of `words`, appending ids to `out`.
    func encode(words: UnsafeBufferPointer<UInt8>, ranges: [Range<Int>], into out: inout [Int32]) {
        for r in ranges where !r.isEmpty { encodeFragment(UnsafeBufferPointer(rebasing: words[r]), into: &out) }
    }

    private func encodeFragment(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        var symbols: [Symbol] = []
        symbols.reserveCapacity(text.count)
        var offset = 0
        while offset < text.count {
            let length = min(scalarLength(leadByte: text[offset]), text.count - offset)
            let index = Int32(symbols.count)
            offset += length
            symbols.append(Symbol(start: Int32(offset - length), length: Int32(length), previous: index - 1,
                                  next: offset == text.count ? -1 : index + 1))
        }
        var queue = BinaryHeap<Candidate>()
        func tryPair(_ left: Int32, _ right: Int32) {
            guard left >= 0, right >= 0 else { return }
            let l = symbols[Int(left)], r = symbols[Int(right)]
            let span = UnsafeBufferPointer(rebasing: text[Int(l.start)..<Int(r.start + r.length)])
            guard let id = vocabulary.id(utf8: span) else { return }
            queue.push(Candidate(score: scores[Int(id)], left: left, right: right, length: l.length + r.length))
        }
        for i in 1..<max(symbols.count, 1) { tryPair(Int32(i - 1), Int32(i)) }
        while let best = queue.pop() {
            let l = symbols[Int(best.left)], r = symbols[Int(best.right)]
            // A side already merged away, or grown since this pair was queued.
            if l.length == 0 || r.length == 0 || l.length + r.length != best.length { continue }
            symbols[Int(best.left)].length += r.length
            symbols[Int(best.right)].length = 0
            symbols[Int(best.left)].next = r.next
            if r.next >= 0 { symbols[Int(r.next)].previous = best.left }
            tryPair(symbols[Int(best.left)].previous, best.left)
            tryPair(best.left, symbols[Int(best.left)].next)
        }
        var i: Int32 = symbols.isEmpty ? -1 : 0
        while i >= 0 {
            let s = symbols[Int(i)]
            let span = UnsafeBufferPointer(rebasing: text[Int(s.start)..<Int(s.start + s.length)])
            if let id = vocabulary.id(utf8: span) {
                out.append(id)
            } else {
                for b in span {
                    let id = byteIDs[Int(b)]
                    if id >= 0 { out.append(id) } else if let unkID { out.append(unkID) }
                }
            }
            i = s.next
        }
    }
}

/// A binary min-heap under `<` (the first element pops first).
struct BinaryHeap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ v: Element) {
        items.append(v)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if !(items[i] < items[parent]) { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Element? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, items[l] < items[m] { m = l }
                if r < items.count, items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
