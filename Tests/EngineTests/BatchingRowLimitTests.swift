import Foundation
import Kernels
import ModelRuntime
import Synchronization
import Testing
@testable import Engine

/// Concurrent callers share a pass only while it stays within the rows whose results do not
/// depend on one another, so each caller's logits are bitwise those of its items run alone.
@Suite struct BatchingRowLimitTests {
    @Test func sharedPassesStayRowIndependentAndMatchCallersRunAlone() throws {
        let resources = ResourceRegistry(pool: ComputePool(threadCount: 1))
        let service = try resources.model(at: DemoGraphs.repository + "/models/demo-target")
        let limit = service.model.rowIndependentPassTokens
        #expect(limit == MatMul.streamingRowLimit)  // f32 weights
        let callers = 8
        let prompts: [[Int32]] = (0..<callers).map { c in
            (0..<12).map { (i: Int) -> Int32 in Int32((c * 37 + i * 11) % 500 + 10) }
        }
        @Sendable func run(_ tokens: [Int32]) throws -> [Float] {
            try service.forward(batch: [ForwardItem(sequence: service.model.makeSequence(), tokens: tokens)], layers: nil)[0].values
        }
        let alone = try prompts.map(run)
        // A long prefill runs first (alone: it is bigger than the limit); the callers arrive while
        // it runs and queue, so the next leader finds all of them waiting.
        let long: [Int32] = (0..<400).map { (i: Int) -> Int32 in Int32(i % 300 + 5) }
        let together = Mutex<[Int: [Float]]>([:])
        let finished = DispatchSemaphore(value: 0)
        // Threads of their own: Dispatch's pool would start the waiting callers only gradually.
        Thread {
            _ = try? run(long)
            finished.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.002)
        for c in 0..<callers {
            Thread {
                if let values = try? run(prompts[c]) { together.withLock { $0[c] = values } }
                finished.signal()
            }.start()
        }
        for _ in 0...callers { finished.wait() }
        let results = together.withLock { $0 }
        for c in 0..<callers {
            let identical = results[c] == alone[c]
            #expect(identical, "caller \(c)'s logits differ from its items run alone")
        }
        // Callers met in passes, and no shared pass went past the limit (8 × 12 = 96 rows queued).
        #expect(service.largestSharedPass > prompts[0].count)
        #expect(service.largestSharedPass <= limit)
    }
}
