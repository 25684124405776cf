/*
 * Block-quantized weights — ggml's Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K, byte for byte
 * as a GGUF file stores them — and their small-batch products, which never widen the weights to
 * f32 (llama.cpp's approach, written here).
 *
 * Every format is read as groups of 32 elements: a block of the 32-formats, one of the 8 sub-blocks
 * of a K-quant super-block of 256. A group gives 32 integer quants q (as int8), an f32 scale d, an
 * f32 offset m and two integer factors s0, s1 for its halves (Q6_K's per-16 scales; 1 elsewhere),
 * and stands for w[l] = d·(s·q[l]) + m with s = s0 for l < 16, s1 above.
 *
 * Activations are quantized once per call to the same groups of 32 (dg_q8_block: x ≈ dx·qx with
 * qx in [-127, 127], plus sx = dx·Σqx). One (group, activation block) pair then contributes
 *     d·dx · Σ_l s·q[l]·qx[l]  +  m·sx
 * — an exact int32 dot product scaled in f32 (the "products" section below defines the float
 * steps every (weight row, activation row) pair takes; the portable and AVX2 paths run exactly
 * those, so rows are bitwise the same whatever M, the tile or the instruction set: decode and
 * verification agree, and speculative greedy equals plain greedy).
 *
 * AVX2 tile: 8 weight rows × all M activation rows, the rows' groups transposed so that each row
 * owns an int32 lane and each activation 4-byte chunk is broadcast to all 8 (vpmaddubsw +
 * vpmaddwd, no horizontal sums); memory and the unpacking see each weight block once per call.
 *
 * AVX-512 VNNI: the same tiles with vpdpbusd (u8 × s8, four products summed into each int32 lane)
 * in place of each vpmaddubsw + int16 add + vpmaddwd, on 256-bit registers (AVX-512 VL). The runs
 * of the AVX2 path never saturate (int16_run), so both give the same int32 sums and the rows stay
 * bitwise the same on either path. The instruction is written as inline assembly with an {evex}
 * prefix so that the tile code stays one AVX2 function body, instantiated once per path; the
 * VNNI instantiations run only where the CPU has AVX-512 VNNI and VL (dg_cpu_has_vnni).
 */
#include "CKernels.h"
#include "simd.h"
#include <math.h>
#include <float.h>
#include <string.h>
#include <stdlib.h>

/* Elements per group (and per block of the 32-formats), per K-quant super-block. */
#define QG 32
#define QKK 256
#define GROUPS_PER_SUPER (QKK / QG)

/* Byte offsets inside a block (ggml-common.h's struct layouts, no padding). */
enum {
    Q8_0_BYTES = 2 + 32,                     /* d, qs[32] */
    Q4_0_BYTES = 2 + 16,                     /* d, qs[16] */
    Q4_1_BYTES = 2 + 2 + 16,                 /* d, m, qs[16] */
    Q5_0_BYTES = 2 + 4 + 16,                 /* d, qh[4], qs[16] */
    Q5_1_BYTES = 2 + 2 + 4 + 16,             /* d, m, qh[4], qs[16] */
    Q4_K_BYTES = 2 + 2 + 12 + 128,           /* d, dmin, scales[12], qs[128] */
    Q5_K_BYTES = 2 + 2 + 12 + 32 + 128,      /* d, dmin, scales[12], qh[32], qs[128] */
    Q6_K_BYTES = 128 + 64 + 16 + 2,          /* ql[128], qh[64], scales[16], d */
    K_SCALES = 4, Q5_K_QH = 16, Q5_K_QS = 48, Q4_K_QS = 16, Q6_K_QH = 128, Q6_K_SCALES = 192, Q6_K_D = 208,
};

size_t dg_block_bytes(int dt) {
    switch (dt) {
    case DG_F32: return 4;
    case DG_F16: case DG_BF16: return 2;
    case DG_Q8_0: return Q8_0_BYTES;
    case DG_Q4_0: return Q4_0_BYTES;
    case DG_Q4_1: return Q4_1_BYTES;
    case DG_Q5_0: return Q5_0_BYTES;
    case DG_Q5_1: return Q5_1_BYTES;
    case DG_Q4_K: return Q4_K_BYTES;
    case DG_Q5_K: return Q5_K_BYTES;
    case DG_Q6_K: return Q6_K_BYTES;
    default: return 0;
    }
}

size_t dg_block_elements(int dt) {
    switch (dt) {
    case DG_F32: case DG_F16: case DG_BF16: return 1;
    case DG_Q4_K: case DG_Q5_K: case DG_Q6_K: return QKK;
    default: return QG;
    }
}

INLINE int is_k_quant(int dt) { return dt == DG_Q4_K || dt == DG_Q5_K || dt == DG_Q6_K; }

/* Groups of 32 per block. */
INLINE int groups_per_block(int dt) { return is_k_quant(dt) ? GROUPS_PER_SUPER : 1; }

INLINE uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
INLINE uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Q4_K / Q5_K: the 6-bit scale and min of sub-block j from the 12 packed bytes. Bytes 0–3 hold
 * scales 0–3 in their low 6 bits, bytes 4–7 mins 0–3; sub-blocks 4–7 take their low 4 bits from
 * the nibbles of bytes 8–11 and their high 2 bits from the top bits of bytes 0–3 (scales) and
 * 4–7 (mins). */
INLINE void k_scale_min(const uint8_t *s, int j, int *scale, int *min) {
    if (j < 4) {
        *scale = s[j] & 63;
        *min = s[j + 4] & 63;
    } else {
        *scale = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
        *min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

typedef struct { float d, m; int16_t s0, s1; } group_scale;

/* The scales of every group of the block at b (1, or 8 for a K-quant super-block, whose f16
 * fields are widened once for its 8 groups). The AVX2 kernel builds the same values as vectors
 * over 8 rows (load_panel_scales), with the same float operations. */
INLINE void group_scale_portable(int dt, const uint8_t *b, group_scale *out) {
    switch (dt) {
    case DG_Q4_1: case DG_Q5_1:
        *out = (group_scale){f16_to_f32(rd16(b)), f16_to_f32(rd16(b + 2)), 1, 1};
        break;
    case DG_Q4_K: case DG_Q5_K: {
        float d = f16_to_f32(rd16(b)), dmin = f16_to_f32(rd16(b + 2));
        for (int j = 0; j < GROUPS_PER_SUPER; j++) {
            int sc, mn;
            k_scale_min(b + K_SCALES, j, &sc, &mn);
            out[j] = (group_scale){d * (float)sc, -dmin * (float)mn, 1, 1};
        }
        break;
    }
    case DG_Q6_K: {
        const int8_t *sc = (const int8_t *)(b + Q6_K_SCALES);
        float d = f16_to_f32(rd16(b + Q6_K_D));
        for (int j = 0; j < GROUPS_PER_SUPER; j++)
            out[j] = (group_scale){d, 0, sc[2 * j], sc[2 * j + 1]};
        break;
    }
    default:
        *out = (group_scale){f16_to_f32(rd16(b)), 0, 1, 1};
        break;
    }
}

/* Whether the kernels keep a type's quants as stored (unsigned, offset not removed: the offset is
 * folded into the group's m, so vpmaddubsw takes the weights as its unsigned operand with no
 * sign fix-up). Q8_0 is signed as stored; Q6_K's offset would need per-half activation sums. */
INLINE int kernel_unsigned(int dt) { return dt != DG_Q8_0 && dt != DG_Q6_K; }
INLINE int kernel_has_min(int dt) { return kernel_unsigned(dt); }

/* The 32 quants of group j of the block at b, offsets of the symmetric formats removed (signed)
 * unless `raw` (then as stored). */
INLINE void unpack_portable(int dt, const uint8_t *b, int j, int8_t q[QG], int raw) {
    switch (dt) {
    case DG_Q8_0:
        memcpy(q, b + 2, QG);
        break;
    case DG_Q4_0: case DG_Q4_1: { /* low nibbles: elements 0–15, high nibbles: 16–31 */
        const uint8_t *qs = b + (dt == DG_Q4_0 ? 2 : 4);
        int off = dt == DG_Q4_0 && !raw ? 8 : 0;
        for (int l = 0; l < 16; l++) {
            q[l] = (int8_t)((qs[l] & 0x0F) - off);
            q[l + 16] = (int8_t)((qs[l] >> 4) - off);
        }
        break;
    }
    case DG_Q5_0: case DG_Q5_1: { /* as Q4_0, plus bit l of the little-endian qh word as bit 4 */
        uint32_t qh = rd32(b + (dt == DG_Q5_0 ? 2 : 4));
        const uint8_t *qs = b + (dt == DG_Q5_0 ? 6 : 8);
        int off = dt == DG_Q5_0 && !raw ? 16 : 0;
        for (int l = 0; l < 16; l++) {
            q[l] = (int8_t)(((qs[l] & 0x0F) | (((qh >> l) & 1) << 4)) - off);
            q[l + 16] = (int8_t)(((qs[l] >> 4) | (((qh >> (l + 16)) & 1) << 4)) - off);
        }
        break;
    }
    case DG_Q4_K: case DG_Q5_K: { /* 64-element chunks: low nibbles the even sub-block, high the odd */
        const uint8_t *qs = b + (dt == DG_Q4_K ? Q4_K_QS : Q5_K_QS) + 32 * (j / 2);
        int shift = 4 * (j & 1);
        for (int l = 0; l < QG; l++) {
            int v = (qs[l] >> shift) & 0x0F;
            if (dt == DG_Q5_K) v |= ((b[Q5_K_QH + l] >> j) & 1) << 4;
            q[l] = (int8_t)v;
        }
        break;
    }
    case DG_Q6_K: { /* 128-element halves h; quarter c: ql nibbles (c & 1 picks the 32-byte run, c >> 1
                       the nibble) and bits 2c, 2c+1 of qh */
        int h = j / 4, c = j % 4;
        const uint8_t *ql = b + 64 * h + 32 * (c & 1), *qh = b + Q6_K_QH + 32 * h;
        for (int l = 0; l < QG; l++)
            q[l] = (int8_t)((((ql[l] >> (4 * (c >> 1))) & 0x0F) | (((qh[l] >> (2 * c)) & 3) << 4)) - 32);
        break;
    }
    default: break;
    }
}

void dg_dequantize(int dt, const void *src, float *dst, size_t count) {
    size_t bb = dg_block_bytes(dt), gpb = (size_t)groups_per_block(dt);
    int8_t q[QG];
    group_scale s[GROUPS_PER_SUPER];
    for (size_t i = 0; i < count / QG / gpb; i++) {
        const uint8_t *b = (const uint8_t *)src + i * bb;
        group_scale_portable(dt, b, s);
        for (size_t j = 0; j < gpb; j++, dst += QG) {
            unpack_portable(dt, b, (int)j, q, 0);
            for (int l = 0; l < QG; l++) dst[l] = s[j].d * (float)(q[l] * (l < 16 ? s[j].s0 : s[j].s1)) + s[j].m;
        }
    }
}

/* ---------------------------------------------------------------- activations */

void dg_quantize_activations(const float *X, size_t M, size_t ldx, size_t K, dg_q8_block *XQ) {
    size_t nb = K / QG;
    for (size_t m = 0; m < M; m++) {
        for (size_t b = 0; b < nb; b++) {
            const float *x = X + m * ldx + b * QG;
            dg_q8_block *o = XQ + m * nb + b;
            float amax = 0;
            for (int l = 0; l < QG; l++) amax = fmaxf(amax, fabsf(x[l]));
            float d = amax / 127, id = d != 0 ? 1 / d : 0;
            int sum = 0;
            for (int l = 0; l < QG; l++) {
                o->q[l] = (int8_t)roundf(x[l] * id);
                sum += o->q[l];
            }
            o->d = d;
            o->s = d * (float)sum;
        }
    }
}

/* ---------------------------------------------------------------- products
 *
 * What every (weight row n, activation row m) pair is, whatever M, the tile it lands in or the
 * instruction set (the portable loop computes exactly this; the AVX2 kernel the same operations,
 * one pair per vector lane):
 *
 *     acc = 0, accm = 0
 *     for each group g in order:  isum = Σ_l s·q[l]·qx[l]                 (exact, int32)
 *                                 acc  = fma((float)isum, d_g·dx_g, acc)
 *                                 accm = fma(m_g, sx_g, accm)             (types with an offset)
 *     y = acc + accm              (types with an offset; y = acc otherwise)
 *
 * The integer sum is exact however it is formed, and each float step reads only this pair's
 * values, so decode (M = 1) and verification (M = k) give bitwise the same rows by construction.
 */

/* Per-thread scratch for one weight row unpacked (portable path): its quants as int8 and its
 * groups' scales, read by every activation row. */
static __thread int8_t *row_quants = NULL;
static __thread group_scale *row_scales = NULL;
static __thread size_t row_capacity = 0;

static int reserve_row(size_t ng) {
    if (ng <= row_capacity) return 1;
    free(row_quants);
    free(row_scales);
    row_quants = aligned_alloc(64, (ng * QG + 63) / 64 * 64);
    row_scales = malloc(ng * sizeof(group_scale));
    row_capacity = row_quants && row_scales ? ng : 0;
    return row_capacity != 0;
}

/* The kernels' scales of one block: Q4_0's and Q5_0's offset folded into m (w = d·q − 8d). */
INLINE void fold_offset(int dt, group_scale *s) {
    if (dt == DG_Q4_0 || dt == DG_Q5_0) s->m = -(float)(dt == DG_Q4_0 ? 8 : 16) * s->d;
}

/* The portable kernel's unpacked row: quants as the AVX2 kernel holds them (unsigned types as
 * stored, their offset in m) and the same scales. */
static void unpack_row_portable(int dt, const uint8_t *row, size_t ng) {
    size_t gpb = (size_t)groups_per_block(dt), bb = dg_block_bytes(dt);
    for (size_t g = 0; g < ng; g += gpb) {
        const uint8_t *b = row + g / gpb * bb;
        group_scale_portable(dt, b, row_scales + g);
        fold_offset(dt, row_scales + g);
        for (size_t j = 0; j < gpb; j++) unpack_portable(dt, b, (int)j, row_quants + (g + j) * QG, kernel_unsigned(dt));
    }
}

static void mm_quant_portable(int dt, const uint8_t *W, size_t rb, size_t ng, size_t n0, size_t n1,
                              const dg_q8_block *XQ, size_t M, float *Y, size_t ldy) {
    if (!reserve_row(ng)) return;
    for (size_t n = n0; n < n1; n++) {
        unpack_row_portable(dt, W + n * rb, ng);
        for (size_t m = 0; m < M; m++) {
            const dg_q8_block *x = XQ + m * ng;
            float acc = 0, accm = 0;
            for (size_t g = 0; g < ng; g++) {
                const int8_t *w = row_quants + g * QG;
                const group_scale *s = row_scales + g;
                int32_t lo = 0, hi = 0;
                for (int l = 0; l < 16; l++) lo += w[l] * x[g].q[l];
                for (int l = 16; l < QG; l++) hi += w[l] * x[g].q[l];
                float scale = s->d * x[g].d;
                acc = fmaf((float)(lo * s->s0 + hi * s->s1), scale, acc);
                if (kernel_has_min(dt)) accm = fmaf(s->m, x[g].s, accm);
            }
            Y[m * ldy + n] = kernel_has_min(dt) ? acc + accm : acc;
        }
    }
}


/* 0xFF in byte i where bit i of `bits` is set. */
INLINE T256 __m256i bytes_from_bits(uint32_t bits) {
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), spread);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

/* unpack_portable(…, raw = kernel_unsigned(dt)) in one register. */
INLINE T256 __m256i unpack256(int dt, const uint8_t *b, int j) {
    const __m256i low4 = _mm256_set1_epi8(0x0F), bit4 = _mm256_set1_epi8(0x10);
    switch (dt) {
    case DG_Q8_0:
        return _mm256_loadu_si256((const __m256i *)(b + 2));
    case DG_Q4_0: case DG_Q4_1: case DG_Q5_0: case DG_Q5_1: {
        int five = dt == DG_Q5_0 || dt == DG_Q5_1;
        const uint8_t *qs = b + (dt == DG_Q4_0 ? 2 : dt == DG_Q4_1 ? 4 : dt == DG_Q5_0 ? 6 : 8);
        __m128i t = _mm_loadu_si128((const __m128i *)qs);
        __m256i v = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), low4);
        if (five) v = _mm256_or_si256(v, _mm256_and_si256(bytes_from_bits(rd32(b + (dt == DG_Q5_0 ? 2 : 4))), bit4));
        return v;
    }
    case DG_Q4_K: case DG_Q5_K: {
        __m256i v = _mm256_loadu_si256((const __m256i *)(b + (dt == DG_Q4_K ? Q4_K_QS : Q5_K_QS) + 32 * (j / 2)));
        if (j & 1) v = _mm256_srli_epi16(v, 4);
        v = _mm256_and_si256(v, low4);
        if (dt == DG_Q5_K) {
            const __m256i mask = _mm256_set1_epi8((char)(1 << j));
            __m256i h = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(b + Q5_K_QH)), mask);
            v = _mm256_or_si256(v, _mm256_and_si256(_mm256_cmpeq_epi8(h, mask), bit4));
        }
        return v;
    }
    case DG_Q6_K: {
        int h = j / 4, c = j % 4;
        __m256i lo = _mm256_loadu_si256((const __m256i *)(b + 64 * h + 32 * (c & 1)));
        if (c >> 1) lo = _mm256_srli_epi16(lo, 4);
        lo = _mm256_and_si256(lo, low4);
        __m256i hi = _mm256_loadu_si256((const __m256i *)(b + Q6_K_QH + 32 * h));
        hi = _mm256_and_si256(_mm256_srl_epi16(hi, _mm_cvtsi32_si128(2 * c)), _mm256_set1_epi8(3));
        return _mm256_sub_epi8(_mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)), _mm256_set1_epi8(32));
    }
    default: return _mm256_setzero_si256();
    }
}


/* ---- AVX2: tiles of 8 weight rows × all activation rows
 *
 * A tile's weights are unpacked a panel of 8 groups at a time (one K-quant super-block), every
 * group's 8 rows transposed so that 4-byte chunk k of row r sits in int32 lane r of register k.
 * Each activation row then broadcasts its chunk k to all lanes: vpmaddubsw + vpmaddwd give the 8
 * rows' partial sums in their own lanes, with no horizontal reduction, and the group's 8 scales
 * d_g·dx_g are one vector multiply. Memory sees each weight row once per call, unpacking and
 * transposing cost once per weight group whatever M is, and an extra activation row costs ~2
 * multiply-class instructions per group and row (against ~7 for a row-at-a-time dot product). */

/* Weight rows per tile: one per int32 lane of a 256-bit register. */
#define QR DG_QUANT_TILE_ROWS
/* Groups per panel: one K-quant super-block; its transposed quants take 2 KB of L1 (4 KB for
 * the signed types, which keep |q| beside q). */
#define QP 8
/* Activation rows whose accumulators one pass over a tile holds (2 KB); more rows take further
 * passes (prefill), each pair still summed as above. */
#define QMAXM 32
/* 4-byte chunks per group. */
#define QCHUNKS (QG / 4)

/* Consecutive chunks' vpmaddubsw results added as int16 before vpmaddwd widens them: as many as
 * cannot overflow. Each int16 lane gains two products of |q| ≤ 15 (4-bit), ≤ 31 (5-bit), ≤ 32
 * (Q6_K, offset removed) or ≤ 128 (Q8_0) by |qx| ≤ 127 per chunk: 8 chunks of 4-bit products
 * reach 30480, 4 of 5-bit 31496, 4 of Q6_K 32512, 1 of Q8_0 32512 (< 32767). Runs of 4 keep
 * Q6_K's halves (chunks 0–3 and 4–7, each with its scale) apart. */
INLINE int int16_run(int dt) {
    switch (dt) {
    case DG_Q4_0: case DG_Q4_1: case DG_Q4_K: return 8;
    case DG_Q8_0: return 1;
    default: return 4;
    }
}

/* A tile's panel: the transposed quants (signed types: q as the sign source, |q| the unsigned
 * operand), the 8 rows' scales per group and Q6_K's half factors as vpmaddwd operands. */
typedef struct {
    __m256i q[QP][QCHUNKS];
    __m256i a[QP][QCHUNKS];
    float d[QP][QR] __attribute__((aligned(32)));
    float m[QP][QR] __attribute__((aligned(32)));
    int16_t f0[QP][2 * QR] __attribute__((aligned(32)));
    int16_t f1[QP][2 * QR] __attribute__((aligned(32)));
} panel;

/* r[i] holds chunks 0–7 of row i; t[k] gets chunk k of rows 0–7. */
INLINE T256 void transpose8(const __m256i r[QR], __m256i t[QCHUNKS]) {
    __m256i a0 = _mm256_unpacklo_epi32(r[0], r[1]), a1 = _mm256_unpackhi_epi32(r[0], r[1]);
    __m256i a2 = _mm256_unpacklo_epi32(r[2], r[3]), a3 = _mm256_unpackhi_epi32(r[2], r[3]);
    __m256i a4 = _mm256_unpacklo_epi32(r[4], r[5]), a5 = _mm256_unpackhi_epi32(r[4], r[5]);
    __m256i a6 = _mm256_unpacklo_epi32(r[6], r[7]), a7 = _mm256_unpackhi_epi32(r[6], r[7]);
    __m256i b0 = _mm256_unpacklo_epi64(a0, a2), b1 = _mm256_unpackhi_epi64(a0, a2);
    __m256i b2 = _mm256_unpacklo_epi64(a1, a3), b3 = _mm256_unpackhi_epi64(a1, a3);
    __m256i b4 = _mm256_unpacklo_epi64(a4, a6), b5 = _mm256_unpackhi_epi64(a4, a6);
    __m256i b6 = _mm256_unpacklo_epi64(a5, a7), b7 = _mm256_unpackhi_epi64(a5, a7);
    t[0] = _mm256_permute2x128_si256(b0, b4, 0x20); t[4] = _mm256_permute2x128_si256(b0, b4, 0x31);
    t[1] = _mm256_permute2x128_si256(b1, b5, 0x20); t[5] = _mm256_permute2x128_si256(b1, b5, 0x31);
    t[2] = _mm256_permute2x128_si256(b2, b6, 0x20); t[6] = _mm256_permute2x128_si256(b2, b6, 0x31);
    t[3] = _mm256_permute2x128_si256(b3, b7, 0x20); t[7] = _mm256_permute2x128_si256(b3, b7, 0x31);
}

/* The f16 at byte `at` of each of the tile's rows, widened: lane r from row r. */
INLINE T256 __m256 gather_f16(const uint8_t *const rows[QR], size_t at) {
    return _mm256_cvtph_ps(_mm_setr_epi16((short)rd16(rows[0] + at), (short)rd16(rows[1] + at), (short)rd16(rows[2] + at),
                                          (short)rd16(rows[3] + at), (short)rd16(rows[4] + at), (short)rd16(rows[5] + at),
                                          (short)rd16(rows[6] + at), (short)rd16(rows[7] + at)));
}

/* 8×8 floats: r[i] lane j → t[j] lane i. */
INLINE T256 void transpose8_ps(const __m256 r[8], __m256 t[8]) {
    __m256i q[8], o[8];
    for (int i = 0; i < 8; i++) q[i] = _mm256_castps_si256(r[i]);
    transpose8(q, o);
    for (int i = 0; i < 8; i++) t[i] = _mm256_castsi256_ps(o[i]);
}

/* Q4_K / Q5_K: the 8 scales and 8 mins of one super-block's packed 12 bytes (k_scale_min for
 * j = 0 … 7), as bytes 0–7 and 8–15. */
INLINE T256 __m128i k_scales_mins(const uint8_t *s) {
    uint32_t u0 = rd32(s), u1 = rd32(s + 4), u2 = rd32(s + 8);
    const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, top2 = 0x03030303;
    uint32_t sc_lo = u0 & low6, sc_hi = (u2 & low4) | (((u0 >> 6) & top2) << 4);
    uint32_t mn_lo = u1 & low6, mn_hi = ((u2 >> 4) & low4) | (((u1 >> 6) & top2) << 4);
    return _mm_setr_epi32((int)sc_lo, (int)sc_hi, (int)mn_lo, (int)mn_hi);
}

/* The scales of groups g0 … g0+np-1 of a tile's 8 rows into P, built as vectors over the rows
 * with the same float operations as group_scale_portable and fold_offset, so both paths agree
 * bitwise. */
INLINE T256 void load_panel_scales(int dt, const uint8_t *const rows[QR], size_t g0, int np, panel *P) {
    size_t gpb = (size_t)groups_per_block(dt), bb = dg_block_bytes(dt);
    if (dt == DG_Q4_K || dt == DG_Q5_K) { /* np == QP == one super-block */
        size_t at = g0 / gpb * bb;
        __m256 d = gather_f16(rows, at), dmin = gather_f16(rows, at + 2);
        __m256 sc[QR], mn[QR], dt_[QP], mt[QP];
        for (int r = 0; r < QR; r++) {
            __m128i b = k_scales_mins(rows[r] + at + K_SCALES);
            sc[r] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
            mn[r] = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)));
        }
        transpose8_ps(sc, dt_);
        transpose8_ps(mn, mt);
        __m256 neg_dmin = _mm256_xor_ps(dmin, _mm256_set1_ps(-0.0f)); /* -dmin, as the portable path */
        for (int p = 0; p < QP; p++) {
            _mm256_store_ps(P->d[p], _mm256_mul_ps(d, dt_[p]));
            _mm256_store_ps(P->m[p], _mm256_mul_ps(neg_dmin, mt[p]));
        }
    } else if (dt == DG_Q6_K) {
        __m256 d = gather_f16(rows, g0 / gpb * bb + Q6_K_D);
        for (int p = 0; p < np; p++) _mm256_store_ps(P->d[p], d);
        for (int r = 0; r < QR; r++) {
            const int8_t *sc = (const int8_t *)(rows[r] + g0 / gpb * bb + Q6_K_SCALES);
            for (int p = 0; p < np; p++) {
                P->f0[p][2 * r] = P->f0[p][2 * r + 1] = sc[2 * p];
                P->f1[p][2 * r] = P->f1[p][2 * r + 1] = sc[2 * p + 1];
            }
        }
    } else {
        for (int p = 0; p < np; p++) {
            size_t at = (g0 + (size_t)p) * bb;
            __m256 d = gather_f16(rows, at);
            _mm256_store_ps(P->d[p], d);
            if (dt == DG_Q4_1 || dt == DG_Q5_1) _mm256_store_ps(P->m[p], gather_f16(rows, at + 2));
            if (dt == DG_Q4_0 || dt == DG_Q5_0)
                _mm256_store_ps(P->m[p], _mm256_mul_ps(_mm256_set1_ps(-(float)(dt == DG_Q4_0 ? 8 : 16)), d));
        }
    }
}

/* The transposed quants of the panel (load_panel_scales first). */
INLINE T256 void load_panel_quants(int dt, const uint8_t *const rows[QR], size_t g0, int np, panel *P) {
    size_t gpb = (size_t)groups_per_block(dt), bb = dg_block_bytes(dt);
    for (int p = 0; p < np; p++) {
        size_t g = g0 + (size_t)p;
        __m256i q[QR];
        for (int r = 0; r < QR; r++) q[r] = unpack256(dt, rows[r] + g / gpb * bb, (int)(g % gpb));
        transpose8(q, P->q[p]);
        if (!kernel_unsigned(dt))
            for (int k = 0; k < QCHUNKS; k++) P->a[p][k] = _mm256_sign_epi8(P->q[p][k], P->q[p][k]);
    }
}

/* One activation row (its blocks g0 … from x) against a panel, into the 8 lanes' accumulators. */
/* The float steps of one group for 8 pairs (lane r: weight row r) given their exact sums. */
INLINE T256 void group_step(int dt, const panel *P, int p, __m256i isum, const dg_q8_block *xb, __m256 *acc, __m256 *accm) {
    *acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(_mm256_load_ps(P->d[p]), _mm256_broadcast_ss(&xb->d)), *acc);
    if (kernel_has_min(dt)) *accm = _mm256_fmadd_ps(_mm256_load_ps(P->m[p]), _mm256_broadcast_ss(&xb->s), *accm);
}

/* acc + Σ of each int32 lane's four u8 × s8 byte products: AVX-512 VNNI's vpdpbusd on 256-bit
 * registers, EVEX-encoded by hand so that it can sit in the AVX2 tile code; only the VNNI
 * instantiations reach it. */
INLINE T256 __m256i dpbusd256(__m256i acc, __m256i u, __m256i s) {
    __asm__("%{evex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(u), "x"(s));
    return acc;
}

/* M = 1 (decode): group g's exact sums for the 8 rows without transposing. Each row's group is
 * dotted with the activation block in its own register (vpmaddubsw + vpmaddwd: 8 partial sums),
 * and a vphaddd tree leaves row r's sum in lane r — the same integers as panel_group's. Not for
 * Q6_K, whose half factors differ per row. */
INLINE T256 __m256i row_sums(int dt, const uint8_t *const rows[QR], size_t g, const dg_q8_block *xb, int vnni) {
    size_t gpb = (size_t)groups_per_block(dt), bb = dg_block_bytes(dt);
    __m256i x = _mm256_loadu_si256((const __m256i *)xb->q), ones = _mm256_set1_epi16(1), v[QR];
    for (int r = 0; r < QR; r++) {
        __m256i w = unpack256(dt, rows[r] + g / gpb * bb, (int)(g % gpb));
        __m256i u = kernel_unsigned(dt) ? w : _mm256_sign_epi8(w, w), sx = kernel_unsigned(dt) ? x : _mm256_sign_epi8(x, w);
        v[r] = vnni ? dpbusd256(_mm256_setzero_si256(), u, sx) : _mm256_madd_epi16(_mm256_maddubs_epi16(u, sx), ones);
    }
    __m256i h01 = _mm256_hadd_epi32(v[0], v[1]), h23 = _mm256_hadd_epi32(v[2], v[3]);
    __m256i h45 = _mm256_hadd_epi32(v[4], v[5]), h67 = _mm256_hadd_epi32(v[6], v[7]);
    __m256i lo = _mm256_hadd_epi32(h01, h23), hi = _mm256_hadd_epi32(h45, h67);
    return _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31));
}

/* Group p of a panel against activation rows 0 … mc-1 (their block of this group at x, stride
 * ng): each pair's group step. The group's quants stay in registers across the rows. */
INLINE T256 void panel_group(int dt, const panel *P, int p, const dg_q8_block *x, size_t ng, size_t mc,
                             __m256 *acc, __m256 *accm, int vnni) {
    const int run = int16_run(dt);
    __m256i q[QCHUNKS], u[QCHUNKS];
    for (int k = 0; k < QCHUNKS; k++) {
        q[k] = P->q[p][k];
        u[k] = kernel_unsigned(dt) ? q[k] : P->a[p][k];
    }
    __m256i f0 = dt == DG_Q6_K ? _mm256_load_si256((const __m256i *)P->f0[p]) : _mm256_set1_epi16(1);
    __m256i f1 = dt == DG_Q6_K ? _mm256_load_si256((const __m256i *)P->f1[p]) : _mm256_set1_epi16(1);
    /* With VNNI, Q6_K's half factors as int32 lanes (both int16 halves of a lane hold the row's). */
    const __m256i low16 = _mm256_set1_epi32(1);
    __m256i g0 = _mm256_madd_epi16(f0, low16), g1 = _mm256_madd_epi16(f1, low16);
    for (size_t c = 0; c < mc; c++) {
        const dg_q8_block *xb = x + c * ng;
        __m256i isum = _mm256_setzero_si256();
        if (vnni) {
            /* Each run's products summed in int32 lanes by vpdpbusd: the same integers as below. */
            for (int k0 = 0; k0 < QCHUNKS; k0 += run) {
                __m256i part = _mm256_setzero_si256();
                for (int k = 0; k < run; k++) {
                    int32_t chunk;
                    memcpy(&chunk, xb->q + 4 * (k0 + k), 4);
                    __m256i xv = _mm256_set1_epi32(chunk);
                    part = dpbusd256(part, u[k0 + k], kernel_unsigned(dt) ? xv : _mm256_sign_epi8(xv, q[k0 + k]));
                }
                isum = _mm256_add_epi32(isum, dt == DG_Q6_K ? _mm256_mullo_epi32(part, k0 < QCHUNKS / 2 ? g0 : g1) : part);
            }
            group_step(dt, P, p, isum, xb, &acc[c], &accm[c]);
            continue;
        }
        for (int k0 = 0; k0 < QCHUNKS; k0 += run) {
            /* vpmaddubsw per chunk (activation chunk broadcast to all rows), summed as a pairwise
             * tree of int16 adds: integer, so exact in any order. */
            __m256i s[QCHUNKS];
            for (int k = 0; k < run; k++) {
                int32_t chunk;
                memcpy(&chunk, xb->q + 4 * (k0 + k), 4);
                __m256i xv = _mm256_set1_epi32(chunk);
                s[k] = _mm256_maddubs_epi16(u[k0 + k], kernel_unsigned(dt) ? xv : _mm256_sign_epi8(xv, q[k0 + k]));
            }
            for (int w = 1; w < run; w *= 2)
                for (int k = 0; k + w < run; k += 2 * w) s[k] = _mm256_add_epi16(s[k], s[k + w]);
            isum = _mm256_add_epi32(isum, _mm256_madd_epi16(s[0], k0 < QCHUNKS / 2 ? f0 : f1));
        }
        group_step(dt, P, p, isum, xb, &acc[c], &accm[c]);
    }
}

/* The share of the next tile's bytes (8 consecutive rows: one contiguous run of `bytes`) that
 * panel g0 … g0+np-1 of the current tile stands for, fetched into L2: reading a tile touches 8
 * rows a panel at a time, 8 short streams the hardware prefetcher follows poorly (decode ran at
 * ~60 % of the row-at-a-time kernel's bandwidth without this), while the next tile is one
 * contiguous run. */
INLINE T256 void prefetch_next_tile(const uint8_t *next, size_t bytes, size_t g0, size_t np, size_t ng) {
    const size_t line = 64;
    size_t from = bytes * g0 / ng / line * line, to = bytes * (g0 + np) / ng;
    for (size_t at = from; at < to; at += line) _mm_prefetch((const char *)(next + at), _MM_HINT_T1);
}

INLINE T256 void mm_quant_256(int dt, const uint8_t *W, size_t rb, size_t ng, size_t n0, size_t n1,
                              const dg_q8_block *XQ, size_t M, float *Y, size_t ldy, int vnni) {
    panel P;
    __m256 acc[QMAXM], accm[QMAXM];
    for (size_t n = n0; n < n1; n += QR) {
        int nr = n1 - n < QR ? (int)(n1 - n) : QR;
        const uint8_t *rows[QR]; /* lanes past nr repeat the last row; their sums are not stored */
        for (int r = 0; r < QR; r++) rows[r] = W + (n + (size_t)(r < nr ? r : nr - 1)) * rb;
        for (size_t m0 = 0; m0 < M; m0 += QMAXM) {
            size_t mc = M - m0 < QMAXM ? M - m0 : QMAXM;
            for (size_t c = 0; c < mc; c++) acc[c] = accm[c] = _mm256_setzero_ps();
            for (size_t g0 = 0; g0 < ng; g0 += QP) {
                int np = ng - g0 < QP ? (int)(ng - g0) : QP;
                if (m0 == 0 && n + QR < n1) prefetch_next_tile(W + (n + QR) * rb, QR * rb, g0, (size_t)np, ng);
                load_panel_scales(dt, rows, g0, np, &P);
                if (M == 1 && dt != DG_Q6_K) {
                    for (int p = 0; p < np; p++)
                        group_step(dt, &P, p, row_sums(dt, rows, g0 + (size_t)p, XQ + g0 + (size_t)p, vnni), XQ + g0 + (size_t)p, &acc[0], &accm[0]);
                    continue;
                }
                load_panel_quants(dt, rows, g0, np, &P);
                for (int p = 0; p < np; p++) panel_group(dt, &P, p, XQ + m0 * ng + g0 + (size_t)p, ng, mc, acc, accm, vnni);
            }
            for (size_t c = 0; c < mc; c++) {
                __m256 y = kernel_has_min(dt) ? _mm256_add_ps(acc[c], accm[c]) : acc[c];
                float *out = Y + (m0 + c) * ldy + n;
                if (nr == QR) {
                    _mm256_storeu_ps(out, y);
                } else {
                    float lanes[QR];
                    _mm256_storeu_ps(lanes, y);
                    memcpy(out, lanes, (size_t)nr * sizeof(float));
                }
            }
        }
    }
}

/* One instantiation per type and path (AVX2, VNNI), so the type switches and the path fold away. */
#define QUANT_256(NAME, DT, VNNI)                                                                    \
    static T256 void NAME(const uint8_t *W, size_t rb, size_t ng, size_t n0, size_t n1,            \
                          const dg_q8_block *XQ, size_t M, float *Y, size_t ldy) {                  \
        mm_quant_256(DT, W, rb, ng, n0, n1, XQ, M, Y, ldy, VNNI);                                   \
    }
QUANT_256(mm256_q8_0, DG_Q8_0, 0)
QUANT_256(mm256_q4_0, DG_Q4_0, 0)
QUANT_256(mm256_q4_1, DG_Q4_1, 0)
QUANT_256(mm256_q5_0, DG_Q5_0, 0)
QUANT_256(mm256_q5_1, DG_Q5_1, 0)
QUANT_256(mm256_q4_k, DG_Q4_K, 0)
QUANT_256(mm256_q5_k, DG_Q5_K, 0)
QUANT_256(mm256_q6_k, DG_Q6_K, 0)
QUANT_256(mmvnni_q8_0, DG_Q8_0, 1)
QUANT_256(mmvnni_q4_0, DG_Q4_0, 1)
QUANT_256(mmvnni_q4_1, DG_Q4_1, 1)
QUANT_256(mmvnni_q5_0, DG_Q5_0, 1)
QUANT_256(mmvnni_q5_1, DG_Q5_1, 1)
QUANT_256(mmvnni_q4_k, DG_Q4_K, 1)
QUANT_256(mmvnni_q5_k, DG_Q5_K, 1)
QUANT_256(mmvnni_q6_k, DG_Q6_K, 1)

static int detected_vnni = -1;

int dg_cpu_has_vnni(void) {
    if (detected_vnni < 0) {
        __builtin_cpu_init();
        detected_vnni = dg_cpu_isa() == DG_ISA_AVX512 && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl");
    }
    return detected_vnni;
}

/* A type's tile instantiation on the AVX2 or the VNNI path (NULL for a type without one). */
typedef void (*quant_tiles)(const uint8_t *W, size_t rb, size_t ng, size_t n0, size_t n1, const dg_q8_block *XQ, size_t M,
                            float *Y, size_t ldy);
static quant_tiles tiles_for(int dt, int vnni) {
    switch (dt) {
    case DG_Q8_0: return vnni ? mmvnni_q8_0 : mm256_q8_0;
    case DG_Q4_0: return vnni ? mmvnni_q4_0 : mm256_q4_0;
    case DG_Q4_1: return vnni ? mmvnni_q4_1 : mm256_q4_1;
    case DG_Q5_0: return vnni ? mmvnni_q5_0 : mm256_q5_0;
    case DG_Q5_1: return vnni ? mmvnni_q5_1 : mm256_q5_1;
    case DG_Q4_K: return vnni ? mmvnni_q4_k : mm256_q4_k;
    case DG_Q5_K: return vnni ? mmvnni_q5_k : mm256_q5_k;
    case DG_Q6_K: return vnni ? mmvnni_q6_k : mm256_q6_k;
    default: return NULL;
    }
}

void dg_matmul_quant_isa(int isa, int dt, const void *W, size_t K, size_t n0, size_t n1,
                         const dg_q8_block *XQ, size_t M, float *Y, size_t ldy) {
    size_t rb = K / dg_block_elements(dt) * dg_block_bytes(dt), ng = K / QG;
    if (isa > dg_cpu_isa()) isa = dg_cpu_isa();
    if (isa >= DG_ISA_AVX2) {
        quant_tiles tiles = tiles_for(dt, isa >= DG_ISA_AVX512 && dg_cpu_has_vnni());
        if (tiles != NULL) tiles(W, rb, ng, n0, n1, XQ, M, Y, ldy);
        return;
    }
    mm_quant_portable(dt, W, rb, ng, n0, n1, XQ, M, Y, ldy);
}

/* ---------------------------------------------------------------- reference quantizers */

INLINE int nearest(float v) { return (int)lrintf(v); }
INLINE int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }
INLINE void wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* Packs 32 quants of 4 or 5 bits: low nibbles elements 0–15, high nibbles 16–31, bit 4 into qh. */
static void pack_nibbles(const int q[QG], uint8_t *qs, uint8_t *qh) {
    uint32_t h = 0;
    for (int l = 0; l < 16; l++) {
        qs[l] = (uint8_t)((q[l] & 0x0F) | ((q[l + 16] & 0x0F) << 4));
        h |= (uint32_t)((q[l] >> 4) & 1) << l;
        h |= (uint32_t)((q[l + 16] >> 4) & 1) << (l + 16);
    }
    if (qh) memcpy(qh, &h, 4);
}

/* Q4_0 / Q5_0: d = (the value of largest magnitude) / -2^(bits-1), q = x/d + 2^(bits-1). */
static void quantize_sym(const float *x, uint8_t *b, int five) {
    float amax = 0, max = 0;
    for (int l = 0; l < QG; l++)
        if (fabsf(x[l]) > amax) { amax = fabsf(x[l]); max = x[l]; }
    int half = five ? 16 : 8;
    float d = max / -(float)half, id = d != 0 ? 1 / d : 0;
    wr16(b, f32_to_f16(d));
    int q[QG];
    for (int l = 0; l < QG; l++) q[l] = clampi((int8_t)(x[l] * id + (float)half + 0.5f), 0, 2 * half - 1);
    if (five) pack_nibbles(q, b + 6, b + 2);
    else pack_nibbles(q, b + 2, NULL);
}

/* Q4_1 / Q5_1: d = (max − min) / (2^bits − 1), m = min, q = (x − min)/d. */
static void quantize_asym(const float *x, uint8_t *b, int five) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int l = 0; l < QG; l++) { min = fminf(min, x[l]); max = fmaxf(max, x[l]); }
    int top = five ? 31 : 15;
    float d = (max - min) / (float)top, id = d != 0 ? 1 / d : 0;
    wr16(b, f32_to_f16(d));
    wr16(b + 2, f32_to_f16(min));
    int q[QG];
    for (int l = 0; l < QG; l++) q[l] = clampi((int8_t)((x[l] - min) * id + 0.5f), 0, top);
    if (five) pack_nibbles(q, b + 8, b + 4);
    else pack_nibbles(q, b + 4, NULL);
}

/* Q4_K / Q5_K: per sub-block scale (max − min)/top and min −min(0, min), both quantized to 6 bits
 * against the super-block's largest (d, dmin), then the values against the quantized pair. */
static void quantize_k_asym(const float *x, uint8_t *b, int five) {
    int top = five ? 31 : 15;
    float scale[8], mins[8], maxs = 0, maxm = 0;
    for (int j = 0; j < 8; j++) {
        float lo = 0, hi = -FLT_MAX;
        for (int l = 0; l < QG; l++) { lo = fminf(lo, x[QG * j + l]); hi = fmaxf(hi, x[QG * j + l]); }
        scale[j] = (hi - lo) / (float)top;
        mins[j] = -lo;
        maxs = fmaxf(maxs, scale[j]);
        maxm = fmaxf(maxm, mins[j]);
    }
    uint16_t hd = f32_to_f16(maxs / 63), hm = f32_to_f16(maxm / 63);
    float d = f16_to_f32(hd), dmin = f16_to_f32(hm);
    wr16(b, hd);
    wr16(b + 2, hm);
    int sc[8], mn[8];
    uint8_t *s = b + K_SCALES;
    memset(s, 0, 12);
    for (int j = 0; j < 8; j++) {
        sc[j] = d > 0 ? clampi(nearest(scale[j] / d), 0, 63) : 0;
        mn[j] = dmin > 0 ? clampi(nearest(mins[j] / dmin), 0, 63) : 0;
        if (j < 4) {
            s[j] |= (uint8_t)sc[j];
            s[j + 4] |= (uint8_t)mn[j];
        } else {
            s[j + 4] = (uint8_t)((sc[j] & 0x0F) | ((mn[j] & 0x0F) << 4));
            s[j - 4] |= (uint8_t)((sc[j] >> 4) << 6);
            s[j] |= (uint8_t)((mn[j] >> 4) << 6);
        }
    }
    uint8_t *qs = b + (five ? Q5_K_QS : Q4_K_QS), *qh = b + Q5_K_QH;
    memset(qs, 0, 128);
    if (five) memset(qh, 0, 32);
    for (int j = 0; j < 8; j++) {
        float ds = d * (float)sc[j], dm = dmin * (float)mn[j];
        for (int l = 0; l < QG; l++) {
            int q = ds > 0 ? clampi(nearest((x[QG * j + l] + dm) / ds), 0, top) : 0;
            qs[32 * (j / 2) + l] |= (uint8_t)((q & 0x0F) << (4 * (j & 1)));
            if (five) qh[l] |= (uint8_t)(((q >> 4) & 1) << j);
        }
    }
}

/* Q6_K: per 16 elements a scale (largest magnitude)/−32, the 16 scales as int8 against the largest
 * (d = its magnitude / 128), then q = x/(d·scale) + 32 in 6 bits. */
static void quantize_q6_k(const float *x, uint8_t *b) {
    float scale[16], big = 0;
    for (int j = 0; j < 16; j++) {
        float amax = 0, max = 0;
        for (int l = 0; l < 16; l++)
            if (fabsf(x[16 * j + l]) > amax) { amax = fabsf(x[16 * j + l]); max = x[16 * j + l]; }
        scale[j] = max / -32;
        if (fabsf(scale[j]) > fabsf(big)) big = scale[j];
    }
    float iscale = big != 0 ? -128 / big : 0;
    uint16_t hd = f32_to_f16(iscale != 0 ? 1 / iscale : 0);
    float d = f16_to_f32(hd);
    int8_t *sc = (int8_t *)(b + Q6_K_SCALES);
    memset(b, 0, Q6_K_SCALES);
    for (int j = 0; j < 16; j++) sc[j] = (int8_t)clampi(nearest(iscale * scale[j]), -128, 127);
    for (int e = 0; e < QKK; e++) {
        float ds = d * (float)sc[e / 16];
        int q = ds != 0 ? clampi(nearest(x[e] / ds), -32, 31) + 32 : 32;
        int h = e / 128, c = (e % 128) / 32, l = e % 32;
        b[64 * h + 32 * (c & 1) + l] |= (uint8_t)((q & 0x0F) << (4 * (c >> 1)));
        b[Q6_K_QH + 32 * h + l] |= (uint8_t)((q >> 4) << (2 * c));
    }
    wr16(b + Q6_K_D, hd);
}

static void quantize_q8_0(const float *x, uint8_t *b) {
    float amax = 0;
    for (int l = 0; l < QG; l++) amax = fmaxf(amax, fabsf(x[l]));
    float d = amax / 127, id = d != 0 ? 1 / d : 0;
    wr16(b, f32_to_f16(d));
    for (int l = 0; l < QG; l++) b[2 + l] = (uint8_t)(int8_t)roundf(x[l] * id);
}

void dg_quantize(int dt, const float *src, void *dst, size_t count) {
    size_t be = dg_block_elements(dt), bb = dg_block_bytes(dt);
    for (size_t i = 0; i < count / be; i++) {
        const float *x = src + i * be;
        uint8_t *b = (uint8_t *)dst + i * bb;
        switch (dt) {
        case DG_Q8_0: quantize_q8_0(x, b); break;
        case DG_Q4_0: quantize_sym(x, b, 0); break;
        case DG_Q5_0: quantize_sym(x, b, 1); break;
        case DG_Q4_1: quantize_asym(x, b, 0); break;
        case DG_Q5_1: quantize_asym(x, b, 1); break;
        case DG_Q4_K: quantize_k_asym(x, b, 0); break;
        case DG_Q5_K: quantize_k_asym(x, b, 1); break;
        case DG_Q6_K: quantize_q6_k(x, b); break;
        default: break;
        }
    }
}
