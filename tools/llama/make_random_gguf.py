#!/usr/bin/env python3
"""Writes a random-weight Llama GGUF of a standard shape in BF16, for speed comparisons.

The default is TinyLlama-1.1B's shape (hidden 2048, 22 layers, 32 query / 4 key-value heads,
intermediate 5632, vocabulary 32000, untied output). Weights are seeded normal(0, 0.02) rounded to
bf16, norms are ones: the numbers mean nothing, only the shapes and byte counts matter, which is
all a decode or prefill timing reads. tools/llama/side_by_side.sh quantizes the file with
llama-quantize (Q8_0, Q4_0, Q4_1, Q4_K_M), so both engines read the same bytes.

The vocabulary is a placeholder SentencePiece-style list (<unk>, <s>, </s>, the 256 byte tokens,
then "t{i}"): llama.cpp wants a tokenizer model and byte tokens to load a file; neither engine
tokenizes text in a benchmark.

Tensors are streamed to the file one at a time (about 2.2 GB for the default shape, peak memory a
few hundred MB).

    pip install gguf==0.19.0 numpy
    python3 tools/llama/make_random_gguf.py OUT.gguf [--layers 22 --hidden 2048 ...]
"""
import argparse

import numpy as np
import gguf

T = gguf.GGMLQuantizationType
# Standard deviation of the random weights: the usual initializer scale of Llama-family models,
# so activations stay finite through the layers (the values are otherwise irrelevant).
WEIGHT_STD = 0.02
SEED = 20261206


def bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 → bf16 bit patterns, rounded to nearest even (finite inputs)."""
    bits = x.astype(np.float32).view(np.uint32)
    rounded = bits + 0x7FFF + ((bits >> 16) & 1)
    return (rounded >> 16).astype(np.uint16)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--hidden", type=int, default=2048)
    p.add_argument("--layers", type=int, default=22)
    p.add_argument("--heads", type=int, default=32)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--intermediate", type=int, default=5632)
    p.add_argument("--vocab", type=int, default=32000)
    p.add_argument("--context", type=int, default=2048)
    p.add_argument("--name", default="random TinyLlama-1.1B shape")
    a = p.parse_args()
    head_dim = a.hidden // a.heads
    kv = a.kv_heads * head_dim
    rng = np.random.default_rng(SEED)

    matrices = [("token_embd.weight", (a.vocab, a.hidden))]
    for i in range(a.layers):
        b = f"blk.{i}."
        matrices += [(b + "attn_q.weight", (a.hidden, a.hidden)), (b + "attn_k.weight", (kv, a.hidden)),
                     (b + "attn_v.weight", (kv, a.hidden)), (b + "attn_output.weight", (a.hidden, a.hidden)),
                     (b + "ffn_gate.weight", (a.intermediate, a.hidden)), (b + "ffn_up.weight", (a.intermediate, a.hidden)),
                     (b + "ffn_down.weight", (a.hidden, a.intermediate))]
    matrices.append(("output.weight", (a.vocab, a.hidden)))
    norms = [f"blk.{i}.{n}.weight" for i in range(a.layers) for n in ("attn_norm", "ffn_norm")] + ["output_norm.weight"]

    w = gguf.GGUFWriter(a.out, "llama")
    w.add_name(a.name)
    w.add_context_length(a.context)
    w.add_embedding_length(a.hidden)
    w.add_block_count(a.layers)
    w.add_feed_forward_length(a.intermediate)
    w.add_head_count(a.heads)
    w.add_head_count_kv(a.kv_heads)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(a.vocab)
    w.add_file_type(int(gguf.LlamaFileType.MOSTLY_BF16))
    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tokens = specials + byte_tokens + [f"t{i}" for i in range(a.vocab - len(specials) - len(byte_tokens))]
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * len(specials + byte_tokens) + [-float(i) for i in range(a.vocab - len(specials) - len(byte_tokens))])
    w.add_token_types([int(gguf.TokenType.UNKNOWN), int(gguf.TokenType.CONTROL), int(gguf.TokenType.CONTROL)]
                      + [int(gguf.TokenType.BYTE)] * 256 + [int(gguf.TokenType.NORMAL)] * (a.vocab - 259))
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)

    for name, shape in matrices:
        w.add_tensor_info(name, shape, np.dtype(np.uint16), shape[0] * shape[1] * 2, raw_dtype=T.BF16)
    for name in norms:
        w.add_tensor_info(name, (a.hidden,), np.dtype(np.float32), a.hidden * 4)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for name, shape in matrices:
        w.write_tensor_data(bf16_bits(rng.standard_normal(shape, dtype=np.float32) * WEIGHT_STD))
    for _ in norms:
        w.write_tensor_data(np.ones(a.hidden, dtype=np.float32))
    w.close()
    print(a.out)


if __name__ == "__main__":
    main()
