import Foundation
@testable import NGramStore

/// A fresh directory for one test's store files, removed when the value is released.
final class TemporaryDirectory {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ngram-store-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A deterministic pseudo-random token stream (an LCG; the tests need repeatability, not quality).
struct TokenStream {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }
    mutating func next(vocabulary: Int) -> Int32 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int32(truncatingIfNeeded: (state >> 33) % UInt64(vocabulary))
    }
    mutating func tokens(_ count: Int, vocabulary: Int) -> [Int32] { (0..<count).map { _ in next(vocabulary: vocabulary) } }
}

func run(_ tokens: Int32...) -> TokenRun { TokenRun(tokens) }
