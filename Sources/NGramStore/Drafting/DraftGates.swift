/// When a matched context may propose: thresholds indexed by the matched context's length.
///
/// A context must have been seen at least `minSamples` times, and each proposed token must have
/// followed its parent in at least `minShare` of the parent's occurrences (the conditional
/// share, as llama.cpp gates each drafted token of a chain). The presets are llama.cpp's lookup
/// thresholds (`common/ngram-cache.cpp`, `draft_min_sample_size_*` and `draft_min_percent_*`,
/// for n-gram sizes 1…4); a longer context than 4 reuses the value for 4.
public struct DraftGates: Sendable, Equatable {
    /// Minimum occurrences of the matched context (and of a parent before its children are
    /// proposed), for context lengths 1, 2, 3, ….
    public var minSamples: [Int]
    /// Minimum conditional share of a proposed token, for context lengths 1, 2, 3, ….
    public var minShare: [Double]

    /// Creates gates.
    /// - Parameters:
    ///   - minSamples: per context length, starting at length 1 (at least one value).
    ///   - minShare: per context length, starting at length 1 (at least one value), in 0…1.
    public init(minSamples: [Int], minShare: [Double]) {
        precondition(!minSamples.isEmpty && !minShare.isEmpty, "gates need at least one value")
        self.minSamples = minSamples
        self.minShare = minShare
    }

    /// llama.cpp's "lax" gates, used there for the context cache: a repeat within the current
    /// text is strong evidence by itself.
    public static let lax = DraftGates(minSamples: [2, 2, 1, 1], minShare: [0.66, 0.50, 0.50, 0.50])
    /// llama.cpp's "strict" gates, used there for the dynamic cache of earlier generations, and
    /// here also for the persistent store: text seen elsewhere needs more evidence.
    public static let strict = DraftGates(minSamples: [4, 3, 2, 2], minShare: [0.75, 0.66, 0.66, 0.66])

    func samples(forContextLength n: Int) -> Int { minSamples[min(n, minSamples.count) - 1] }
    func share(forContextLength n: Int) -> Double { minShare[min(n, minShare.count) - 1] }
}
