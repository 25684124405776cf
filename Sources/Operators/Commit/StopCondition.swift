/// The `commit` step's stop conditions for one hypothesis: end-of-sequence tokens, a token budget,
/// and stop strings matched on the output bytes across token boundaries.
///
/// A speculative step commits several tokens at once, so each condition is checked token by token
/// and the commit is cut at the first that fires. Stop strings are matched on bytes, not tokens: a
/// stop string may span tokens and a token may hold several characters. Text that could still turn
/// out to begin a stop string is held back, so nothing streamed ever has to be retracted. The stop
/// string itself is not emitted (OpenAI's and vLLM's default); the token that completed it is kept
/// in the token output, as transformers' `StopStringCriteria` keeps it.
public struct StopCondition: Sendable {
    /// Why a hypothesis finished.
    public enum Reason: Sendable, Equatable {
        /// An end-of-sequence token was committed.
        case endOfSequence(Int32)
        /// `maxNewTokens` tokens were committed.
        case maxTokens
        /// The output contains this stop string.
        case stopString(String)
    }

    /// What one commit produced.
    public struct Outcome: Sendable, Equatable {
        /// How many of the committed tokens belong to the output (an EOS token counts, tokens after
        /// a stop are dropped).
        public var keptTokens: Int
        /// Bytes that can be streamed now (they may end inside a UTF-8 character: a streaming
        /// detokenizer downstream completes it).
        public var text: [UInt8]
        /// Set once the hypothesis is finished.
        public var reason: Reason?
    }

    /// Most tokens generated.
    public let maxNewTokens: Int
    /// Tokens that end the output.
    public let eosTokens: Set<Int32>
    /// Strings that end the output.
    public let stopStrings: [String]
    private let stopBytes: [[UInt8]]
    /// Tokens committed so far.
    public private(set) var generated = 0
    /// Why the hypothesis finished, once it has.
    public private(set) var finished: Reason?
    /// Bytes held back because they may begin a stop string.
    private var pending: [UInt8] = []

    /// Creates the conditions for one hypothesis.
    /// - Parameters:
    ///   - maxNewTokens: most tokens generated, ≥ 1.
    ///   - eosTokens: end-of-sequence tokens.
    ///   - stopStrings: non-empty strings that end the output.
    /// - Throws: `OperatorError.invalidParameter` for a budget below 1 or an empty stop string.
    public init(maxNewTokens: Int, eosTokens: Set<Int32> = [], stopStrings: [String] = []) throws {
        try OperatorError.require("max_tokens", maxNewTokens, in: 1..., "≥ 1")
        if let index = stopStrings.firstIndex(where: \.isEmpty) {
            throw OperatorError(.invalidParameter, at: "stop[\(index)]", "an empty stop string would stop before the first token")
        }
        self.maxNewTokens = maxNewTokens
        self.eosTokens = eosTokens
        self.stopStrings = stopStrings
        self.stopBytes = stopStrings.map { Array($0.utf8) }
    }

    /// Commits tokens, cutting them at the first condition that fires.
    /// - Parameters:
    ///   - tokens: the tokens a verifier accepted, in order.
    ///   - bytes: each token's output bytes (the tokenizer's token → bytes table).
    /// - Returns: how many tokens to keep, the bytes to stream, and the stop reason if any.
    /// - Throws: whatever `bytes` throws.
    public mutating func commit(_ tokens: [Int32], bytes: (Int32) throws -> [UInt8]) rethrows -> Outcome {
        if let finished { return Outcome(keptTokens: 0, text: [], reason: finished) }
        var text: [UInt8] = []
        for (i, token) in tokens.enumerated() {
            generated += 1
            if eosTokens.contains(token) {
                return stop(.endOfSequence(token), kept: i + 1, text: text + pending)
            }
            pending += try bytes(token)
            if let (start, index) = firstStop() {
                return stop(.stopString(stopStrings[index]), kept: i + 1, text: text + pending[..<start])
            }
            let held = heldBack()
            text += pending[..<(pending.count - held)]
            pending.removeFirst(pending.count - held)
            if generated == maxNewTokens { return stop(.maxTokens, kept: i + 1, text: text + pending) }
        }
        return Outcome(keptTokens: tokens.count, text: text, reason: nil)
    }

    private mutating func stop(_ reason: Reason, kept: Int, text: [UInt8]) -> Outcome {
        finished = reason
        pending = []
        return Outcome(keptTokens: kept, text: text, reason: reason)
    }

    /// The stop string that completes first in `pending` (the longest on a tie), as (start, index).
    /// `pending` held no complete stop string before this token, so every match ends in its bytes.
    private func firstStop() -> (Int, Int)? {
        var best: (end: Int, start: Int, index: Int)?
        for (index, stop) in stopBytes.enumerated() where stop.count <= pending.count {
            for start in 0...(pending.count - stop.count) where pending[start..<(start + stop.count)].elementsEqual(stop) {
                let end = start + stop.count
                if best == nil || end < best!.end || (end == best!.end && start < best!.start) { best = (end, start, index) }
                break
            }
        }
        return best.map { ($0.start, $0.index) }
    }

    /// Length of the longest suffix of `pending` that is a proper prefix of some stop string.
    private func heldBack() -> Int {
        let longest = (stopBytes.map(\.count).max() ?? 1) - 1
        for length in stride(from: min(longest, pending.count), through: 1, by: -1) {
            let suffix = pending[(pending.count - length)...]
            if stopBytes.contains(where: { $0.count > length && $0.prefix(length).elementsEqual(suffix) }) { return length }
        }
        return 0
    }
}
