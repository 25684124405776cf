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
 * — an exact int32 dot product (AVX2: vpsignb + vpmaddubsw + vpmaddwd, the last with the half
 * factors) scaled in f32. Nothing depends on M or on which rows a thread was given: each (weight
 * row, activation row) walks its groups in order into its own accumulator, so decode and
 * verification rows are bitwise identical.
 *
 * Tile: a weight row is unpacked once (int8 quants and per-group scales, into per-thread scratch
 * of 1.4 × K bytes, in L1 for K ≤ 16384), then multiplied by 4 activation rows at a time; memory
 * sees each weight row once per call whatever M is.
 *
 * AVX-512 VNNI (vpdpbusd) is not written: the host these kernels were developed and measured on
 * has AVX2 only, and a path nobody here can run is not kept. AVX-512 CPUs run the AVX2 code.
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
 * fields are widened once for its 8 groups); `H2F` widens an f16 (portable or F16C). */
#define DEFINE_GROUP_SCALE(NAME, ATTR, H2F)                                                          \
    INLINE ATTR void NAME(int dt, const uint8_t *b, group_scale *out) {                            \
        switch (dt) {                                                                               \
        case DG_Q4_1: case DG_Q5_1:                                                                 \
            *out = (group_scale){H2F(rd16(b)), H2F(rd16(b + 2)), 1, 1};                             \
            break;                                                                                  \
        case DG_Q4_K: case DG_Q5_K: {                                                               \
            float d = H2F(rd16(b)), dmin = H2F(rd16(b + 2));                                        \
            for (int j = 0; j < GROUPS_PER_SUPER; j++) {                                            \
                int sc, mn;                                                                         \
                k_scale_min(b + K_SCALES, j, &sc, &mn);                                             \
                out[j] = (group_scale){d * (float)sc, -dmin * (float)mn, 1, 1};                     \
            }                                                                                       \
            break;                                                                                  \
        }                                                                                           \
        case DG_Q6_K: {                                                                             \
            const int8_t *sc = (const int8_t *)(b + Q6_K_SCALES);                                   \
            float d = H2F(rd16(b + Q6_K_D));                                                        \
            for (int j = 0; j < GROUPS_PER_SUPER; j++)                                              \
                out[j] = (group_scale){d, 0, sc[2 * j], sc[2 * j + 1]};                             \
            break;                                                                                  \
        }                                                                                           \
        default:                                                                                    \
            *out = (group_scale){H2F(rd16(b)), 0, 1, 1};                                            \
            break;                                                                                  \
        }                                                                                           \
    }

DEFINE_GROUP_SCALE(group_scale_portable, , f16_to_f32)

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

/* ---------------------------------------------------------------- products */

/* Activation rows per tile (accumulators held in registers). */
#define QMB 4

/* Per-thread scratch for one weight row unpacked: its quants as int8 and its groups' scales. A row
 * is unpacked once and then read from L1 by every activation tile, so the bit-twiddling costs the
 * same at M = 32 as at M = 1. */
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

/* One weight row into the per-thread scratch (reserve_row first): the kernels' scales of every
 * group (SCALES, then the offset folded) and its quants as stored (STORE_GROUP(dt, block, j, dst)). */
#define DEFINE_UNPACK_ROW(NAME, ATTR, SCALES, STORE_GROUP)                                            \
    INLINE ATTR void NAME(int dt, const uint8_t *row, size_t ng) {                                 \
        size_t gpb = (size_t)groups_per_block(dt), bb = dg_block_bytes(dt);                         \
        for (size_t g = 0; g < ng; g += gpb) {                                                      \
            const uint8_t *b = row + g / gpb * bb;                                                  \
            SCALES(dt, b, row_scales + g);                                                          \
            fold_offset(dt, row_scales + g);                                                        \
            for (size_t j = 0; j < gpb; j++) STORE_GROUP(dt, b, (int)j, row_quants + (g + j) * QG); \
        }                                                                                           \
    }

INLINE void store_group_portable(int dt, const uint8_t *b, int j, int8_t *dst) { unpack_portable(dt, b, j, dst, 1); }

DEFINE_UNPACK_ROW(unpack_row_portable, , group_scale_portable, store_group_portable)

/* Y for activation rows m0 … m0+MB-1 of one unpacked weight row. */
INLINE void tile_portable(int dt, int MB, const int8_t *q, const group_scale *sc, size_t ng,
                          const dg_q8_block *X, float *Y, size_t ldy) {
    float acc[QMB] = {0}, accm[QMB] = {0};
    for (size_t g = 0; g < ng; g++) {
        const int8_t *w = q + g * QG;
        for (int i = 0; i < MB; i++) {
            const dg_q8_block *x = X + i * ng + g;
            int32_t lo = 0, hi = 0;
            for (int l = 0; l < 16; l++) lo += w[l] * x->q[l];
            for (int l = 16; l < QG; l++) hi += w[l] * x->q[l];
            acc[i] += (sc[g].d * x->d) * (float)(lo * sc[g].s0 + hi * sc[g].s1);
            if (kernel_has_min(dt)) accm[i] += sc[g].m * x->s;
        }
    }
    for (int i = 0; i < MB; i++) Y[i * ldy] = acc[i] + accm[i];
}

static void mm_quant_portable(int dt, const uint8_t *W, size_t rb, size_t ng, size_t n0, size_t n1,
                              const dg_q8_block *XQ, size_t M, float *Y, size_t ldy) {
    if (!reserve_row(ng)) return;
    for (size_t n = n0; n < n1; n++) {
        unpack_row_portable(dt, W + n * rb, ng);
        for (size_t m0 = 0; m0 < M; m0 += QMB) {
            size_t mb = M - m0 < QMB ? M - m0 : QMB;
            tile_portable(dt, (int)mb, row_quants, row_scales, ng, XQ + m0 * ng, Y + m0 * ldy + n, ldy);
        }
    }
}

INLINE T256 float f16_to_f32_f16c(uint16_t h) { return _cvtsh_ss(h); }
DEFINE_GROUP_SCALE(group_scale_256, T256, f16_to_f32_f16c)

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

/* Σ over 4-element quads of w·x, each half (elements 0–15, 16–31) times its factor, in 8 int32
 * lanes. Unsigned w (≤ 31) goes straight into vpmaddubsw; signed w as |w| times x with w's sign.
 * vpmaddubsw cannot saturate: 2·128·127 < 2^15. */
INLINE T256 __m256i dot256(int dt, __m256i w, __m256i x, __m256i factors) {
    __m256i pairs = kernel_unsigned(dt) ? _mm256_maddubs_epi16(w, x)
                                        : _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    return _mm256_madd_epi16(pairs, factors);
}

INLINE T256 void store_group_256(int dt, const uint8_t *b, int j, int8_t *dst) {
    _mm256_store_si256((__m256i *)dst, unpack256(dt, b, j));
}
DEFINE_UNPACK_ROW(unpack_row_256, T256, group_scale_256, store_group_256)

/* Group g of one weight row (quants w, scales s) into the accumulators of MB activation rows. */
INLINE T256 void step256(int dt, int MB, __m256i w, const group_scale *s, const dg_q8_block *X, size_t ng,
                         size_t g, __m256 acc[QMB], float accm[QMB]) {
    __m256i factors = dt == DG_Q6_K ? _mm256_set_m128i(_mm_set1_epi16(s->s1), _mm_set1_epi16(s->s0))
                                    : _mm256_set1_epi16(1);
    for (int i = 0; i < MB; i++) {
        const dg_q8_block *x = X + i * ng + g;
        __m256i dot = dot256(dt, w, _mm256_loadu_si256((const __m256i *)x->q), factors);
        acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(s->d * x->d), acc[i]);
        if (kernel_has_min(dt)) accm[i] += s->m * x->s;
    }
}

/* Stores the MB row sums (the same lane tree for every tile). */
INLINE T256 void finish256(int MB, const __m256 acc[QMB], const float accm[QMB], float *Y, size_t ldy) {
    for (int i = 0; i < MB; i++) Y[i * ldy] = hsum256(acc[i]) + accm[i];
}

/* MB activation rows against a weight row unpacked into scratch (M > QMB: several tiles). */
INLINE T256 void tile_256(int dt, int MB, const int8_t *q, const group_scale *sc, size_t ng,
                          const dg_q8_block *X, float *Y, size_t ldy) {
    __m256 acc[QMB];
    float accm[QMB] = {0};
    for (int i = 0; i < MB; i++) acc[i] = _mm256_setzero_ps();
    for (size_t g = 0; g < ng; g++)
        step256(dt, MB, _mm256_load_si256((const __m256i *)(q + g * QG)), sc + g, X, ng, g, acc, accm);
    finish256(MB, acc, accm, Y, ldy);
}

/* M ≤ QMB: one tile, so each group is unpacked straight into registers (no scratch round trip);
 * the same operations in the same order as tile_256, so rows match bitwise across M. */
INLINE T256 void row_fused_256(int dt, int MB, const uint8_t *row, size_t ng, const dg_q8_block *X,
                               float *Y, size_t ldy) {
    __m256 acc[QMB];
    float accm[QMB] = {0};
    group_scale sc[GROUPS_PER_SUPER];
    for (int i = 0; i < MB; i++) acc[i] = _mm256_setzero_ps();
    size_t gpb = (size_t)groups_per_block(dt), bb = dg_block_bytes(dt);
    for (size_t g = 0; g < ng; g += gpb) {
        const uint8_t *b = row + g / gpb * bb;
        group_scale_256(dt, b, sc);
        fold_offset(dt, sc);
        for (size_t j = 0; j < gpb; j++) step256(dt, MB, unpack256(dt, b, (int)j), sc + j, X, ng, g + j, acc, accm);
    }
    finish256(MB, acc, accm, Y, ldy);
}

INLINE T256 void mm_quant_256(int dt, const uint8_t *W, size_t rb, size_t ng, size_t n0, size_t n1,
                              const dg_q8_block *XQ, size_t M, float *Y, size_t ldy) {
    if (M <= QMB) {
        /* Constant tile heights, so the accumulators stay in registers. */
        for (size_t n = n0; n < n1; n++) {
            switch (M) {
            case 1: row_fused_256(dt, 1, W + n * rb, ng, XQ, Y + n, ldy); break;
            case 2: row_fused_256(dt, 2, W + n * rb, ng, XQ, Y + n, ldy); break;
            case 3: row_fused_256(dt, 3, W + n * rb, ng, XQ, Y + n, ldy); break;
            default: row_fused_256(dt, 4, W + n * rb, ng, XQ, Y + n, ldy); break;
            }
        }
        return;
    }
    if (!reserve_row(ng)) return;
    for (size_t n = n0; n < n1; n++) {
        unpack_row_256(dt, W + n * rb, ng);
        for (size_t m0 = 0; m0 < M; m0 += QMB) {
            const dg_q8_block *X = XQ + m0 * ng;
            float *y = Y + m0 * ldy + n;
            switch (M - m0 < QMB ? M - m0 : QMB) {
            case 1: tile_256(dt, 1, row_quants, row_scales, ng, X, y, ldy); break;
            case 2: tile_256(dt, 2, row_quants, row_scales, ng, X, y, ldy); break;
            case 3: tile_256(dt, 3, row_quants, row_scales, ng, X, y, ldy); break;
            default: tile_256(dt, 4, row_quants, row_scales, ng, X, y, ldy); break;
            }
        }
    }
}

/* One instantiation per type, so the type switches fold away. */
#define QUANT_256(NAME, DT)                                                                          \
    static T256 void NAME(const uint8_t *W, size_t rb, size_t ng, size_t n0, size_t n1,            \
                          const dg_q8_block *XQ, size_t M, float *Y, size_t ldy) {                  \
        mm_quant_256(DT, W, rb, ng, n0, n1, XQ, M, Y, ldy);                                         \
    }
QUANT_256(mm256_q8_0, DG_Q8_0)
QUANT_256(mm256_q4_0, DG_Q4_0)
QUANT_256(mm256_q4_1, DG_Q4_1)
QUANT_256(mm256_q5_0, DG_Q5_0)
QUANT_256(mm256_q5_1, DG_Q5_1)
QUANT_256(mm256_q4_k, DG_Q4_K)
QUANT_256(mm256_q5_k, DG_Q5_K)
QUANT_256(mm256_q6_k, DG_Q6_K)

void dg_matmul_quant_isa(int isa, int dt, const void *W, size_t K, size_t n0, size_t n1,
                         const dg_q8_block *XQ, size_t M, float *Y, size_t ldy) {
    size_t rb = K / dg_block_elements(dt) * dg_block_bytes(dt), ng = K / QG;
    if (isa > dg_cpu_isa()) isa = dg_cpu_isa();
    if (isa >= DG_ISA_AVX2) {
        switch (dt) {
        case DG_Q8_0: mm256_q8_0(W, rb, ng, n0, n1, XQ, M, Y, ldy); return;
        case DG_Q4_0: mm256_q4_0(W, rb, ng, n0, n1, XQ, M, Y, ldy); return;
        case DG_Q4_1: mm256_q4_1(W, rb, ng, n0, n1, XQ, M, Y, ldy); return;
        case DG_Q5_0: mm256_q5_0(W, rb, ng, n0, n1, XQ, M, Y, ldy); return;
        case DG_Q5_1: mm256_q5_1(W, rb, ng, n0, n1, XQ, M, Y, ldy); return;
        case DG_Q4_K: mm256_q4_k(W, rb, ng, n0, n1, XQ, M, Y, ldy); return;
        case DG_Q5_K: mm256_q5_k(W, rb, ng, n0, n1, XQ, M, Y, ldy); return;
        case DG_Q6_K: mm256_q6_k(W, rb, ng, n0, n1, XQ, M, Y, ldy); return;
        default: return;
        }
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
