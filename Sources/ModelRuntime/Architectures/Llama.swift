/// Llama 1/2/3 (incl. Llama-3 `rope_type: llama3`): optional `attention_bias` on q/k/v/o and
/// `mlp_bias`, full attention in every layer.
enum Llama: Architecture {
    static let modelTypes = ["llama"]

    static func configure(_ config: inout ModelConfig, json: ConfigReader) throws {
        let attentionBias = try json.bool("attention_bias", default: false)
        config.qkvBias = attentionBias
        config.outputBias = attentionBias
        config.mlpBias = try json.bool("mlp_bias", default: false)
    }
}
