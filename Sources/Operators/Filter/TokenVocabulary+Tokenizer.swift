import Constraints
import Tokenization

extension TokenVocabulary {
    /// End-of-sequence names used when `tokenizer_config.json` names none.
    public static let conventionalEndTokens: Set<String> = ["<|endoftext|>", "</s>", "<|eot_id|>", "<|end_of_text|>", "<|im_end|>", "<eos>"]

    /// The vocabulary constraints mask, from a tokenizer: each token's bytes, special tokens none
    /// (so they are never allowed, except the end-of-sequence tokens).
    /// - Parameters:
    ///   - tokenizer: the tokenizer.
    ///   - endOfSequence: the tokens that end the output; `nil` takes the tokenizer's EOS, else a
    ///     special token with a conventional end name such as `<|endoftext|>`.
    public convenience init(tokenizer: Tokenizer, endOfSequence: Set<Int32>? = nil) {
        var table: [[UInt8]] = []
        table.reserveCapacity(tokenizer.vocabularySize)
        var eos = Set((endOfSequence ?? tokenizer.eosTokenID.map { [$0] } ?? []).map(Int.init))
        for id in 0..<Int32(tokenizer.vocabularySize) {
            if tokenizer.isSpecial(id) {
                table.append([])
                if endOfSequence == nil, tokenizer.eosTokenID == nil, let name = tokenizer.tokenString(id),
                   Self.conventionalEndTokens.contains(name) {
                    eos.insert(Int(id))
                }
            } else {
                table.append(tokenizer.tokenBytes(id))
            }
        }
        self.init(tokenBytes: table, endOfSequence: eos)
    }
}
