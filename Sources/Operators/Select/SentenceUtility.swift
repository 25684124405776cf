import Foundation

/// How alike a hypothesis is to a reference, in [0, 1]: the utilities minimum-Bayes-risk decoding
/// maximises in expectation over the candidates (Freitag et al. 2022; Fernandes et al. 2022).
/// chrF and BLEU follow sacrebleu 2.x's sentence-level defaults (checked against it by
/// `tools/oracle/make_utility_fixtures.py`), divided by 100.
public enum SentenceUtility: String, Sendable, CaseIterable {
    /// chrF2: character 1- to 6-gram F-score with β = 2, whitespace removed (sacrebleu `CHRF()`).
    case chrf
    /// Sentence BLEU: 1- to 4-gram precisions with the 13a tokenizer, exponential smoothing and
    /// effective order (sacrebleu `sentence_bleu`).
    case bleu
    /// 1 − Levenshtein distance over token ids / the longer length (1 for two empty sequences).
    case edit

    /// One side of a comparison, with what the utility needs precomputed.
    public struct Prepared: Sendable {
        /// The token ids (edit distance).
        let tokens: [Int32]
        /// Character n-gram counts of orders 1...6 (chrF), or word n-gram counts of orders 1...4
        /// with the word count (BLEU).
        let ngrams: [[String: Int]]
        /// Words after tokenisation (BLEU's length).
        let length: Int
    }

    /// Precomputes what comparing `text` needs.
    /// - Parameters:
    ///   - text: the candidate's text.
    ///   - tokens: the candidate's token ids.
    /// - Returns: the prepared side.
    public func prepare(text: String, tokens: [Int32]) -> Prepared {
        switch self {
        case .chrf:
            let characters = Array(text.unicodeScalars.filter { !Self.isPythonWhitespace($0) }.map { String($0) })
            return Prepared(tokens: tokens, ngrams: (1...6).map { Self.counts(characters, order: $0, separator: "") }, length: characters.count)
        case .bleu:
            let words = Self.tokenize13a(text)
            return Prepared(tokens: tokens, ngrams: (1...4).map { Self.counts(words, order: $0, separator: " ") }, length: words.count)
        case .edit:
            return Prepared(tokens: tokens, ngrams: [], length: tokens.count)
        }
    }

    /// The utility of `hypothesis` against `reference`.
    /// - Parameters:
    ///   - hypothesis: the prepared hypothesis.
    ///   - reference: the prepared reference.
    /// - Returns: a value in [0, 1].
    public func score(_ hypothesis: Prepared, against reference: Prepared) -> Double {
        switch self {
        case .chrf: return Self.chrF(hypothesis, reference)
        case .bleu: return Self.bleu(hypothesis, reference)
        case .edit:
            let longest = max(hypothesis.tokens.count, reference.tokens.count)
            guard longest > 0 else { return 1 }
            return 1 - Double(Self.levenshtein(hypothesis.tokens, reference.tokens)) / Double(longest)
        }
    }

    /// sacrebleu's chrF with its default (non-eps) smoothing: precision and recall averaged over
    /// the orders both sides have n-grams of, then F-β.
    static func chrF(_ h: Prepared, _ r: Prepared) -> Double {
        let factor = 4.0  // β² with β = 2
        var precision = 0.0, recall = 0.0, orders = 0
        for (hypothesisCounts, referenceCounts) in zip(h.ngrams, r.ngrams) {
            let nHypothesis = hypothesisCounts.values.reduce(0, +), nReference = referenceCounts.values.reduce(0, +)
            guard nHypothesis > 0, nReference > 0 else { continue }
            let matches = matchCount(hypothesisCounts, referenceCounts)
            precision += Double(matches) / Double(nHypothesis)
            recall += Double(matches) / Double(nReference)
            orders += 1
        }
        guard orders > 0 else { return 0 }
        precision /= Double(orders)
        recall /= Double(orders)
        guard precision + recall > 0 else { return 0 }
        return (1 + factor) * precision * recall / (factor * precision + recall)
    }

    /// sacrebleu's sentence BLEU: exponential ("exp", mteval's NIST) smoothing of zero-match
    /// orders, effective order, brevity penalty against the one reference.
    static func bleu(_ h: Prepared, _ r: Prepared) -> Double {
        var brevity = 1.0
        if h.length < r.length { brevity = h.length > 0 ? exp(1 - Double(r.length) / Double(h.length)) : 0 }
        var logSum = 0.0, effectiveOrder = 0, smoothing = 1.0, anyMatch = false
        for n in 1...4 {
            let total = max(0, h.length - n + 1)
            guard total > 0 else { break }
            effectiveOrder = n
            let correct = matchCount(h.ngrams[n - 1], r.ngrams[n - 1])
            if correct > 0 { anyMatch = true }
            let precision: Double
            if correct == 0 {
                smoothing *= 2
                precision = 100 / (smoothing * Double(total))
            } else {
                precision = 100 * Double(correct) / Double(total)
            }
            logSum += log(precision)
        }
        guard anyMatch, effectiveOrder > 0 else { return 0 }
        return brevity * exp(logSum / Double(effectiveOrder)) / 100
    }

    /// Σ over n-grams of min(hypothesis count, reference count).
    static func matchCount(_ a: [String: Int], _ b: [String: Int]) -> Int {
        let (small, large) = a.count <= b.count ? (a, b) : (b, a)
        return small.reduce(0) { $0 + min($1.value, large[$1.key] ?? 0) }
    }

    /// Counts of the `order`-grams of `units`, each joined with `separator`.
    static func counts(_ units: [String], order: Int, separator: String) -> [String: Int] {
        guard units.count >= order else { return [:] }
        var counts: [String: Int] = [:]
        for start in 0 ... units.count - order {
            counts[units[start ..< start + order].joined(separator: separator), default: 0] += 1
        }
        return counts
    }

    /// Edit distance (insertions, deletions, substitutions) in two rows of memory.
    static func levenshtein(_ a: [Int32], _ b: [Int32]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0 ... b.count), current = Array(repeating: 0, count: b.count + 1)
        for i in 1 ... a.count {
            current[0] = i
            for j in 1 ... b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// What Python's `str.split()` splits on.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// mteval-v13a tokenisation as sacrebleu's `Tokenizer13a` does it (after `rstrip`).
    static func tokenize13a(_ text: String) -> [String] {
        var line = String(String.UnicodeScalarView(text.unicodeScalars.reversed().drop(while: isPythonWhitespace).reversed()))
        line = line.replacingOccurrences(of: "<skipped>", with: "").replacingOccurrences(of: "-\n", with: "")
            .replacingOccurrences(of: "\n", with: " ")
        if line.contains("&") {
            line = line.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        }
        line = " \(line) "
        for (pattern, template) in rules13a {
            line = pattern.stringByReplacingMatches(in: line, range: NSRange(line.startIndex..., in: line), withTemplate: template)
        }
        return line.unicodeScalars.split(whereSeparator: isPythonWhitespace).map { String(String.UnicodeScalarView($0)) }
    }

    /// The 13a post-tokeniser's rules, in order: ASCII symbols split off, then periods and commas
    /// unless between digits, then a dash after a digit.
    static let rules13a: [(NSRegularExpression, String)] = [
        (#"([\x{7B}-\x{7E}\x{5B}-\x{60}\x{20}-\x{26}\x{28}-\x{2B}\x{3A}-\x{40}/])"#, " $1 "),
        (#"([^0-9])([.,])"#, "$1 $2 "),
        (#"([.,])([^0-9])"#, " $1 $2"),
        (#"([0-9])(-)"#, "$1 $2 "),
    ].map { (try! NSRegularExpression(pattern: $0.0), $0.1) }
}
