import Testing
@testable import Operators

/// Every path that picks a token from a row refuses a row it cannot pick from: a NaN or `+inf`
/// entry (which `>` never beats, so argmax used to return token 0), or every token masked.
@Suite struct NonFiniteRowTests {
    static let rows: [(row: [Float], message: String)] = [
        ([0.5, .nan, 1], "logit nan at token 1"),
        ([.nan, .nan], "logit nan at token 0"),
        ([0, .infinity], "logit inf at token 1"),
        ([-.infinity, -.infinity], "every token is masked"),
        ([], "the row is empty"),
    ]

    @Test(arguments: rows)
    func argmaxRefusesRowsItCannotPickFrom(_ row: [Float], _ message: String) {
        #expect { try Distribution.argmax(row) } throws: { ($0 as? OperatorError)?.message.contains(message) == true }
    }

    @Test(arguments: rows.filter { !$0.row.isEmpty })
    func greedySelectionRefusesThem(_ row: [Float], _ message: String) throws {
        let pipeline = try LogitsPipeline(.greedy)
        var rng = Xoshiro256StarStar(seed: 1)
        #expect { try pipeline.select(row, context: LogitsContext(tokens: [1], promptCount: 1), using: &rng) } throws: {
            ($0 as? OperatorError)?.message.contains(message) == true
        }
    }

    @Test func greedyVerifierNamesThePosition() throws {
        var tree = TokenTree()
        try tree.append(1, parent: -1, source: "test")
        #expect { try GreedyVerifier.verify(tree: tree, rows: [[0, 1], [.nan, 0]]) } throws: {
            ($0 as? OperatorError)?.location == "position 1"
        }
    }

    /// Greedy selection skips NaN-free rows' `-inf` entries as before.
    @Test func maskedTokensAreSkipped() throws {
        #expect(try Distribution.argmax([-.infinity, -3, -.infinity, -1]) == 3)
    }
}
