import Testing
@testable import Graph

/// How an output inherits properties from the nodes feeding its propagated ports.
@Suite struct OutputSpecTests {
    let q = PortProperty.draftProbabilities, d = PortProperty.deterministic, x = PortProperty(rawValue: "exactDraft")

    @Test func passingOnKeepsWhatEverySourceHas() {
        let merge = OutputSpec(.tokenTree, propagates: ["from"], doc: "")
        #expect(merge.inherited(from: [[q, x], [d, x]]) == [x])
        #expect(merge.inherited(from: [[q, x]]) == [q, x])
        #expect(merge.inherited(from: []) == [])
    }

    @Test func addingNodesKeepsOnlyWhatTheyHaveToo() {
        // A drafter appending deterministic nodes to another's tree.
        let lengthen = OutputSpec(.tokenTree, propagates: ["tree"], adds: [d, x], doc: "")
        #expect(lengthen.inherited(from: [[q, x]]) == [x], "appended one-hot nodes do not carry q")
        #expect(lengthen.inherited(from: [[d, x]]) == [d, x])
        #expect(lengthen.inherited(from: [[q]]) == [], "an inexact input stays inexact")
        #expect(lengthen.inherited(from: []) == [d, x], "alone, its nodes are all there is")
        #expect(OutputSpec(.tokenTree, propagates: ["tree"], adds: [], doc: "").inherited(from: [[d, x]]) == [])
    }
}
