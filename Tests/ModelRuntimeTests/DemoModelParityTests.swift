import Testing
import Foundation
import Kernels
@testable import ModelRuntime

/// The shipped demo models (models/demo-target, models/demo-draft, trained by tools/train) against
/// transformers' logits on held-out prompts (Tests/Fixtures/demo, written by
/// tools/train/make_demo_fixture.py): ties the runtime to the real trained weights.
@Suite struct DemoModelParityTests {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: Fixtures.root)
        url.deleteLastPathComponent()
        url.deleteLastPathComponent()
        return url.path
    }()

    static let shippedModels: [String] = ["demo-target", "demo-draft"].filter {
        FileManager.default.fileExists(atPath: repositoryRoot + "/models/\($0)/model.safetensors")
    }

    @Test(arguments: shippedModels)
    func logitsMatchTransformers(_ name: String) throws {
        let fixture = Fixtures.root + "/demo/" + name
        #expect(FileManager.default.fileExists(atPath: fixture + "/expected.safetensors"),
                "models/\(name) is shipped, so Tests/Fixtures/demo/\(name) must hold its transformers logits (tools/train/make_demo_fixture.py)")
        guard FileManager.default.fileExists(atPath: fixture + "/expected.safetensors") else { return }
        let model = try Model(directory: Self.repositoryRoot + "/models/" + name, kvCacheBytes: 32 << 20,
                              pool: ComputePool(threadCount: 2))
        let sequences = try Fixtures.sequences(fixture)
        #expect(!sequences.isEmpty)
        for s in sequences {
            let out = try model.forward([ForwardItem(sequence: model.makeSequence(), tokens: s.tokens)])[0]
            for i in 0..<out.rows {
                let e = relativeError(out.row(i), s.logits[i])
                #expect(e <= ModelParityTests.tolerance, "\(name) position \(i): relative error \(e)")
            }
        }
    }
}
