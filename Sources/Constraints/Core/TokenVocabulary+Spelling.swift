extension TokenVocabulary {
    /// The tokens whose bytes are a prefix of `bytes`, longest first: the candidates for spelling
    /// `bytes` with as few tokens as a greedy reading gives. One walk down the trie.
    /// - Parameter bytes: the text to spell.
    /// - Returns: (token id, its length in bytes) pairs, longest first.
    func tokens(prefixing bytes: some Collection<UInt8>) -> [(token: Int, length: Int)] {
        var found: [(token: Int, length: Int)] = []
        var low = 0, high = nodeByte.count
        var length = 0
        for b in bytes {
            // The child of the current node spelling `b`: siblings are consecutive subtrees.
            var k = low
            while k < high, nodeByte[k] != b { k = Int(subtreeEnd[k]) }
            guard k < high else { break }
            length += 1
            for t in Int(nodeTokenStart[k])..<Int(nodeTokenStart[k + 1]) { found.append((Int(nodeTokens[t]), length)) }
            low = k + 1
            high = Int(subtreeEnd[k])
        }
        return found.reversed()
    }
}
