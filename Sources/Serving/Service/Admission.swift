import Foundation

/// How many generations run at once and how many may wait: a request beyond both is refused at
/// once (429 with `Retry-After`) rather than left hanging, and a draining server admits nothing.
///
/// Running generations are threads whose model calls meet in one forward pass per step
/// (`BatchingForwardService`): continuous batching, where a new request joins between the steps
/// of the running ones and a finished one leaves.
final class Admission: @unchecked Sendable {
    /// The answer to a request for a slot.
    enum Outcome { case admitted, queueFull, draining }

    private let condition = NSCondition()
    private var running = 0
    private var waiting = 0
    private var draining = false
    /// Most generations at once.
    let parallel: Int
    /// Most requests waiting for a slot.
    let queue: Int

    init(parallel: Int, queue: Int) {
        self.parallel = parallel
        self.queue = queue
    }

    /// Takes `count` slots at once (a request's choices run together), waiting in line when they
    /// are not free and the line has room.
    /// - Parameter count: slots, at most `parallel`.
    func acquire(_ count: Int = 1) -> Outcome {
        precondition(count >= 1 && count <= parallel, "a request asks for at most the server's parallelism")
        condition.lock()
        defer { condition.unlock() }
        if draining { return .draining }
        if running + count <= parallel {
            running += count
            return .admitted
        }
        guard waiting < queue else { return .queueFull }
        waiting += 1
        while running + count > parallel && !draining { condition.wait() }
        waiting -= 1
        if draining {
            condition.broadcast()
            return .draining
        }
        running += count
        return .admitted
    }

    /// Gives one slot back.
    func release() {
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Admits nothing more; requests waiting in line are refused.
    func startDraining() {
        condition.lock()
        draining = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until no generation runs, or the deadline passes.
    /// - Returns: whether every generation ended.
    func waitUntilIdle(before deadline: Date) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while running > 0 || waiting > 0 {
            if !condition.wait(until: deadline) { return running == 0 && waiting == 0 }
        }
        return true
    }

    /// Running and waiting counts.
    var load: (running: Int, waiting: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (running, waiting)
    }
}

/// Streams whose bytes the connections still hold: a shutdown waits for them to be sent after
/// their generations ended, before it closes the connections.
final class OpenStreams: @unchecked Sendable {
    private let condition = NSCondition()
    private var count = 0

    /// A new stream.
    func opened() {
        condition.lock()
        count += 1
        condition.unlock()
    }

    /// A stream the connection is done with.
    func released() {
        condition.lock()
        count -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until every stream is released, or the deadline passes.
    /// - Returns: whether every stream was released.
    func waitUntilNone(before deadline: Date) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while count > 0 {
            if !condition.wait(until: deadline) { return count == 0 }
        }
        return true
    }
}
