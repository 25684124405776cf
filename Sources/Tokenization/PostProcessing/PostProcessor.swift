/// A post-processor of `tokenizer.json`: adds the special tokens around an encoded sequence
/// (only single sequences are encoded here; pair templates are read but not used).
indirect enum PostProcessor: Sendable {
    /// Ids before and after the sequence.
    case surround(prefix: [Int32], suffix: [Int32])
    /// Leaves ids as they are (ByteLevel only trims offsets, which we do not produce).
    case identity
    case sequence([PostProcessor])

    init(json: JSONValue) throws {
        let type = try json.typeName()
        switch type {
        case "ByteLevel":
            self = .identity
        case "TemplateProcessing":
            let specials = try json.required("special_tokens")
            var prefix: [Int32] = [], suffix: [Int32] = []
            var seenSequence = false
            for item in try json.required("single").array() {
                if let special = try item.member("SpecialToken") {
                    let name = try special.string("id")
                    guard let entry = try specials.member(name) else {
                        throw special.error("special token '\(name)' is not listed in special_tokens")
                    }
                    let ids = try entry.required("ids").array().map { v -> Int32 in
                        let id = try v.int()
                        guard id >= 0, id < Int(Int32.max) else { throw v.error("token id out of range") }
                        return Int32(id)
                    }
                    if seenSequence { suffix += ids } else { prefix += ids }
                } else if let seq = try item.member("Sequence") {
                    guard try seq.string("id") == "A" else { throw seq.error("a single-sequence template may only use $A") }
                    seenSequence = true
                } else {
                    throw item.error("expected {\"SpecialToken\": …} or {\"Sequence\": …}")
                }
            }
            self = .surround(prefix: prefix, suffix: suffix)
        case "BertProcessing", "RobertaProcessing":
            func token(_ key: String) throws -> Int32 {
                let pair = try json.required(key).array()
                guard pair.count == 2 else { throw try json.required(key).error("expected [token, id]") }
                return Int32(try pair[1].int())
            }
            self = .surround(prefix: [try token("cls")], suffix: [try token("sep")])
        case "Sequence":
            self = .sequence(try json.required("processors").array().map { try PostProcessor(json: $0) })
        default:
            throw json.unsupported("post-processor", type)
        }
    }

    /// The ids added before and after a single sequence.
    var surroundings: (prefix: [Int32], suffix: [Int32]) {
        switch self {
        case .surround(let p, let s): return (p, s)
        case .identity: return ([], [])
        case .sequence(let steps):
            var prefix: [Int32] = [], suffix: [Int32] = []
            for s in steps {
                let (p, q) = s.surroundings
                prefix = p + prefix
                suffix += q
            }
            return (prefix, suffix)
        }
    }
}
