// A child process for NGramStoreTests' durability and concurrency tests: writes numbered batches
// into a store, printing "committed <b>" after each commit, until it is killed or reaches its
// batch limit; or holds a store open, as a run with `store.learn` or a reader does, until told to
// go on (see `usage`).
import Foundation
import NGramStore

/// The text of batch `b`: the marker context [marker, b] then a pseudo-random filler, so the
/// parent can check for each committed batch that its marker record is there.
func batchText(_ b: Int, length: Int) -> [Int32] {
    var state = UInt64(b) &* 0x9E37_79B9_7F4A_7C15 &+ 1
    var text: [Int32] = [1_000_000, Int32(b)]
    while text.count < length {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        text.append(Int32(truncatingIfNeeded: (state >> 33) % 5000))
    }
    return text
}

func say(_ line: String) {
    // Unbuffered, so the parent sees the line at once.
    FileHandle.standardOutput.write((line + "\n").data(using: .utf8)!)
}

/// Waits for the parent to write a line (or close the pipe).
func waitForParent() { _ = readLine() }

let usage = """
    usage: NGramStoreTestHelper write STORE BATCHES TOKENS_PER_BATCH
           NGramStoreTestHelper learn STORE TOKENS     open writable, say "open", wait for a line, learn, say "committed"
           NGramStoreTestHelper read STORE             open read-only, say "open", wait for a line, say "tokens N"
           NGramStoreTestHelper create STORE           create a store, say "created" (or exit 1 with the error)
           NGramStoreTestHelper build STORE TEXTS      build (StoreBuilder) TEXTS batch texts into STORE, say
                                                       "writing" after 1 000 records and wait for a line (to be killed)

    """
let args = CommandLine.arguments
do {
    switch (args.count, args.count > 1 ? args[1] : "") {
    case (5, "write"):
        guard let batches = Int(args[3]), let length = Int(args[4]) else { break }
        let store = try NGramStore.create(at: args[2], tokenizerFingerprint: "helper-fingerprint", options: .init())
        var learner = StoreLearner(store: store, batchContexts: Int.max)
        for b in 0..<batches {
            try learner.learn(tokens: batchText(b, length: length))
            try learner.flush()
            say("committed \(b)")
        }
        exit(0)
    case (4, "learn"):
        // What `decograph run` with `store.learn` does: the store is open for the whole run,
        // and the run's text is written at its end.
        guard let length = Int(args[3]) else { break }
        let store = try NGramStore.create(at: args[2], tokenizerFingerprint: "helper-fingerprint")
        say("open")
        waitForParent()
        var learner = StoreLearner(store: store)
        try learner.learn(tokens: batchText(Int(getpid()), length: length))
        try learner.flush()
        say("committed")
        exit(0)
    case (4, "build"):
        guard let texts = Int(args[3]) else { break }
        var options = StoreBuilder.Options()
        options.singletonBudget = .max
        options.onRecordWritten = { written in
            if written == 1000 {
                say("writing")
                waitForParent()
            }
        }
        let builder = try StoreBuilder(path: args[2], tokenizerFingerprint: "helper-fingerprint", options: options)
        for b in 0..<texts { try builder.add(batchText(b, length: 500)) }
        _ = try builder.finish()
        say("built")
        exit(0)
    case (3, "read"):
        let store = try NGramStore.open(at: args[2], tokenizerFingerprint: nil, options: .init(readOnly: true))
        say("open")
        waitForParent()
        say("tokens \(try store.withReadTransaction { $0.tokensLearned })")
        exit(0)
    case (3, "create"):
        _ = try NGramStore.create(at: args[2], tokenizerFingerprint: "helper-fingerprint")
        say("created")
        exit(0)
    default:
        break
    }
} catch {
    FileHandle.standardError.write("\(error)\n".data(using: .utf8)!)
    exit(1)
}
FileHandle.standardError.write(usage.data(using: .utf8)!)
exit(64)
