import Testing
@testable import NGramStore

@Suite struct TokenRunTests {
    @Test func holdsAnyInt32AndDropsLastCleanly() {
        let ids: [Int32] = [Int32.min, -1, 0, 7, Int32.max]
        let r = TokenRun(ids)
        #expect(Array(r) == ids)
        // A run shortened in place equals (and hashes like) one built short: unused lanes are zero.
        let shortened = r.droppingLast
        let built = TokenRun(ids.dropLast())
        #expect(shortened == built)
        #expect(shortened.hashValue == built.hashValue)
        #expect(built.isPrefix(of: r) && !r.isPrefix(of: built))
    }

    @Test(arguments: [
        ([1, 2] as [Int32], [1, 2, 0] as [Int32], true),   // shorter first
        ([2], [1, 0], true),
        ([1, 3], [1, 2], false),
        ([-1], [5], false),                                 // ids compare as unsigned, like the keys
    ])
    func ordersLikeTheStoreKeys(a: [Int32], b: [Int32], less: Bool) {
        #expect((TokenRun(a) < TokenRun(b)) == less)
    }
}
