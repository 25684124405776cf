extension CommandSpec {
    /// `decograph bench …`: speed measurements, each printing ratios measured in one run.
    static let bench = CommandSpec(
        "bench", abstract: "Measure speed (and, for extraction, valid outputs); prints ratios measured in one run.",
        subcommands: [.benchRuntime, .benchPrefill, .benchKernels, .benchTokenizer, .benchStore, .benchSuffixArray, .benchConstraints, .benchGraphs, .benchAcceptance, .benchExtraction, .benchServe])
}
