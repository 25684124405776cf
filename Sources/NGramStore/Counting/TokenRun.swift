/// A short run of token ids held inline (no heap allocation): an n-gram context or a continuation.
///
/// Runs are at most `TokenRun.capacity` tokens long, which keeps keys and continuations in one
/// 32-byte SIMD value so that counting a corpus allocates nothing per token.
public struct TokenRun: Hashable, Sendable, RandomAccessCollection, CustomStringConvertible {
    /// The longest run that fits inline; contexts and continuations are limited to it.
    public static let capacity = 8

    var lanes: SIMD8<UInt32>
    /// Number of tokens in the run.
    public private(set) var count: Int

    /// The empty run.
    public init() {
        lanes = .zero
        count = 0
    }

    /// Creates a run from token ids.
    /// - Parameter tokens: at most `TokenRun.capacity` ids (the caller checks the length).
    public init<C: Collection>(_ tokens: C) where C.Element == Int32 {
        precondition(tokens.count <= Self.capacity, "TokenRun holds at most \(Self.capacity) tokens")
        lanes = .zero
        count = 0
        for t in tokens { append(t) }
    }

    /// Appends a token.
    /// - Parameter token: the id; the run must not be full.
    public mutating func append(_ token: Int32) {
        lanes[count] = UInt32(bitPattern: token)
        count += 1
    }

    /// The run without its last token.
    var droppingLast: TokenRun {
        var r = self
        r.count -= 1
        r.lanes[r.count] = 0
        return r
    }

    /// Whether `self` is a proper or equal prefix of `other`.
    func isPrefix(of other: TokenRun) -> Bool {
        guard count <= other.count else { return false }
        for i in 0..<count where lanes[i] != other.lanes[i] { return false }
        return true
    }

    public static func == (a: TokenRun, b: TokenRun) -> Bool { a.count == b.count && a.lanes == b.lanes }

    /// Hashes the 32 bytes of the lanes at once (unused lanes are zero), not lane by lane.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        withUnsafeBytes(of: lanes) { hasher.combine(bytes: $0) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> Int32 { Int32(bitPattern: lanes[position]) }

    public var description: String { "[" + map(String.init).joined(separator: " ") + "]" }
}

extension TokenRun: Comparable {
    /// Shorter runs first, then lexicographic by unsigned id: the order of the store's keys.
    public static func < (a: TokenRun, b: TokenRun) -> Bool {
        if a.count != b.count { return a.count < b.count }
        for i in 0..<a.count where a.lanes[i] != b.lanes[i] { return a.lanes[i] < b.lanes[i] }
        return false
    }
}
