extension Tokenizer {
    /// Words scanned before they go to the model in one batch (one cache lock per batch); big
    /// enough to amortise the lock, small enough that the ranges stay in cache.
    static let wordsPerBatch = 1024

    /// Encodes text into ids as `tokenizers`' `encode(text, add_special_tokens=…)` does.
    /// - Parameters:
    ///   - text: the text.
    ///   - addSpecialTokens: whether to add the post-processor's (and `tokenizer_config.json`'s
    ///     `add_bos_token`/`add_eos_token`) special tokens around it.
    /// - Returns: the ids.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
        if let gguf { return encodeGGUF(text, gguf, addSpecialTokens: addSpecialTokens) }
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count / 3 + specialPrefix.count + specialSuffix.count)
        if addSpecialTokens { ids += specialPrefix }
        let bytes = Array(text.utf8)
        for (range, id) in rawMatcher.split(bytes) {
            if let id {
                ids.append(id)
                continue
            }
            let segment = Array(bytes[range])
            let normalized = normalizer?.apply(segment) ?? segment
            for (r, id2) in normalizedMatcher.split(normalized) {
                if let id2 {
                    ids.append(id2)
                    continue
                }
                if r.isEmpty { continue }
                encodePlain(normalized, r, atOrigin: range.lowerBound == 0 && r.lowerBound == 0, into: &ids)
            }
        }
        if addSpecialTokens { ids += specialSuffix }
        return ids
    }

    /// Pre-tokenizes and runs the model over one run of normalized text without added tokens.
    private func encodePlain(_ text: [UInt8], _ range: Range<Int>, atOrigin: Bool, into ids: inout [Int32]) {
        if let scanner = fastScanner {
            var ranges: [Range<Int>] = []
            ranges.reserveCapacity(Self.wordsPerBatch)
            text.withUnsafeBufferPointer { p in
                let slice = UnsafeBufferPointer(rebasing: p[range])
                var next = 0
                while next < slice.count {
                    ranges.removeAll(keepingCapacity: true)
                    next = scanner.scan(slice, from: next, maxMatches: Self.wordsPerBatch, into: &ranges)
                    model.encode(words: slice, ranges: ranges, into: &ids)
                }
            }
            return
        }
        let piece = Piece(bytes: Array(text[range]), atOrigin: atOrigin)
        let pieces = preTokenizer?.apply([piece]) ?? [piece]
        for p in pieces where !p.bytes.isEmpty {
            p.bytes.withUnsafeBufferPointer { model.encode(words: $0, ranges: [0..<$0.count], into: &ids) }
        }
    }
}
