#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Synchronization
import CKernels

/// The threads that run numeric kernels: the calling thread plus `threadCount - 1` workers.
///
/// Who owns the cores: this pool. A model forward pass splits its matrix products and attention
/// over the pool; OpenBLAS is pinned to one thread (see `BLASThreads`) and is called per pool
/// thread on disjoint slices, so BLAS threads and pool threads never oversubscribe. Dispatch
/// workers run graph logic only and call into the model, which then runs on this pool.
///
/// Workers spin briefly after each job (a forward pass issues hundreds of parallel regions, each
/// a few microseconds apart) and then park on a semaphore so an idle process uses no CPU.
/// Callers from several threads (two models of one process) take turns: a job holds the pool
/// until it finishes. A job must not itself call `run`/`parallelFor` on the same pool (that
/// would wait on itself).
public final class ComputePool: @unchecked Sendable {
    /// Number of threads taking part in each job, the caller included.
    public let threadCount: Int
    /// The state the worker threads share. The threads hold it strongly, so a pool released
    /// while a worker is still between jobs never leaves that worker reading freed memory; the
    /// pool's deinit tells the threads to exit.
    private let core: Core

    /// The process-wide pool, one thread per available core.
    public static let shared = ComputePool(threadCount: ProcessInfo.processInfo.activeProcessorCount)

    /// Creates a pool.
    /// - Parameter threadCount: threads per job including the caller (at least 1).
    public init(threadCount: Int) {
        core = Core(threadCount: max(1, threadCount))
        self.threadCount = core.threadCount
    }

    deinit { core.stop() }

    /// Runs `body(t)` once on each of `threadCount` threads (t = 0 on the caller) and returns when
    /// all have finished.
    /// - Parameter body: the work of thread `t`.
    public func run(_ body: (Int) -> Void) { core.run(body) }

    /// Runs `body` over `0..<count` split into chunks that threads claim one at a time, so a
    /// thread slowed by another process on its core simply claims fewer chunks (static halves
    /// would make the whole region wait for it).
    /// - Parameters:
    ///   - count: the number of items.
    ///   - alignment: chunk boundaries are multiples of this (e.g. 4 rows for the 4-row kernel tile).
    ///   - chunksPerThread: target number of chunks per thread; more balances better, fewer
    ///     costs less in claiming. 8 keeps claims under 1 % of a 2048-row bf16 product.
    ///   - work: the region's size in multiply-adds, when known: below `minimumParallelWork` the
    ///     calling thread runs it alone.
    public func parallelFor(count: Int, alignment: Int = 1, chunksPerThread: Int = 8, work: Int = .max,
                            _ body: (Range<Int>) -> Void) {
        if work < Self.minimumParallelWork {
            if count > 0 { body(0..<count) }
            return
        }
        core.parallelFor(count: count, alignment: alignment, chunksPerThread: chunksPerThread, body)
    }

    /// Regions smaller than this many multiply-adds run on the calling thread: ~10 µs of one core's
    /// streaming kernel, where handing half to a second thread saves ~5 µs and costs 1–3 µs when
    /// that thread is spinning, a whole scheduler slice when another process holds its core. The
    /// demo target's products (256 × 256 at M = 1, 65k) stay on one thread; a 135M model's (576 ×
    /// 576, 330k) still split.
    public static let minimumParallelWork = 1 << 17

    /// The part of `0..<count` that part `index` of `parts` handles.
    public static func range(of index: Int, parts: Int, count: Int, alignment: Int) -> Range<Int> {
        guard index < parts else { return count..<count }
        let units = (count + alignment - 1) / alignment
        let lower = min(count, (units * index / parts) * alignment)
        let upper = min(count, (units * (index + 1) / parts) * alignment)
        return lower..<upper
    }
}

/// The pool's shared state and worker loop (see `ComputePool`).
///
/// Two kinds of job. `run` needs every thread (the probes measure all cores together): the caller
/// waits until each worker has run its part. `parallelFor` needs only its chunks done: threads
/// claim chunks from one atomic word that also names the job, and the caller waits for the chunks
/// claimed, never for a worker that has not started — on a busy machine a descheduled worker
/// would otherwise hold every short region for a whole scheduler slice (measured: passes of ~1 ms
/// slowed 12–45× under four competing processes, where fair share is 3×). A worker that wakes
/// late finds the word naming a later job, or no chunk left, and claims nothing.
private final class Core: @unchecked Sendable {
    let threadCount: Int

    /// Job counter << 1 | kind (1: a chunk job). Bumped (release) after the job is published.
    private let generation = Atomic<UInt64>(0)
    /// Workers yet to finish a `run` job.
    private let pending = Atomic<Int>(0)
    /// The current chunk job's claims: job counter (24 bits) | chunk count (20) | next chunk (20).
    private let claims = Atomic<UInt64>(0)
    /// Chunks of the current chunk job finished.
    private let completed = Atomic<Int>(0)
    /// Held for the duration of one job; callers from other threads wait their turn.
    private let turn = Mutex<Void>(())
    private let shutdown = Atomic<Bool>(false)
    /// Parking state of one worker thread.
    private final class Worker: Sendable {
        let sleeping = Atomic<Bool>(false)
        let wakeup = DispatchSemaphore(value: 0)
    }
    private let workers: [Worker]
    // Written by the caller before `generation` (run jobs) or `claims` (chunk jobs) is published
    // (release); read by a worker after it observes that publication (acquire), and for a chunk
    // job only after it has claimed a chunk, which the caller waits to see completed.
    private var job: ((Int) -> Void)?
    private var counter: UInt64 = 0

    /// How long a worker spins for the next job before parking. Measured: consecutive parallel
    /// regions of a decode step are 2–50 µs apart; 20k spins is about 50 µs on this machine.
    static let spinIterations = 20_000
    /// Field widths of `claims`.
    static let chunkBits: UInt64 = 20
    static let chunkMask: UInt64 = (1 << chunkBits) - 1
    static let jobMask: UInt64 = (1 << 24) - 1

    init(threadCount: Int) {
        self.threadCount = threadCount
        workers = (0..<threadCount).map { _ in Worker() }
        for index in 1..<max(1, threadCount) {
            // Strong capture: the thread keeps the core alive until it exits (see `stop`).
            let thread = Thread { self.workerLoop(index) }
            thread.name = "decograph-compute-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Tells the workers to exit once they see it (they then release the core).
    func stop() {
        shutdown.store(true, ordering: .releasing)
        generation.wrappingAdd(2, ordering: .releasing)
        wakeSleepers()
    }

    private func wakeSleepers() {
        for index in 1..<threadCount where workers[index].sleeping.exchange(false, ordering: .acquiringAndReleasing) {
            workers[index].wakeup.signal()
        }
    }

    func run(_ body: (Int) -> Void) {
        if threadCount == 1 {
            body(0)
            return
        }
        turn.withLock { _ in
            withoutActuallyEscaping(body) { escapable in
                job = escapable
                pending.store(threadCount - 1, ordering: .relaxed)
                counter &+= 1
                generation.store(counter << 1, ordering: .releasing)
                wakeSleepers()
                escapable(0)
                while pending.load(ordering: .acquiring) != 0 { spinPause() }
                job = nil
            }
        }
    }

    func parallelFor(count: Int, alignment: Int, chunksPerThread: Int, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let units = (count + alignment - 1) / alignment
        let chunks = min(units, threadCount * chunksPerThread, Int(Self.chunkMask))
        if threadCount == 1 || chunks == 1 {
            body(0..<count)
            return
        }
        turn.withLock { _ in
            withoutActuallyEscaping(body) { escapable in
                job = { c in
                    let r = ComputePool.range(of: c, parts: chunks, count: count, alignment: alignment)
                    if !r.isEmpty { escapable(r) }
                }
                counter &+= 1
                completed.store(0, ordering: .relaxed)
                let tag = counter & Self.jobMask
                claims.store(tag << (2 * Self.chunkBits) | UInt64(chunks) << Self.chunkBits, ordering: .releasing)
                generation.store(counter << 1 | 1, ordering: .releasing)
                wakeSleepers()
                drain(tag: tag)
                while completed.load(ordering: .acquiring) != chunks { spinPause() }
                job = nil
            }
        }
    }

    /// Claims and runs chunks of chunk job `tag` until none is left (or a later job is published).
    private func drain(tag: UInt64) {
        while true {
            let word = claims.load(ordering: .acquiring)
            let next = word & Self.chunkMask, chunks = (word >> Self.chunkBits) & Self.chunkMask
            guard word >> (2 * Self.chunkBits) == tag, next < chunks else { return }
            guard claims.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing).exchanged else { continue }
            job!(Int(next))
            completed.add(1, ordering: .releasing)
        }
    }

    private func workerLoop(_ index: Int) {
        var seen: UInt64 = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < Self.spinIterations {
                    spinPause()
                    continue
                }
                workers[index].sleeping.store(true, ordering: .releasing)
                if generation.load(ordering: .acquiring) != seen {
                    // A job arrived while parking; if the caller already claimed our flag it
                    // signalled (or will), so consume that signal to keep the semaphore balanced.
                    if !workers[index].sleeping.compareExchange(expected: true, desired: false, ordering: .acquiringAndReleasing).exchanged {
                        workers[index].wakeup.wait()
                    }
                    break
                }
                workers[index].wakeup.wait()
                spins = 0
            }
            seen = generation.load(ordering: .acquiring)
            if shutdown.load(ordering: .acquiring) { return }
            if seen & 1 == 1 {
                drain(tag: (seen >> 1) & Self.jobMask)
            } else {
                if let job { job(index) }
                pending.subtract(1, ordering: .releasing)
            }
        }
    }

    @inline(__always) private func spinPause() { dg_cpu_relax() }
}
