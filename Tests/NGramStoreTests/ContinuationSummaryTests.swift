import Testing
@testable import NGramStore

@Suite struct ContinuationSummaryTests {
    /// The Misra–Gries guarantees, checked against exact counts on skewed random streams: every
    /// item with share above 1/(k+1) is kept, and no count is over, or more than total/(k+1) under.
    @Test(arguments: [(1, 8), (2, 4), (3, 8), (4, 2)])
    func misraGriesGuarantees(seed: UInt64, k: Int) {
        var stream = TokenStream(seed: seed)
        var summary = ContinuationSummary()
        var exact: [TokenRun: UInt32] = [:]
        for _ in 0..<3000 {
            // Skewed: token 0 about 30 %, token 1 about 15 %, the rest spread over 40 ids.
            let r = stream.next(vocabulary: 100)
            let token: Int32 = r < 30 ? 0 : r < 45 ? 1 : 2 + stream.next(vocabulary: 40)
            let second = stream.next(vocabulary: 3)
            summary.record(run(token, second), countersPerDepth: k)
            exact[run(token), default: 0] += 1
            exact[run(token, second), default: 0] += 1
        }
        summary.prune(countersPerDepth: k)
        #expect(summary.total == 3000)
        let bound = Double(summary.total) / Double(k + 1)
        for (tokens, count) in exact {
            let kept = summary.count(of: tokens)
            #expect(kept <= count)
            #expect(Double(count - kept) <= bound)
            if Double(count) > bound { #expect(kept > 0, "\(tokens) with \(count) lost") }
        }
        for depth in 1...2 { #expect(summary.entries.filter { $0.tokens.count == depth }.count <= k) }
    }

    @Test func mergeOfSplitStreamKeepsGuarantees() {
        var stream = TokenStream(seed: 9)
        var a = ContinuationSummary(), b = ContinuationSummary()
        var exact: [Int32: UInt32] = [:]
        for i in 0..<2000 {
            let r = stream.next(vocabulary: 10)
            let token: Int32 = r < 4 ? 5 : stream.next(vocabulary: 50)
            exact[token, default: 0] += 1
            if i % 3 == 0 { a.record(run(token), countersPerDepth: 4) } else { b.record(run(token), countersPerDepth: 4) }
        }
        a.merge(b, countersPerDepth: 4)
        #expect(a.total == 2000)
        let bound = 2000.0 / 5
        for (token, count) in exact {
            #expect(a.count(of: run(token)) <= count)
            #expect(Double(count - a.count(of: run(token))) <= bound)
        }
        #expect(a.count(of: run(5)) > 0)
    }
}
