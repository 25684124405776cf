import Graph
import Testing
@testable import Operators

@Suite struct OperatorRegistryTests {
    @Test func specsAreConsistent() {
        #expect(OperatorRegistry.all.validate() == [])
    }

    @Test func everyOpHasOneImplementation() {
        let names = OperatorRegistry.all.names
        #expect(Set(names).count == names.count)
        for name in names { #expect(OperatorRegistry.operatorType(named: name)?.spec.name == name) }
        #expect(OperatorRegistry.operatorType(named: "draft.ngarm") == nil)
    }
}
