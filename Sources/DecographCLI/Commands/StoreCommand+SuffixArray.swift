import Foundation
import NGramStore

/// The `store` subcommands on suffix-array stores (`--format suffix-array`; a store file is
/// recognised by its magic): build, merge and stats. `query` and `simulate` read either backend
/// through `RetrievalStores.open`.
extension StoreCommand {
    /// The store kinds `store build --format` writes.
    enum Format: String, CaseIterable {
        case lmdb
        case suffixArray = "suffix-array"
    }

    /// `--format`, LMDB when absent.
    /// - Throws: `UsageError` for another value.
    static func buildFormat(_ args: ParsedArguments) throws -> Format {
        guard let value = args.value("format") else { return .lmdb }
        guard let format = Format(rawValue: value) else {
            throw UsageError("'--format' must be one of \(Format.allCases.map(\.rawValue).joined(separator: ", ")), not '\(value)'.", usage: args.usageLine)
        }
        return format
    }

    /// Options of `store build` that only an LMDB store has.
    static let lmdbOnlyBuildOptions = ["batch-contexts", "min-total", "compact", "memory", "tmp-dir", "singleton-budget"]

    /// `store build --format suffix-array`: collects the corpus in memory, sorts its suffixes and
    /// writes the store through a temporary file (replacing a suffix-array store at `--out`).
    static func buildSuffixArray(_ args: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        if let option = lmdbOnlyBuildOptions.first(where: { args.value($0) != nil || args.flag($0) }) {
            throw UsageError("'--\(option)' applies to LMDB stores, not to '--format suffix-array'.", usage: args.usageLine)
        }
        let out = try args.required("out")
        let inputs = try StoreInputs.from(args)
        let fingerprint = try buildFingerprint(args, inputs)
        let defaults = SuffixArrayParameters()
        let parameters = SuffixArrayParameters(
            longestContext: try args.int("context-length", in: 1...SuffixArrayParameters.maximumLongestContext) ?? defaults.longestContext,
            continuationLength: try args.int("continuation-length", in: 1...TokenRun.capacity) ?? defaults.continuationLength,
            countersPerDepth: try args.int("counters", in: 1...255) ?? defaults.countersPerDepth)
        let files = try TokenIDFiles.expand(args.positionals, filter: try PathFilter.from(args))
        let start = Date()
        var builder = try SuffixArrayBuilder(tokenizerFingerprint: fingerprint, parameters: parameters)
        var skipped = StoreInputs.Skipped()
        var tokens = 0
        for (i, file) in files.enumerated() {
            if let reason = inputs.skip(file) {
                skipped.add(file.path, reason)
                continue
            }
            try inputs.forEachText(in: file.path) { text in
                do {
                    try builder.add(text)
                } catch let error as NGramStoreError {
                    throw CommandFailure("\(file.path): error: \(error.message)")
                }
                tokens += text.count
            }
            context.progress("[\(i + 1)/\(files.count)] \(tokens) tokens")
        }
        context.endProgress()
        skipped.report(context)
        let read = Date().timeIntervalSince(start)
        context.progress("sorting the suffixes of \(builder.tokenCount) tokens")
        let header = try builder.write(to: out)
        context.endProgress()
        let seconds = Date().timeIntervalSince(start)
        let peak = SuffixArrayBenchmark.peakResidentBytes()
        context.print("\(out): \(tokens) tokens in \(header.documentCount) documents; read and tokenized in \(format(read, 2)) s, sorted and written in \(format(seconds - read, 2)) s (\(Int(Double(header.tokenCount) / max(seconds - read, 1e-9))) tokens/s)")
        context.print("\(out): \(header.fileSize) bytes (\(format(Double(header.fileSize) / Double(max(1, header.tokenCount)), 1)) bytes/token), peak resident \(peak >> 20) MiB")
        return 0
    }

    /// The vocabulary fingerprint a build records: the tokenizer's, or `--fingerprint` for
    /// token-id files.
    static func buildFingerprint(_ args: ParsedArguments, _ inputs: StoreInputs) throws -> String {
        switch (inputs.tokenizer, args.value("fingerprint")) {
        case (let tokenizer?, nil): return tokenizer.vocabularyFingerprint
        case (nil, let given?): return given
        case (_?, _?): throw UsageError("Give '--tokenizer' or '--fingerprint', not both.", usage: args.usageLine)
        case (nil, nil): throw UsageError("Missing expected argument '--tokenizer' (or '--fingerprint' for token-id files).", usage: args.usageLine)
        }
    }

    /// `store merge` of suffix-array stores: their corpora concatenated, documents kept apart, and
    /// the suffixes sorted again. A suffix array and an LMDB store are not merged: the LMDB store
    /// keeps counts, not the text a suffix array indexes, and a suffix array's exact counts would
    /// be squeezed into the LMDB store's bounded records.
    static func mergeSuffixArrays(_ args: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        let out = try args.required("out")
        if args.flag("compact") {
            throw UsageError("'--compact' applies to LMDB stores; a suffix-array store has no free pages.", usage: args.usageLine)
        }
        if let lmdb = args.positionals.first(where: { !SuffixArrayStore.isSuffixArray(at: $0) }) {
            throw CommandFailure("\(lmdb): error: not a suffix-array store, and suffix-array stores merge only with each other: an LMDB store keeps counts, not the corpus a suffix array indexes; build one store of either kind from all the corpora")
        }
        var sources: [SuffixArrayStore] = []
        for path in args.positionals { sources.append(try SuffixArrayStore.open(at: path, tokenizerFingerprint: nil)) }
        let header = try SuffixArrayStore.merge(sources, into: out)
        context.print("\(out): \(header.tokenCount) tokens in \(header.documentCount) documents, \(header.fileSize) bytes")
        return 0
    }

    static func suffixArrayStats(_ args: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        let path = args.positionals[0]
        let stats = try SuffixArrayStore.open(at: path, tokenizerFingerprint: nil).statistics(top: try args.int("top", in: 0...1000) ?? 5)
        if args.flag("json") {
            context.print(try json(stats))
            return 0
        }
        let h = stats.header, p = h.parameters
        context.print("store:          \(path)")
        context.print("format:         suffix array v\(h.formatVersion), tokenizer \(h.tokenizerFingerprint)")
        context.print("parameters:     contexts up to \(p.longestContext), continuations up to \(p.continuationLength), continuations over 1/\(p.countersPerDepth + 1) of a context's occurrences kept")
        context.print("corpus:         \(h.tokenCount) tokens (separators included) in \(h.documentCount) documents, \(stats.distinctTokens) distinct ids")
        context.print("file:           \(stats.fileBytes) bytes (\(format(stats.bytesPerToken, 1)) bytes/token)")
        for t in stats.topTokens { context.print("  [\(t.token)] ×\(t.count)") }
        return 0
    }
}
