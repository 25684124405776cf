import Dispatch
import ModelRuntime
import Operators
import Synchronization

/// A model's forward service shared by every session of the process: concurrent callers' items
/// meet in one `Model.forward` call, so the weights stream from memory once for all of them.
///
/// Combining, leader/follower: a caller queues its item; if no pass is running it becomes the
/// leader, takes every queued item (its own included) and runs them as one pass. Callers that
/// arrive meanwhile wait on their own semaphore; when the pass ends the leader fulfils its batch
/// and, if more items queued, promotes the first waiter to lead the next pass. A waiter thus waits
/// only for a pass already running on another thread — never for Dispatch work still queued — so
/// no Dispatch worker can deadlock on the pool, and each caller runs at most one pass. Items that
/// run different layers (a self-speculative draft beside the target's verification) cannot share
/// a pass: the leader runs one pass per layer selection in its batch.
public final class BatchingForwardService: ForwardService, Sendable {
    /// The model.
    public let model: Model

    private final class Request: @unchecked Sendable {
        let items: [ForwardItem]
        let layers: LayerSelection
        /// Set by the leader before `done` is signalled; read by the owner after the wait.
        var result: Result<[Logits], any Error>?
        let done = DispatchSemaphore(value: 0)
        init(_ items: [ForwardItem], layers: LayerSelection) {
            self.items = items
            self.layers = layers
        }
    }

    private struct State {
        var pending: [Request] = []
        var leaderActive = false
        var passes = 0
        var items = 0
        /// The most new tokens one pass has held.
        var largestPass = 0
    }

    /// The queue and counters; held only to enqueue, take a batch, or hand leadership over.
    private let state = Mutex(State())

    /// Wraps a model.
    /// - Parameter model: the model.
    public init(model: Model) { self.model = model }

    /// Forward passes run and items served so far (items / passes is the mean batch).
    public var counters: (passes: Int, items: Int) { state.withLock { ($0.passes, $0.items) } }

    /// The most new tokens a pass of several callers has held (a lone caller's pass may hold more).
    public var largestSharedPass: Int { state.withLock { $0.largestPass } }

    /// Runs a caller's items (a session's whole frontier, or one hypothesis's), batched with
    /// whatever other callers queued meanwhile.
    /// - Parameters:
    ///   - items: sequences and their new tokens, each sequence once.
    ///   - layers: the layers to run; `nil` runs every layer.
    /// - Returns: the items' logits.
    /// - Throws: the model's error (a failing pass fails every item in it).
    public func forward(batch items: [ForwardItem], layers: LayerSelection?) throws -> [Logits] {
        let request = Request(items, layers: layers ?? .all(model.config.layerCount))
        let leads = state.withLock { s -> Bool in
            s.pending.append(request)
            if s.leaderActive { return false }
            s.leaderActive = true
            return true
        }
        if !leads {
            request.done.wait()
            // Woken without a result: promoted to lead the next pass.
            if let result = request.result { return try result.get() }
        }
        let rowLimit = model.rowIndependentPassTokens
        let batch = state.withLock { s -> [Request] in
            // Callers join the pass in arrival order while the pass stays within the rows whose
            // results do not depend on one another, so a caller's logits are bitwise those of its
            // items run alone (a server's streams equal the same requests run one at a time). A
            // caller bigger than that (a prefill) runs alone, as it would without company.
            var rows = 0
            var taken = 0
            for r in s.pending {
                let own = r.items.reduce(0) { $0 + $1.tokens.count }
                if taken > 0 && rows + own > rowLimit { break }
                rows += own
                taken += 1
            }
            let b = Array(s.pending.prefix(taken))
            s.pending.removeFirst(taken)
            if taken > 1 { s.largestPass = max(s.largestPass, rows) }
            s.items += b.reduce(0) { $0 + $1.items.count }
            return b
        }
        var mine: Result<[Logits], any Error> = .success([])
        var selections: [LayerSelection] = []
        for r in batch where !selections.contains(r.layers) { selections.append(r.layers) }
        // One pass per layer selection in the batch.
        state.withLock { $0.passes += selections.count }
        for selection in selections {
            let group = batch.filter { $0.layers == selection }
            let outcome = Result { try model.forward(group.flatMap(\.items), layers: selection) }
            var offset = 0
            for r in group {
                let range = offset..<(offset + r.items.count)
                offset += r.items.count
                let share = outcome.map { Array($0[range]) }
                if r === request {
                    mine = share
                } else {
                    r.result = share
                    r.done.signal()
                }
            }
        }
        let next = state.withLock { s -> Request? in
            guard let first = s.pending.first else {
                s.leaderActive = false
                return nil
            }
            return first
        }
        next?.done.signal()
        return try mine.get()
    }
}
