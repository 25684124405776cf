import Foundation
import Kernels

/// `decograph bench prefill`: prefill speed and peak resident memory by prompt length.
///
/// Each length prefills a fresh sequence once (a prompt through `outputs: .last`, as a session's
/// first call does), after a warm-up pass. Prefill tokens/s falls with length only as attention's
/// own work grows (each token attends to all before it); resident memory should be the weights,
/// the KV cache the prompt fills, and a constant. The ratio printed for each length is its tokens/s
/// over the shortest length's, measured in the same run.
public enum PrefillBenchmark {
    /// One prompt length's figures.
    public struct Row: Sendable {
        /// Prompt tokens.
        public var tokens: Int
        /// Seconds of the prefill.
        public var seconds: Double
        /// tokens / seconds.
        public var tokensPerSecond: Double { Double(tokens) / seconds }
        /// Resident bytes before the prefill (weights touched, earlier caches released).
        public var residentBefore: Int
        /// Peak resident bytes during the prefill.
        public var peakResident: Int
        /// KV-cache bytes the prompt occupies.
        public var kvBytes: Int
        /// KV-cache bytes earlier prompts had already made resident (released blocks keep their
        /// pages, and the pool hands them out again first).
        public var kvResidentBefore: Int
        /// Peak resident growth beyond the KV-cache pages the prompt newly touches: work space.
        public var overhead: Int { peakResident - residentBefore - max(0, kvBytes - kvResidentBefore) }
    }

    /// Measures `lengths` in increasing order on `model` (its KV cache must hold the longest).
    /// - Parameters:
    ///   - model: the model.
    ///   - lengths: prompt lengths.
    ///   - progress: called with a line before each measurement.
    /// - Returns: one row per length.
    /// - Throws: `RuntimeError` when the cache cannot hold a prompt.
    public static func run(model: Model, lengths: [Int], progress: (String) -> Void = { _ in }) throws -> [Row] {
        let vocabulary = Int32(model.config.vocabularySize)
        func prompt(_ n: Int) -> [Int32] { (0..<n).map { Int32(($0 &* 7919 &+ 13) % Int(vocabulary)) } }
        progress("warm-up")
        _ = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: prompt(64), outputs: .last)])
        var rows: [Row] = []
        var kvTouched = 64 * model.cache.bytesPerToken
        for n in lengths.sorted() {
            progress("prefill \(n) tokens")
            let tokens = prompt(n)
            let before = ProcessMemory.resident
            ProcessMemory.resetPeak()
            let sequence = model.makeSequence()
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try model.forward([ForwardItem(sequence: sequence, tokens: tokens, outputs: .last)])
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let kvBytes = sequence.blocks.count * model.cache.bytesPerBlock
            rows.append(Row(tokens: n, seconds: seconds, residentBefore: before, peakResident: ProcessMemory.peak,
                            kvBytes: kvBytes, kvResidentBefore: kvTouched))
            kvTouched = max(kvTouched, kvBytes)
        }
        return rows
    }
}

/// This process's resident memory, from /proc/self/status (Linux).
public enum ProcessMemory {
    /// Resident bytes now (`VmRSS`).
    public static var resident: Int { field("VmRSS") }
    /// Peak resident bytes since the process started or `resetPeak()` (`VmHWM`).
    public static var peak: Int { field("VmHWM") }
    /// Resets the peak to the current resident size (writes 5 to /proc/self/clear_refs).
    public static func resetPeak() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    static func field(_ name: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
        }
        return 0
    }
}
