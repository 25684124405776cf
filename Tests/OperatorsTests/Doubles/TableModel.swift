import Foundation
@testable import Operators

/// An n-gram language model stored as a table of logits: the next-token logits depend only on the
/// last `order − 1` tokens. Its exact next-token distribution is known, which makes it the oracle
/// model of the statistical and greedy-identity tests, and a stand-in drafter or target wherever a
/// real model is not needed.
///
/// Contexts shorter than `order − 1` are padded on the left with a start symbol that is not a
/// vocabulary token, so the first positions of a prompt have their own rows.
public struct TableModel: TreeScorer, Sendable {
    /// Upper bound on table entries, so a typo in `vocabularySize` or `order` fails clearly
    /// instead of allocating gigabytes.
    public static let maximumEntries = 1 << 24

    /// Number of tokens.
    public let vocabularySize: Int
    /// The n of the n-gram: logits depend on the last `order − 1` tokens.
    public let order: Int
    /// `(vocabularySize + 1)^(order − 1)` rows of `vocabularySize` logits.
    public let logits: [Float]

    /// A table with explicit logits.
    /// - Parameters:
    ///   - vocabularySize: number of tokens, ≥ 2.
    ///   - order: the n of the n-gram, ≥ 1.
    ///   - logits: `(vocabularySize + 1)^(order − 1) · vocabularySize` finite logits.
    /// - Throws: `OperatorError.invalidParameter` for sizes out of range or a table of the wrong size.
    public init(vocabularySize: Int, order: Int, logits: [Float]) throws {
        let rows = try TableModel.rowCount(vocabularySize: vocabularySize, order: order)
        guard logits.count == rows * vocabularySize, logits.allSatisfy(\.isFinite) else {
            throw OperatorError(.invalidParameter, at: "logits", "expected \(rows * vocabularySize) finite logits, got \(logits.count)")
        }
        self.vocabularySize = vocabularySize
        self.order = order
        self.logits = logits
    }

    /// A table of independent normal logits with standard deviation `scale`.
    /// - Parameters:
    ///   - vocabularySize: number of tokens, ≥ 2.
    ///   - order: the n of the n-gram, ≥ 1.
    ///   - seed: the `Xoshiro256StarStar` seed.
    ///   - scale: standard deviation of the logits; larger makes distributions peakier.
    /// - Throws: as `init(vocabularySize:order:logits:)`.
    public init(vocabularySize: Int, order: Int, seed: UInt64, scale: Float) throws {
        let rows = try TableModel.rowCount(vocabularySize: vocabularySize, order: order)
        var rng = Xoshiro256StarStar(seed: seed)
        try self.init(vocabularySize: vocabularySize, order: order,
                      logits: TableModel.normals(count: rows * vocabularySize, scale: scale, using: &rng))
    }

    /// A correlated model: these logits plus independent normal noise, the usual test drafter
    /// (a draft model that agrees with the target often but not always).
    /// - Parameters:
    ///   - seed: the noise seed.
    ///   - noise: standard deviation of the added noise.
    /// - Returns: a table of the same shape.
    public func perturbed(seed: UInt64, noise: Float) -> TableModel {
        var rng = Xoshiro256StarStar(seed: seed)
        let extra = TableModel.normals(count: logits.count, scale: noise, using: &rng)
        // Same shape, finite entries: the initializer cannot fail.
        return try! TableModel(vocabularySize: vocabularySize, order: order, logits: zip(logits, extra).map(+))
    }

    /// The next-token logits after `context`.
    /// - Parameter context: tokens, each in `0..<vocabularySize`.
    /// - Returns: `vocabularySize` logits.
    /// - Throws: `OperatorError.unscorableContext` for a token outside the vocabulary.
    public func logits(after context: some BidirectionalCollection<Int32>) throws -> [Float] {
        let suffix = context.suffix(order - 1)
        var row = 0
        for _ in suffix.count..<(order - 1) { row = row * (vocabularySize + 1) + vocabularySize }  // start symbols
        for token in suffix {
            guard token >= 0, Int(token) < vocabularySize else {
                throw OperatorError(.unscorableContext, at: "context", "token \(token) is outside the vocabulary of \(vocabularySize)")
            }
            row = row * (vocabularySize + 1) + Int(token)
        }
        return Array(logits[(row * vocabularySize)..<((row + 1) * vocabularySize)])
    }

    /// Logits for the root and every node of `tree`.
    /// - Parameters:
    ///   - context: the committed tokens.
    ///   - tree: proposed continuations.
    /// - Returns: `tree.count + 1` rows.
    /// - Throws: `OperatorError.unscorableContext` for a token outside the vocabulary.
    public func score(context: [Int32], tree: TokenTree) throws -> [[Float]] {
        var rows = [try logits(after: context)]
        for i in 0..<tree.count { rows.append(try logits(after: context + tree.tokens(to: i))) }
        return rows
    }

    /// `(vocabularySize + 1)^(order − 1)`, checked against `maximumEntries`.
    private static func rowCount(vocabularySize: Int, order: Int) throws -> Int {
        try OperatorError.require("vocabulary_size", vocabularySize, in: 2...maximumEntries, "in 2...\(maximumEntries)")
        try OperatorError.require("order", order, in: 1..., "≥ 1")
        var rows = 1
        for _ in 1..<order {
            rows *= vocabularySize + 1
            guard rows * vocabularySize <= maximumEntries else {
                throw OperatorError(.invalidParameter, at: "order", "a \(order)-gram table over \(vocabularySize) tokens exceeds \(maximumEntries) entries")
            }
        }
        return rows
    }

    /// Normal variates by the Box–Muller transform (two uniform draws per pair).
    private static func normals<R: RandomNumberGenerator>(count: Int, scale: Float, using rng: inout R) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(count + 1)
        while out.count < count {
            let u1 = 1 - Distribution.unitDouble(using: &rng)  // (0, 1]: log stays finite
            let u2 = Distribution.unitDouble(using: &rng)
            let radius = (-2 * Foundation.log(u1)).squareRoot()
            out.append(Float(radius * cos(2 * .pi * u2)) * scale)
            out.append(Float(radius * sin(2 * .pi * u2)) * scale)
        }
        return Array(out.prefix(count))
    }
}
