import Foundation
import ModelRuntime
import Operators

/// How the run's target model, at full depth, reads a continuation it did not necessarily
/// produce: the quality side of a lossy graph (early exit, depth schedules, routing to a small
/// model), measured against the model it approximates.
public struct ContinuationReading: Sendable, Equatable {
    /// Tokens read.
    public var tokens: Int
    /// Sum of the target's log-probabilities of the tokens (nats).
    public var logLikelihood: Double
    /// Tokens the target's greedy choice after the same prefix equals (CALM's consistency).
    public var greedyAgreements: Int
    /// The n of the n-grams whose repetition is counted: rep-2 to rep-4, the lengths Welleck et
    /// al. 2019 and the degeneration papers (contrastive search, look-back) report.
    public static let repetitionLengths = 2...4
    /// Per n of `repetitionLengths`, the continuation's n-grams.
    public var nGrams: [Int] = Array(repeating: 0, count: repetitionLengths.count)
    /// Per n, those that repeat an earlier n-gram of the same continuation.
    public var repeatedNGrams: [Int] = Array(repeating: 0, count: repetitionLengths.count)

    /// Creates a reading.
    /// - Parameters:
    ///   - tokens: tokens read.
    ///   - logLikelihood: summed log-probability.
    ///   - greedyAgreements: tokens equal to the greedy choice.
    public init(tokens: Int = 0, logLikelihood: Double = 0, greedyAgreements: Int = 0) {
        self.tokens = tokens
        self.logLikelihood = logLikelihood
        self.greedyAgreements = greedyAgreements
    }

    /// `exp(−logLikelihood / tokens)`; 1 for no tokens.
    public var perplexity: Double { tokens == 0 ? 1 : (-logLikelihood / Double(tokens)).exp }

    /// The share of tokens equal to the target's greedy choice; 1 for no tokens.
    public var agreement: Double { tokens == 0 ? 1 : Double(greedyAgreements) / Double(tokens) }

    /// rep-n: the share of the n-grams that repeat an earlier one (0 for none).
    /// - Parameter n: a length of `repetitionLengths`.
    /// - Returns: the share.
    public func repetition(_ n: Int) -> Double {
        let i = n - Self.repetitionLengths.lowerBound
        return nGrams[i] == 0 ? 0 : Double(repeatedNGrams[i]) / Double(nGrams[i])
    }

    /// Diversity, `Π (1 − rep-n)` over n = 2…4 (Su et al. 2022; Xu et al. 2023): 1 when nothing
    /// repeats.
    public var diversity: Double { Self.repetitionLengths.reduce(1) { $0 * (1 - repetition($1)) } }

    /// Counts the n-grams of `tokens` and their repeats within it.
    /// - Parameter tokens: one continuation.
    mutating func countRepetitions(of tokens: [Int32]) {
        for (i, n) in Self.repetitionLengths.enumerated() where tokens.count >= n {
            var seen = Set<ArraySlice<Int32>>()
            for start in 0...(tokens.count - n) where !seen.insert(tokens[start..<(start + n)]).inserted {
                repeatedNGrams[i] += 1
            }
            nGrams[i] += tokens.count - n + 1
        }
    }

    /// Two readings pooled (token-weighted; n-gram counts summed, so rep-n pools by n-gram).
    public static func + (a: ContinuationReading, b: ContinuationReading) -> ContinuationReading {
        var sum = ContinuationReading(tokens: a.tokens + b.tokens, logLikelihood: a.logLikelihood + b.logLikelihood,
                                      greedyAgreements: a.greedyAgreements + b.greedyAgreements)
        sum.nGrams = zip(a.nGrams, b.nGrams).map(+)
        sum.repeatedNGrams = zip(a.repeatedNGrams, b.repeatedNGrams).map(+)
        return sum
    }
}

private extension Double {
    var exp: Double { Foundation.exp(self) }
}

extension Session {
    /// The target model's full-depth reading of `continuation` after `prompt`, on a fresh cache
    /// (the run's own sequences are untouched): its log-likelihood, how many of its tokens are
    /// the target's greedy choice after the same prefix, and its repeated n-grams.
    /// - Parameters:
    ///   - continuation: the generated tokens.
    ///   - prompt: the tokens before them (non-empty).
    /// - Returns: the reading.
    /// - Throws: `EngineError` for an empty prompt; the model's error.
    public func read(_ continuation: [Int32], after prompt: [Int32]) throws -> ContinuationReading {
        guard !prompt.isEmpty else { throw EngineError("a continuation is read after a prompt of at least one token") }
        guard !continuation.isEmpty else { return ContinuationReading() }
        let rows = try fullDepthRows(of: continuation, after: prompt)
        var reading = ContinuationReading(tokens: continuation.count)
        reading.countRepetitions(of: continuation)
        for (row, token) in continuation.enumerated() {
            let values = rows[row]
            let logProbabilities = try Distribution.logSoftmax(values)
            reading.logLikelihood += Double(logProbabilities[Int(token)])
            if try Distribution.argmax(values) == Int(token) { reading.greedyAgreements += 1 }
        }
        return reading
    }
}
