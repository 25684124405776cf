import Foundation
import NGramStore

extension CommandSpec {
    /// `decograph store …`: build, merge, inspect and evaluate n-gram stores.
    static let store = CommandSpec(
        "store", abstract: "Build, merge, inspect and evaluate retrieval stores (LMDB n-gram stores, suffix arrays).",
        discussion: """
        A store counts, for every context of 1…N tokens, the continuations that followed it; the
        draft.ngram op proposes from it; a suffix-array store (build --format suffix-array) keeps
        the corpus itself and matches contexts of any length up to its longest. The other
        subcommands tell the two apart by the file's magic. Inputs are text files encoded with
        --tokenizer DIR, or,
        without a tokenizer, token-id files: one text per line, decimal ids separated by spaces.
        Format: docs/ngram-store.md.
        """,
        subcommands: [.storeBuild, .storeMerge, .storeStats, .storeQuery, .storeSimulate])

    static let storeBuild = CommandSpec(
        "build", abstract: "Count the n-grams of token-id files into a store (created or extended).",
        discussion: """
        A directory is walked recursively, leaving out hidden entries and links to directories;
        files under it that are binary (a NUL byte in the first 8 KiB) or, with --tokenizer, not
        valid UTF-8 are skipped and counted on stderr. A file named on the command line is always
        read. The corpus is counted in sorted runs within --memory and written into a new file
        renamed over the output when complete: a killed build leaves the output as it was. When
        other processes have the output open, the records are added in transactions instead;
        --compact is refused while any has it open (docs/ngram-store.md).
        """,
        options: [
            .value("out", short: "o", "S.lmdb", help: "The store file to create or extend (a suffix-array store is replaced)."),
            .value("format", "KIND", help: "lmdb (default): counts, extended by later builds and runs; suffix-array: the corpus and its suffix array, read-only, for exact long matches."),
            .value("tokenizer", "PATH", help: "Model directory with tokenizer.json, or a GGUF file: inputs are text files."),
            .value("fingerprint", "TEXT", help: "Without --tokenizer: the vocabulary fingerprint to record; inputs are token-id files."),
            .value("context-length", "N", help: "Longest context counted (default 4; a suffix array's longest match, default 16, at most 64)."),
            .value("continuation-length", "M", help: "Longest continuation counted after a context (default 4)."),
            .value("counters", "K", help: "Continuation counters kept per depth (default 8)."),
            .value("memory", "SIZE", help: "Memory for counting (bytes, or with K, M, G; default 512M): the corpus is counted in sorted runs of that size, spilled beside the output and merged."),
            .value("tmp-dir", "DIR", help: "Where sorted runs are spilled (default: beside the output)."),
            .value("singleton-budget", "N|all", help: "Keep at most N contexts seen once, shortest first (default: one per two tokens the store holds; 'all' for a store that goes on learning)."),
            .value("batch-contexts", "N", help: "Distinct contexts per write transaction when the output is open in another process and is added to in transactions (default \(StoreLearner.defaultBatchContexts))."),
            .value("min-total", "N", help: "Leave out contexts seen fewer than N times (for a read-only store; default 1 keeps all)."),
            .flag("compact", help: "Rewrite the file without free pages at the end; refused, naming them, while other processes have it open."),
        ] + inputFileOptions,
        positionals: [PositionalSpec("FILES", variadic: true, help: "Text (or token-id) files, or directories of them.")],
        body: { args, context in try StoreCommand.build(args, context) })

    /// Which files under a directory argument are read (`PathFilter`).
    static let inputFileOptions: [OptionSpec] = [
        .value("include", "GLOB", repeatable: true,
               help: "Under a directory, read only files matching GLOB (gitignore-style, relative to the directory: *, ?, [...], **; a glob without '/' matches at any depth)."),
        .value("exclude", "GLOB", repeatable: true,
               help: "Under a directory, skip files and directories matching GLOB (wins over --include)."),
    ]

    static let storeMerge = CommandSpec(
        "merge", abstract: "Add the records of stores into one store.",
        options: [.value("out", short: "o", "C.lmdb", help: "The store to create or extend (same tokenizer and parameters)."),
                  .flag("compact", help: "Write the output without free pages.")],
        positionals: [PositionalSpec("STORES", variadic: true, help: "The stores to merge (A B …).")],
        body: { args, context in try StoreCommand.merge(args, context) })

    static let storeStats = CommandSpec(
        "stats", abstract: "Show a store's sizes, entry counts and most frequent contexts.",
        options: [.flag("json", help: "Print JSON."),
                  .value("top", "K", help: "Most frequent contexts listed per length (default 5).")],
        positionals: [PositionalSpec("STORE", help: "The store.")],
        body: { args, context in try StoreCommand.stats(args, context) })

    static let storeQuery = CommandSpec(
        "query", abstract: "Show what followed a context, and the tree the store would draft.",
        options: [.value("ids", "IDS", help: "The context as token ids (\"1 2 3\")."),
                  .value("text", "TEXT", help: "The context as text (needs --tokenizer)."),
                  .value("tokenizer", "PATH", help: "Model directory with tokenizer.json, or a GGUF file (checked against the store)."),
                  .value("max-tokens", "N", help: "Draft tree budget (default 8)."),
                  .flag("json", help: "Print JSON.")],
        positionals: [PositionalSpec("STORE", help: "The store.")],
        body: { args, context in try StoreCommand.query(args, context) })

    static let storeSimulate = CommandSpec(
        "simulate", abstract: "Replay held-out texts without a model: acceptance of context-only vs context + store drafts.",
        discussion: """
        At each step the drafter proposes a tree for the text so far; a greedy verifier would accept
        the longest path that matches the text, and the step advances by it plus one token. Reports
        tokens per step (MAT) and acceptance, for tuning the gates (like llama.cpp's lookup-stats).
        """,
        options: [.value("tokenizer", "PATH", help: "Model directory with tokenizer.json, or a GGUF file: inputs are text files."),
                  .value("max-tokens", "N", help: "Draft tree budget (default 8)."),
                  .value("prompt", "N", help: "Tokens of each text given as its prompt (default 1)."),
                  .value("store-min-samples", "N", help: "Override the store tier's minimum samples (all lengths)."),
                  .value("store-min-share", "X", help: "Override the store tier's minimum share, 0…1 (all lengths)."),
                  .flag("json", help: "Print JSON.")] + inputFileOptions,
        positionals: [PositionalSpec("STORE", help: "The store."),
                      PositionalSpec("FILES", variadic: true, help: "Held-out text (or token-id) files or directories.")],
        body: { args, context in try StoreCommand.simulate(args, context) })
}

/// The bodies of the `store` subcommands.
enum StoreCommand {
    static func merge(_ args: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        let out = try args.required("out")
        let paths = args.positionals
        let resolvedOut = URL(fileURLWithPath: out).standardizedFileURL.path
        if paths.contains(where: { URL(fileURLWithPath: $0).standardizedFileURL.path == resolvedOut }) {
            throw UsageError("The output '\(out)' is also an input; merge into a new store.", usage: args.usageLine)
        }
        if paths.contains(where: SuffixArrayStore.isSuffixArray(at:)) { return try mergeSuffixArrays(args, context) }
        do {
            var sources: [NGramStore] = []
            for path in paths where !sources.contains(where: { $0.path == path }) {
                sources.append(try NGramStore.open(at: path, tokenizerFingerprint: nil, options: .init(readOnly: true)))
            }
            // A store named twice is merged twice (its counts doubled), from one handle.
            let inputs = paths.map { path in sources.first { $0.path == path }! }
            try NGramStore.merge(inputs, into: out, compacting: args.flag("compact")) { path, records in
                context.progress("\(path): \(records) records")
            }
            context.endProgress()
        }
        let stats = try NGramStore.open(at: out, tokenizerFingerprint: nil, options: .init(readOnly: true)).statistics(top: 0)
        context.print("\(out): \(stats.contextsByLength.reduce(0, +)) contexts, \(stats.tokensLearned) tokens, \(stats.fileBytes) bytes")
        return 0
    }

    static func stats(_ args: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        let path = args.positionals[0]
        if SuffixArrayStore.isSuffixArray(at: path) { return try suffixArrayStats(args, context) }
        let store = try NGramStore.open(at: path, tokenizerFingerprint: nil, options: .init(readOnly: true))
        let stats = try store.statistics(top: try args.int("top", in: 0...1000) ?? 5)
        if args.flag("json") {
            context.print(try json(stats))
            return 0
        }
        let p = stats.metadata.parameters
        context.print("store:          \(path)")
        context.print("format:         \(stats.metadata.magic) v\(stats.metadata.formatVersion), tokenizer \(stats.metadata.tokenizerFingerprint)")
        context.print("parameters:     contexts 1…\(p.contextLength), continuations up to \(p.continuationLength), \(p.countersPerDepth) counters per depth")
        context.print("tokens learned: \(stats.tokensLearned)")
        context.print("file:           \(stats.fileBytes) bytes (\(format(stats.bytesPerToken, 1)) bytes/token), map \(stats.mapBytes) bytes, B-tree depth \(stats.treeDepth)")
        context.print("records:        \(stats.contextsByLength.reduce(0, +)) contexts, \(stats.entries) continuation entries, \(stats.recordBytes) bytes of keys and values")
        for (i, count) in stats.contextsByLength.enumerated() {
            context.print("  length \(i + 1): \(count) contexts")
            for t in stats.topContexts[i] {
                let next = t.next.map { "next \($0) ×\(t.nextCount)" } ?? "no next token"
                context.print("    [\(t.tokens.map(String.init).joined(separator: " "))] ×\(t.total), \(next)")
            }
        }
        return 0
    }

    /// What `store query --json` prints.
    struct QueryResult: Codable {
        struct Level: Codable {
            var context: [Int32]
            var total: UInt32
            var continuations: [Continuation]
        }
        struct Continuation: Codable {
            var tokens: [Int32]
            var count: UInt32
        }
        struct Node: Codable {
            var token: Int32
            var parent: Int
            var count: UInt32
            var share: Double
        }
        var levels: [Level]
        var draft: [Node]
    }

    static func query(_ args: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        let inputs = try StoreInputs.from(args)
        let ids: [Int32]
        switch (args.value("ids"), args.value("text"), inputs.tokenizer) {
        case (let given?, nil, _): ids = try TokenIDFiles.parseIDs(given, option: "ids")
        case (nil, let text?, let tokenizer?): ids = tokenizer.encode(text, addSpecialTokens: false)
        case (nil, _?, nil): throw UsageError("'--text' needs '--tokenizer DIR'.", usage: args.usageLine)
        case (_?, _?, _): throw UsageError("Give '--ids' or '--text', not both.", usage: args.usageLine)
        case (nil, nil, _): throw UsageError("Missing expected argument '--ids' (or '--text').", usage: args.usageLine)
        }
        guard !ids.isEmpty else { throw UsageError("The context has no tokens.", usage: args.usageLine) }
        let store = try RetrievalStores.open(at: args.positionals[0], tokenizerFingerprint: inputs.tokenizer?.vocabularyFingerprint)
        func show(_ tokens: [Int32]) -> String {
            tokens.map { id in inputs.tokenizer?.tokenString(id).map { "\(id):\(String(reflecting: $0))" } ?? String(id) }
                .joined(separator: " ")
        }
        var drafter = NGramDrafter(maxTokens: try args.int("max-tokens", in: 1...1024) ?? 8,
                                   maxDepth: store.continuationLength)
        drafter.usesPromptLookup = false
        let result = try store.withContinuationIndex { txn -> QueryResult in
            var levels: [QueryResult.Level] = []
            for n in stride(from: min(txn.longestContext, ids.count), through: 1, by: -1) {
                let ctx = Array(ids.suffix(n))
                guard let summary = try txn.continuations(of: ctx[...]) else { continue }
                levels.append(.init(context: ctx, total: summary.total,
                                    continuations: summary.entries.map { .init(tokens: Array($0.tokens), count: $0.count) }))
            }
            // The store tier alone: prompt lookup would only search the query itself.
            let tree = try drafter.draft(context: ids, store: txn)
            let nodes = (0..<tree.count).map {
                QueryResult.Node(token: tree.tokens[$0], parent: tree.parents[$0], count: tree.counts[$0], share: tree.shares[$0])
            }
            return QueryResult(levels: levels, draft: nodes)
        }
        if args.flag("json") {
            context.print(try json(result))
            return 0
        }
        if result.levels.isEmpty { context.print("no suffix of [\(show(ids))] is in the store") }
        for level in result.levels {
            context.print("[\(show(level.context))] ×\(level.total)")
            for c in level.continuations {
                context.print("  → \(show(c.tokens))  ×\(c.count) (\(format(100 * Double(c.count) / Double(max(level.total, 1)), 1)) %)")
            }
        }
        context.print("draft (\(result.draft.count) nodes, store gates):")
        for (i, node) in result.draft.enumerated() {
            context.print("  \(i): \(show([node.token])) ← \(node.parent)  ×\(node.count) (\(format(100 * node.share, 1)) %)")
        }
        return 0
    }

    /// What `store simulate --json` prints: one row per drafter configuration.
    struct SimulationRow: Codable {
        var drafter: String
        var texts: Int
        var steps: Int
        var tokens: Int
        var drafted: Int
        var accepted: Int
        var tokensPerStep: Double
        var acceptanceRate: Double
        var acceptedFromContext: Int
        var acceptedFromStore: Int
    }

    static func simulate(_ args: ParsedArguments, _ context: CommandContext) throws -> Int32 {
        guard args.positionals.count >= 2 else {
            throw UsageError("Missing expected argument 'FILES'.", usage: args.usageLine)
        }
        let inputs = try StoreInputs.from(args)
        let store = try RetrievalStores.open(at: args.positionals[0], tokenizerFingerprint: inputs.tokenizer?.vocabularyFingerprint)
        var drafter = NGramDrafter(maxTokens: try args.int("max-tokens", in: 1...1024) ?? 8,
                                   maxDepth: store.continuationLength,
                                   contextLength: store.countParameters.contextLength)
        if let samples = try args.int("store-min-samples", in: 1...Int(Int32.max)) {
            drafter.storeGates.minSamples = [samples]
        }
        if let share = try args.double("store-min-share") {
            guard (0...1).contains(share) else { throw UsageError("'--store-min-share' must be within 0…1.", usage: args.usageLine) }
            drafter.storeGates.minShare = [share]
        }
        let prompt = try args.int("prompt", in: 1...Int.max) ?? 1
        let files = try TokenIDFiles.expand(Array(args.positionals.dropFirst()), filter: try PathFilter.from(args))
        var contextOnly = AcceptanceSimulation(), withStore = AcceptanceSimulation()
        var texts = 0
        var skipped = StoreInputs.Skipped()
        try store.withContinuationIndex { txn in
            for (i, file) in files.enumerated() {
                if let reason = inputs.skip(file) {
                    skipped.add(file.path, reason)
                    continue
                }
                try inputs.forEachText(in: file.path) { text in
                    guard text.count > prompt else { return }
                    try contextOnly.replay(text, prompt: prompt, drafter: drafter)
                    try withStore.replay(text, prompt: prompt, drafter: drafter, store: txn)
                    texts += 1
                }
                context.progress("[\(i + 1)/\(files.count)] \(withStore.tokens) tokens")
            }
        }
        context.endProgress()
        skipped.report(context)
        func row(_ name: String, _ s: AcceptanceSimulation) -> SimulationRow {
            SimulationRow(drafter: name, texts: texts, steps: s.steps, tokens: s.tokens, drafted: s.drafted, accepted: s.accepted,
                          tokensPerStep: s.tokensPerStep, acceptanceRate: s.acceptanceRate,
                          acceptedFromContext: s.acceptedBySource[.context] ?? 0, acceptedFromStore: s.acceptedBySource[.store] ?? 0)
        }
        let rows = [row("context", contextOnly), row("context+store", withStore)]
        if args.flag("json") {
            context.print(try json(rows))
            return 0
        }
        context.print("drafter         texts    tokens     steps   drafted  accepted  accept%  tokens/step")
        for r in rows {
            context.print(r.drafter.padded(to: 14) + String(r.texts).leftPadded(7) + String(r.tokens).leftPadded(10)
                          + String(r.steps).leftPadded(10) + String(r.drafted).leftPadded(10) + String(r.accepted).leftPadded(10)
                          + format(100 * r.acceptanceRate, 1).leftPadded(9) + format(r.tokensPerStep, 3).leftPadded(13))
        }
        if contextOnly.tokensPerStep > 0 {
            context.print("speed-up bound (tokens/step ratio, context+store over context): \(format(withStore.tokensPerStep / contextOnly.tokensPerStep, 3))×")
        }
        return 0
    }

    /// The token texts of input files and directories (`StoreInputs`), skipping binary and
    /// non-UTF-8 files found under a directory (noted on stderr) as `simulate` does.
    /// - Throws: `CommandFailure` located in a named file that is malformed.
    static func texts(of paths: [String], _ inputs: StoreInputs, _ args: ParsedArguments,
                      _ context: CommandContext) throws -> [[Int32]] {
        var texts: [[Int32]] = []
        var skipped = StoreInputs.Skipped()
        for file in try TokenIDFiles.expand(paths, filter: try PathFilter.from(args)) {
            if let reason = inputs.skip(file) {
                skipped.add(file.path, reason)
                continue
            }
            try inputs.forEachText(in: file.path) { texts.append($0) }
        }
        skipped.report(context)
        return texts
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
