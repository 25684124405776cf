#ifndef DECOGRAPH_CKERNELS_H
#define DECOGRAPH_CKERNELS_H
/*
 * The few SIMD loops Swift cannot express: AVX-512 / AVX2 matrix–vector products over weights
 * kept in their stored precision (f32, f16, bf16), always accumulating in f32, selected at run
 * time by CPU feature with a portable C fallback (and, for bf16 weights in the bf16 activation
 * mode, AVX-512 BF16 dot products); paged attention; and the exponential of the SwiGLU gate and
 * the softmax, whose compares and selects Swift's SIMD types run lane by lane. Everything else
 * numeric lives in Swift (module Kernels).
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Storage precision of a weight matrix. Values match Kernels.DType raw values. From DG_Q8_0 on, the
 * ggml block-quantized formats (quant.c): rows are whole blocks, stored exactly as in a GGUF file. */
enum dg_dtype {
    DG_F32 = 0, DG_F16 = 1, DG_BF16 = 2,
    DG_Q8_0 = 3, DG_Q4_0 = 4, DG_Q4_1 = 5, DG_Q5_0 = 6, DG_Q5_1 = 7, DG_Q4_K = 8, DG_Q6_K = 9, DG_Q5_K = 10
};

/* Instruction-set levels this library can dispatch to. */
enum dg_isa { DG_ISA_PORTABLE = 0, DG_ISA_AVX2 = 1, DG_ISA_AVX512 = 2 };

/* Best level the running CPU supports (cached after the first call). */
int dg_cpu_isa(void);

/*
 * Y[m*ldy + n] = sum_k X[m*ldx + k] * W[n*K + k]   for m in [0, M), n in [n0, n1).
 * W is row-major [N, K] (the Hugging Face nn.Linear layout), stored as `dtype`.
 * Streams each weight row once for all M rows of X: the small-batch (decode / verify) kernel, on
 * instruction set `isa` clamped to what the CPU has (callers pass dg_cpu_isa(); tests compare the
 * paths while other threads multiply).
 */
void dg_matmul_wt_isa(int isa, int dtype, const void *W, size_t K, size_t n0, size_t n1,
                      const float *X, size_t M, size_t ldx, float *Y, size_t ldy);

/*
 * The `bf16` activation mode for bf16 weights: Y[m*ldy + n] = sum_k bf16(X[m*ldx + k]) * W[n*K + k]
 * with each activation rounded to bf16 (nearest even) and f32 accumulation; AVX-512 BF16
 * `vdpbf16ps` where `isa` is AVX-512 and the CPU has it (dg_cpu_has_bf16_dot), else the rounded
 * activations through dg_matmul_wt_isa. Decode and verification give bitwise-identical rows, as
 * with dg_matmul_wt_isa.
 */
void dg_matmul_bf16x_isa(int isa, const uint16_t *W, size_t K, size_t n0, size_t n1,
                         const float *X, size_t M, size_t ldx, float *Y, size_t ldy);
/* Whether the CPU has AVX-512 BF16 (the dot-product path of dg_matmul_bf16x_isa). */
int dg_cpu_has_bf16_dot(void);
/* dst[m*ldd + k] = bf16(src[m*ldx + k]) widened back to f32, for m < M, k < K. */
void dg_round_to_bf16(const float *src, size_t M, size_t ldx, size_t K, float *dst, size_t ldd);

/* dst[i] = (float)src[i] for i in [0, count): widens a stored tensor slice to f32. */
void dg_to_f32(int dtype, const void *src, float *dst, size_t count);
/* Narrowing conversions, round-to-nearest-even (NaN stays NaN). */
void dg_f32_to_bf16(const float *src, uint16_t *dst, size_t count);
void dg_f32_to_f16(const float *src, uint16_t *dst, size_t count);

/* y[i] = e^x[i] (within 2 ulp of expf; +inf above 88.72, 0 below -103.97, NaN stays NaN). */
void dg_exp(const float *x, float *y, size_t count);
void dg_exp_isa(int isa, const float *x, float *y, size_t count);
/* SwiGLU gate: gate[i] = silu(gate[i]) * up[i], silu(z) = z / (1 + e^-z). */
void dg_silu_mul(float *gate, const float *up, size_t count);
void dg_silu_mul_isa(int isa, float *gate, const float *up, size_t count);

/* Attention of one query token for the G query heads sharing key/value head `kv_head` over the
 * cache slots lo, lo+1, …, lo+run-1 followed by `extra[0..<extra_count]` (in that order: a tree
 * token's ancestors among the tokens of its pass): q and out hold the group's G heads of d
 * features contiguously; keys/values are a layer's paged pools ([block][block_size][kv_heads][d],
 * slot s in block table[s / block_size]); scores is scratch of G × (run + extra_count) floats.
 * Scores are scaled by `scale` before the softmax. `isa` is clamped to what the CPU has (AVX-512
 * needs d % 16 == 0, AVX2 d % 8 == 0; otherwise the portable loop). The result depends only on
 * the query and the slots in order (decode ≡ verification, bitwise). */
void dg_attend_isa(int isa, const float *q, size_t G, size_t d, const float *keys, const float *values,
                   const int32_t *table, size_t block_size, size_t kv_heads, size_t kv_head,
                   size_t lo, size_t run, const int32_t *extra, size_t extra_count, float scale, float *out,
                   float *scores);
/* The same for key/value heads kv_head … kv_head + nh − 1 in one sweep over the slots (a slot's
 * rows of consecutive heads are contiguous in the pool, so each is read once): q and out hold the
 * nh groups back to back (nh × G × d floats), scores is scratch of nh × G × min(run +
 * extra_count, DG_ATTEND_CHUNK) floats. Each head's result is bitwise what dg_attend_isa gives it
 * alone.
 *
 * Both are defined chunk by chunk: the visible slots (run, then extra) in chunks of
 * DG_ATTEND_CHUNK, each chunk's softmax against its own maximum (dg_attend_chunk_rows_isa), the chunks
 * merged in order (dg_attend_merge), so that a long context's chunks can run on several threads
 * and still give the row the same bits as one call. */
#define DG_ATTEND_CHUNK 256
#define DG_ATTEND_MAX_HEADS 256
void dg_attend_heads_isa(int isa, const float *q, size_t G, size_t d, const float *keys, const float *values,
                         const int32_t *table, size_t block_size, size_t kv_heads, size_t kv_head, size_t nh,
                         size_t lo, size_t run, const int32_t *extra, size_t extra_count, float scale, float *out,
                         float *scores);
/* Rows of dg_attend_chunk_rows_isa: a query (its nh·G heads of the call's key/value heads, back to
 * back), its visible slots (run from lo, then extra; count in all) and where its chunk results go
 * (acc: nh·G × d floats, m and l: nh·G). */
typedef struct {
    const float *q;
    size_t lo, run;
    const int32_t *extra;
    size_t count;
    float *acc, *m, *l;
} dg_attend_row;
/* One chunk for R rows: each row's visible slots j0 … min(j1, count) − 1 (indices into run then
 * extra, j1 − j0 ≤ DG_ATTEND_CHUNK; rows with count ≤ j0 are left alone). Per query head h of the
 * row's nh·G: m[h] = the chunk's maximum score, l[h] = Σ exp(s − m[h]) and acc[h] = Σ exp(s −
 * m[h])·v over the chunk's slots in order — bitwise what the row gets alone. The rows take turns
 * on each slot, so slots they share are read from memory once. scores: scratch of R × nh·G ×
 * (j1 − j0) floats. */
void dg_attend_chunk_rows_isa(int isa, size_t R, const dg_attend_row *rows, size_t G, size_t d, const float *keys,
                              const float *values, const int32_t *table, size_t block_size, size_t kv_heads,
                              size_t kv_head, size_t nh, size_t j0, size_t j1, float scale, float *scores);
/* out (heads × d) = the chunks' results merged in order: chunk c's acc at acc + c·heads·d, its m
 * and l at m + c·heads, l + c·heads, each weighted by exp(m_c − max m) and the sum normalised. out
 * may be the first chunk's acc when there is one chunk. */
void dg_attend_merge(size_t heads, size_t d, size_t chunks, const float *acc, const float *m, const float *l, float *out);

/* Causal attention of n consecutive query positions first, first+1, …, first+n-1 (whose keys and
 * values are already in the cache) for the G query heads of `kv_head`: query i sees slots
 * max(0, first+i-window+1) … first+i (window 0: from slot 0). Query i's G heads start at
 * q + i*q_stride and are written at out + i*out_stride. Tiles of 16 slots with an online softmax,
 * query rows in vector lanes: work space O(n·G·d), no per-query list of slots.
 * scratch: dg_attend_causal_scratch(first, n, G, d) floats. */
void dg_attend_causal_isa(int isa, const float *q, size_t q_stride, size_t n, size_t G, size_t d,
                          const float *keys, const float *values, const int32_t *table, size_t block_size,
                          size_t kv_heads, size_t kv_head, size_t first, size_t window, float scale, float *out,
                          size_t out_stride, float *scratch);
size_t dg_attend_causal_scratch(size_t first, size_t n, size_t G, size_t d);

/* ---------------------------------------------------------------- block-quantized weights (quant.c)
 *
 * Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 (blocks of 32) and Q4_K, Q5_K, Q6_K (super-blocks of 256), byte for
 * byte as ggml stores them. Products never widen the weights to f32: activations are quantized
 * once per call to int8 blocks of 32 (dg_q8_block) and each 32-element group of a weight row is
 * an integer dot product scaled in f32. */

/* Bytes of one block and elements per block of `dtype` (1 and the element size for f32/f16/bf16). */
size_t dg_block_bytes(int dtype);
size_t dg_block_elements(int dtype);

/* 32 activations quantized symmetrically: x[i] ≈ d·q[i], q in [-127, 127]; s = d·Σq (the term a
 * weight block's minimum multiplies); sum = Σq and half = the sums of q[0…15] and q[16…31] (what
 * the offsets of the symmetric weight types take off in integers). */
typedef struct { float d; float s; int32_t sum; int16_t half[2]; int8_t q[32]; } dg_q8_block;
/* Elements per activation block. */
#define DG_Q8_BLOCK 32

/* XQ[m*(K/32) + b] = the quantized block b of row m of X, for m < M (K a multiple of 32). Round to
 * nearest (half away from zero), scale amax/127: the same on every instruction set. */
void dg_quantize_activations(const float *X, size_t M, size_t ldx, size_t K, dg_q8_block *XQ);
/* The same with an instruction set (portable or AVX2; clamped to the CPU): bitwise equal. */
void dg_quantize_activations_isa(int isa, const float *X, size_t M, size_t ldx, size_t K, dg_q8_block *XQ);

/* The tiled layout the products read: DG_QUANT_TILE_ROWS consecutive rows interleaved block by
 * block, each block field's copies side by side in 4-byte (quants, packed scales) or 2-byte (f16)
 * granules; the last tile padded with zero rows. dg_tiled_bytes: its size for `rows` rows of K
 * columns. dg_tile_rows: tiles t0 … t1-1 of the `rows` rows at src (row layout) into dst (a
 * buffer of dg_tiled_bytes). dg_untile_rows: rows n0 … n0+count-1 back to the row layout.
 * dg_dequantize_tiled: the same rows widened to f32 (K floats each). */
#define DG_QUANT_TILE_ROWS 8
size_t dg_tiled_bytes(int dtype, size_t rows, size_t K);
void dg_tile_rows(int dtype, const void *src, size_t rows, size_t K, size_t t0, size_t t1, void *dst);
void dg_untile_rows(int dtype, const void *tiled, size_t K, size_t n0, size_t count, void *dst);
void dg_dequantize_tiled(int dtype, const void *tiled, size_t K, size_t n0, size_t count, float *dst);

/* Y[m*ldy + n] = sum over 32-groups g of row n of W (dtype quantized, K columns, tiled) of the
 * integer dot product of its quants with XQ's block g of row m, scaled in f32, for m < M, n in
 * [n0, n1). Each (n, m) is the same sequence of float operations whatever M, [n0, n1) and `isa`
 * are (the portable, AVX2 and VNNI paths agree bitwise): decode ≡ verification. The AVX2 path
 * works on tiles of DG_QUANT_TILE_ROWS weight rows × all M activation rows, so memory sees each
 * tile once per call. `isa` clamped to the CPU; at DG_ISA_AVX512 a CPU with AVX-512 VNNI runs the
 * same tiles with vpdpbusd (dg_cpu_has_vnni), other AVX-512 CPUs the AVX2 code. */
/* Whether dg_matmul_quant_isa's AVX-512 level takes the VNNI path (AVX-512 VNNI and VL). */
int dg_cpu_has_vnni(void);
void dg_matmul_quant_isa(int isa, int dtype, const void *W, size_t K, size_t n0, size_t n1,
                         const dg_q8_block *XQ, size_t M, float *Y, size_t ldy);

/* dst[i] = the value element i of the blocks at src stands for (count a multiple of the block). */
void dg_dequantize(int dtype, const void *src, float *dst, size_t count);
/* Reference quantizer, round to nearest (count a multiple of the block): Q8_0…Q5_1 as ggml's
 * quantize_row_*_ref; the K-quants with per-sub-block min/max scales (no iterative search). */
void dg_quantize(int dtype, const float *src, void *dst, size_t count);

/* Spin-wait hint (PAUSE on x86) for the compute pool's idle loop. */
static inline void dg_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Streams `bytes` bytes from `src` with wide loads and returns a checksum (memory-bandwidth probe). */
uint64_t dg_read_bandwidth_pass(const void *src, size_t bytes);

/* Runs `rounds` rounds of 12 independent multiply-add chains (multiply-add rate probe) in the
 * instruction a kind of product uses: DG_PROBE_F32, f32 FMAs in the kernels' widest registers;
 * DG_PROBE_BF16_DOT, vdpbf16ps (the bf16 activation mode's, where the CPU has AVX-512 BF16);
 * DG_PROBE_INT8_DOT, the quantized kernels' int8 products (vpdpbusd with AVX-512 VNNI, else
 * vpmaddubsw; AVX2 and up). A kind the CPU lacks falls back to f32. Stores how many
 * multiply-adds that was and returns a checksum. */
enum dg_probe_kind { DG_PROBE_F32 = 0, DG_PROBE_BF16_DOT = 1, DG_PROBE_INT8_DOT = 2 };
float dg_multiply_add_pass(size_t rounds, int kind, uint64_t *multiply_adds);

#ifdef __cplusplus
}
#endif
#endif
