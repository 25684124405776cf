import Testing
@testable import ModelRuntime

/// Last hidden states (`ForwardItem.states`): returned for the rows asked, independent of the
/// logits asked (up to the attention kernel a row with logits takes), of how a long input is cut
/// into passes, and of the batch around them. Their
/// values are checked against transformers through contrastive search (`ContrastiveSearchTests`).
@Suite struct HiddenStateTests {
    typealias Oracle = LayerSelectionTests

    @Test func statesAreTheRowsAsked() throws {
        let model = try Oracle.model()
        let H = model.config.hiddenSize
        let all = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: Oracle.prompt, outputs: .none, states: .all)])[0]
        #expect(all.rows == 0 && all.stateRows == Oracle.prompt.count && all.states.count == Oracle.prompt.count * H)
        let last = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: Oracle.prompt, outputs: .last, states: .last)])[0]
        #expect(last.rows == 1 && last.stateRows == 1)
        // The same row, through the per-token attention kernel (its logits are returned) rather
        // than the tiled one: equal up to the kernels' summation order.
        let drift = zip(last.state(0), all.state(Oracle.prompt.count - 1)).map { abs($0 - $1) }.max()!
        #expect(drift < 1e-4, "\(drift)")
        // Cut into passes of 3 tokens, and batched with another sequence: the same rows.
        model.passTokens = 3
        let other = ForwardItem(sequence: model.makeSequence(), tokens: [7, 8, 9], outputs: .all, states: .none)
        let cut = try model.forward([other, ForwardItem(sequence: model.makeSequence(), tokens: Oracle.prompt, outputs: .none, states: .all)])
        #expect(cut[0].stateRows == 0 && cut[0].rows == 3)
        #expect(cut[1].states == all.states)
        // A row's state is the same whether or not its logits are computed; states differ by position.
        #expect(all.state(0) != all.state(1))
    }
}
