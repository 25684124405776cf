/// "Did you mean …?" suggestions, shared by the CLI (options, subcommands) and the graph compiler
/// (ops, parameters, node names).
public enum Suggestion {
    /// Levenshtein distance between two strings, counted over Unicode scalars.
    /// - Parameters:
    ///   - a: one string.
    ///   - b: the other string.
    /// - Returns: the least number of insertions, deletions and substitutions turning `a` into `b`.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let substitution = previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }

    /// The candidate closest to `word`, if it is close enough to be a plausible typo.
    ///
    /// "Close enough" is at most a third of the word's length in edits (at least one), the
    /// threshold swift-argument-parser and rustc use in spirit: a typo, not a different word.
    /// - Parameters:
    ///   - word: what the user wrote.
    ///   - candidates: the valid spellings.
    /// - Returns: the best candidate, or `nil` when none is plausible.
    public static func closest<S: Sequence>(to word: String, among candidates: S) -> String?
    where S.Element == String {
        let limit = max(1, word.count / 3)
        var best: (String, Int)?
        for candidate in candidates where candidate != word {
            let distance = editDistance(word.lowercased(), candidate.lowercased())
            if distance <= limit, distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
        }
        return best?.0
    }
}
