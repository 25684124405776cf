import Foundation
import NGramStore

extension StoreCommand {
    /// Threads that encode text at once: the machine's cores (counting runs between rounds).
    static var encodingThreads: Int { ProcessInfo.processInfo.activeProcessorCount }

    static func build(_ args: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        if try buildFormat(args) == .suffixArray { return try buildSuffixArray(args, context) }
        let out = try args.required("out")
        let inputs = try StoreInputs.from(args)
        let fingerprint = try buildFingerprint(args, inputs)
        let defaults = NGramParameters()
        let parameters = NGramParameters(
            contextLength: try args.int("context-length", in: 1...TokenRun.capacity) ?? defaults.contextLength,
            continuationLength: try args.int("continuation-length", in: 1...TokenRun.capacity) ?? defaults.continuationLength,
            countersPerDepth: try args.int("counters", in: 1...255) ?? defaults.countersPerDepth)
        var options = StoreBuilder.Options(
            memoryBytes: try args.byteSize("memory", minimum: minimumBuildMemory) ?? StoreBuilder.defaultMemoryBytes,
            temporaryDirectory: args.value("tmp-dir"),
            minimumTotal: UInt32(try args.int("min-total", in: 1...Int(UInt32.max)) ?? 1),
            singletonBudget: try singletonBudget(args))
        options.batchContexts = try args.int("batch-contexts", in: 1...Int.max) ?? StoreLearner.defaultBatchContexts
        options.onRecordWritten = { written in
            if written % writingProgressRecords == 0 { context.progress("writing \(out): \(written) records") }
        }
        let files = try TokenIDFiles.expand(args.positionals, filter: try PathFilter.from(args))
        let start = Date()
        var texts = 0
        var skipped = StoreInputs.Skipped()
        let builder: StoreBuilder
        do {
            builder = try StoreBuilder(path: out, tokenizerFingerprint: fingerprint, parameters: parameters, options: options)
        } catch let error as NGramStoreError {
            throw CommandFailure("\(error)")
        }
        // Progress by input bytes read, for the ETA; shown only on a terminal.
        let totalBytes = files.reduce(0) { $0 + fileSize($1.path) }
        var bytesDone = 0
        func showProgress(_ i: Int) {
            let seconds = max(Date().timeIntervalSince(start), 1e-9)
            let rate = Double(builder.tokensAdded) / seconds
            let eta = bytesDone > 0 ? seconds * Double(totalBytes - bytesDone) / Double(bytesDone) : 0
            context.progress("[\(i + 1)/\(files.count)] \(builder.tokensAdded) tokens, \(format(rate / 1e6, 2)) M tokens/s, \(100 * bytesDone / max(totalBytes, 1)) % of \(totalBytes) bytes, ETA \(Int(eta.rounded())) s")
        }
        let add: ([Int32]) throws -> Void = { text in
            try builder.add(text)
            texts += 1
        }
        let encoder = inputs.tokenizer.map { StoreInputs.ParallelEncoder(tokenizer: $0, threads: encodingThreads) }
        for (i, file) in files.enumerated() {
            if let reason = inputs.skip(file) {
                skipped.add(file.path, reason)
                continue
            }
            if let encoder {
                try StoreInputs.forEachRawText(in: file.path) { try encoder.add($0, add) }
            } else {
                try inputs.forEachText(in: file.path, add)
            }
            bytesDone += fileSize(file.path)
            showProgress(i)
        }
        try encoder?.flush(add)
        context.progress("\(builder.tokensAdded) tokens counted; sorting the last run and writing \(out)")
        let summary: StoreBuilder.Summary
        do {
            summary = try builder.finish()
        } catch let error as NGramStoreError {
            throw CommandFailure("\(error)")
        }
        context.endProgress()
        skipped.report(context)
        let seconds = Date().timeIntervalSince(start)
        if summary.addedInTransactions {
            context.printError("\(out): note: the store is open in another process, so the records were added to it in transactions")
        }
        if summary.pruned > 0 {
            context.print(options.minimumTotal > 1
                          ? "\(out): removed \(summary.pruned) contexts seen fewer than \(options.minimumTotal) times"
                          : "\(out): removed \(summary.pruned) contexts seen once beyond the singleton budget (--singleton-budget all keeps them)")
        }
        if args.flag("compact") {
            do {
                try NGramStore.compact(at: out)
            } catch let error as NGramStoreError {
                throw CommandFailure("\(error)\n\(out): note: the \(summary.tokens) tokens learned are committed; only the compaction was not done")
            }
        }
        // LMDB's counters, not a scan of every record (`store stats` does that).
        let (records, tokensInAll) = try NGramStore.open(at: out, tokenizerFingerprint: nil, options: .init(readOnly: true)).recordCount()
        let bytes = fileSize(out)
        let learnedFiles = files.count - skipped.binary.count - skipped.notUTF8.count
        context.print("\(out): learned \(summary.tokens) tokens (\(texts) texts, \(learnedFiles) files) in \(format(seconds, 2)) s, \(Int(Double(summary.tokens) / max(seconds, 1e-9))) tokens/s, \(summary.runs) sorted \(summary.runs == 1 ? "run" : "runs")")
        context.print("\(out): \(records) contexts, \(tokensInAll) tokens in all, \(bytes) bytes (\(format(Double(bytes) / Double(max(tokensInAll, 1)), 1)) bytes/token)")
        return 0
    }

    /// `--singleton-budget N|all`: `nil` when absent (the builder's default), `Int.max` for all.
    static func singletonBudget(_ args: ParsedArguments) throws -> Int? {
        guard let text = args.value("singleton-budget") else { return nil }
        if text == "all" { return .max }
        guard let n = Int(text), n >= 0 else {
            throw UsageError("The value '\(text)' is invalid for '--singleton-budget': expected a count of contexts (0 or more) or 'all'.", usage: args.usageLine)
        }
        return n
    }

    /// Records between progress lines while the store is written (a few lines a second).
    static let writingProgressRecords = 1 << 18

    /// The smallest `--memory`: below it runs get so short that their files and the merge cost
    /// more than the counting.
    static let minimumBuildMemory = 16 << 20

    static func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
    }
}
