// A child process for NGramStoreTests' durability tests: writes numbered batches into a store,
// printing "committed <b>" after each commit, until it is killed or reaches its batch limit.
//
//   NGramStoreTestHelper write STORE BATCHES TOKENS_PER_BATCH
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

let args = CommandLine.arguments
guard args.count == 5, args[1] == "write", let batches = Int(args[3]), let length = Int(args[4]) else {
    FileHandle.standardError.write("usage: NGramStoreTestHelper write STORE BATCHES TOKENS_PER_BATCH\n".data(using: .utf8)!)
    exit(64)
}
do {
    let store = try NGramStore.create(at: args[2], tokenizerFingerprint: "helper-fingerprint",
                                      options: .init())
    var learner = StoreLearner(store: store, batchContexts: Int.max)
    for b in 0..<batches {
        try learner.learn(tokens: batchText(b, length: length))
        try learner.flush()
        // Unbuffered, so the parent sees the line as soon as the commit returned.
        FileHandle.standardOutput.write("committed \(b)\n".data(using: .utf8)!)
    }
} catch {
    FileHandle.standardError.write("\(error)\n".data(using: .utf8)!)
    exit(1)
}
