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
 * qx in [-127, 127], plus sx = dx·Σqx and the integer sums of both halves). One (group,
 * activation block) pair then contributes
 *     d·dx · Σ_l s·q[l]·qx[l]  +  m·sx
 * — an exact int32 dot product scaled in f32 (the "products" section below defines the float
 * steps every (weight row, activation row) pair takes; the portable and AVX2 paths run exactly
 * those, so rows are bitwise the same whatever M, the tile or the instruction set: decode and
 * verification agree, and speculative greedy equals plain greedy).
 *
 * Weights are tiled once at load (dg_tile_rows): 8 rows interleaved field by field, so that one
 * 32-byte load holds a 4-byte chunk of each of the 8 rows. AVX2 tile: 8 weight rows × all M
 * activation rows, each row owning an int32 lane and each activation 4-byte chunk broadcast to
 * all 8 (vpmaddubsw + vpmaddwd, no horizontal sums); memory sees each tile once per call, as one
 * contiguous run, whatever M is.
 *
 * AVX-512 VNNI: the same tiles with vpdpbusd (u8 × s8, four products summed into each int32 lane,
 * the activation chunk an embedded broadcast) in place of each vpmaddubsw + int16 add + vpmaddwd,
 * on 256-bit registers (AVX-512 VL). The runs of the AVX2 path never saturate, so both give the
 * same int32 sums and the rows stay bitwise the same on either path. The instruction is written as
 * inline assembly with an {evex} prefix so that the tile code stays one AVX2 function body,
 * instantiated once per path; the VNNI instantiations run only where the CPU has AVX-512 VNNI and
 * VL (dg_cpu_has_vnni).
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

/* The 32 quants of group j of the block at b, offsets of the symmetric formats removed (signed)
 * unless `raw` (then as stored: what the kernels multiply). */
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
            q[l] = (int8_t)((((ql[l] >> (4 * (c >> 1))) & 0x0F) | (((qh[l] >> (2 * c)) & 3) << 4)) - (raw ? 0 : 32));
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

/* The fields a block's quants and scale give. */
INLINE void finish_block(dg_q8_block *o, float d, int half0, int half1) {
    o->d = d;
    o->s = d * (float)(half0 + half1);
    o->sum = half0 + half1;
    o->half[0] = (int16_t)half0;
    o->half[1] = (int16_t)half1;
}

static void quantize_block(const float *x, dg_q8_block *o) {
    float amax = 0;
    for (int l = 0; l < QG; l++) amax = fmaxf(amax, fabsf(x[l]));
    float d = amax / 127, id = d != 0 ? 1 / d : 0;
    int half[2] = {0, 0};
    for (int l = 0; l < QG; l++) {
        o->q[l] = (int8_t)roundf(x[l] * id);
        half[l >= 16] += o->q[l];
    }
    finish_block(o, d, half[0], half[1]);
}

/* quantize_block in AVX2, bitwise the same: the maximum is exact in any order (a NaN ignored, as
 * fmaxf does), the scale and its inverse are the same divisions (vector divisions are correctly
 * rounded like scalar ones), x·id the same product, and round-half-away-from-zero is trunc(y)
 * plus the sign of y where |y − trunc(y)| ≥ 0.5 (y − trunc(y) is exact). A row's blocks take
 * their scales 8 at a time (two vector divisions in place of 16 scalar ones). */
INLINE T256 float block_amax_256(const float *x) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 amax = _mm256_setzero_ps();
    for (int i = 0; i < 4; i++) /* a NaN operand gives amax */
        amax = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + 8 * i)), amax);
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

INLINE T256 void quantize_block_scaled_256(const float *x, float d, float id, dg_q8_block *o) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 vid = _mm256_set1_ps(id), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    __m256i q[4];
    for (int i = 0; i < 4; i++) {
        __m256 y = _mm256_mul_ps(_mm256_loadu_ps(x + 8 * i), vid), t = _mm256_round_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m256 away = _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(y, t)), half, _CMP_GE_OQ);
        t = _mm256_add_ps(t, _mm256_and_ps(away, _mm256_or_ps(_mm256_and_ps(y, sign), one)));
        q[i] = _mm256_cvttps_epi32(t);
    }
    /* int32 → int8 by two saturating packs (in-lane), then the dwords back in element order. */
    __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
    _mm256_storeu_si256((__m256i *)o->q, _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    __m256i lo = _mm256_add_epi32(q[0], q[1]), hi = _mm256_add_epi32(q[2], q[3]);
    __m128i l4 = _mm_add_epi32(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1));
    __m128i h4 = _mm_add_epi32(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1));
    __m128i both = _mm_hadd_epi32(_mm_hadd_epi32(l4, h4), _mm_setzero_si128()); /* lo sum, hi sum, 0, 0 */
    finish_block(o, d, _mm_cvtsi128_si32(both), _mm_extract_epi32(both, 1));
}

static T256 void quantize_row_256(const float *x, size_t nb, dg_q8_block *o) {
    size_t b = 0;
    for (; b + 8 <= nb; b += 8) {
        float amax[8], d[8], id[8];
        for (int j = 0; j < 8; j++) amax[j] = block_amax_256(x + (b + j) * QG);
        __m256 vd = _mm256_div_ps(_mm256_loadu_ps(amax), _mm256_set1_ps(127));
        /* d != 0 ? 1 / d : 0, a NaN d unordered (≠ 0) as in C */
        __m256 nonzero = _mm256_cmp_ps(vd, _mm256_setzero_ps(), _CMP_NEQ_UQ);
        _mm256_storeu_ps(d, vd);
        _mm256_storeu_ps(id, _mm256_and_ps(nonzero, _mm256_div_ps(_mm256_set1_ps(1), vd)));
        for (int j = 0; j < 8; j++) quantize_block_scaled_256(x + (b + j) * QG, d[j], id[j], o + b + j);
    }
    for (; b < nb; b++) {
        float d = block_amax_256(x + b * QG) / 127, id = d != 0 ? 1 / d : 0;
        quantize_block_scaled_256(x + b * QG, d, id, o + b);
    }
}

void dg_quantize_activations(const float *X, size_t M, size_t ldx, size_t K, dg_q8_block *XQ) {
    dg_quantize_activations_isa(dg_cpu_isa(), X, M, ldx, K, XQ);
}

void dg_quantize_activations_isa(int isa, const float *X, size_t M, size_t ldx, size_t K, dg_q8_block *XQ) {
    size_t nb = K / QG;
    int vector = isa >= DG_ISA_AVX2 && dg_cpu_isa() >= DG_ISA_AVX2;
    for (size_t m = 0; m < M; m++) {
        if (vector) quantize_row_256(X + m * ldx, nb, XQ + m * nb);
        else
            for (size_t b = 0; b < nb; b++) quantize_block(X + m * ldx + b * QG, XQ + m * nb + b);
    }
}

/* ---------------------------------------------------------------- the tiled layout
 *
 * The kernels read weights tiled (dg_tile_rows, once at load): DG_QUANT_TILE_ROWS = 8 consecutive
 * rows interleaved block by block, each field of the block (an f16 scale, packed scales, quants)
 * held 8 times side by side in granules of its width — 4 bytes for quants and packed scales, 2
 * for an f16. Granule i of row r of the field at byte o of a block lies at byte 8·o + (8·i + r)·G
 * of the tile's block, so one 32-byte load gives a 4-byte chunk of all 8 rows (row r in int32
 * lane r) and one 16-byte load the 8 rows' f16 scale: no unpacking into rows, no transposes, and a
 * tile is one contiguous run of memory. The bytes are the rows' bytes, permuted (the last tile
 * padded with zero rows). */

typedef struct { uint8_t at, bytes, granule; } block_field;

/* A type's block fields (ggml-common.h's struct members, in order); returns how many. */
static int block_fields(int dt, block_field f[5]) {
    const block_field d = {0, 2, 2};
    switch (dt) {
    case DG_Q8_0: f[0] = d; f[1] = (block_field){2, 32, 4}; return 2;
    case DG_Q4_0: f[0] = d; f[1] = (block_field){2, 16, 4}; return 2;
    case DG_Q4_1: f[0] = d; f[1] = (block_field){2, 2, 2}; f[2] = (block_field){4, 16, 4}; return 3;
    case DG_Q5_0: f[0] = d; f[1] = (block_field){2, 4, 4}; f[2] = (block_field){6, 16, 4}; return 3;
    case DG_Q5_1:
        f[0] = d; f[1] = (block_field){2, 2, 2}; f[2] = (block_field){4, 4, 4}; f[3] = (block_field){8, 16, 4};
        return 4;
    case DG_Q4_K:
        f[0] = d; f[1] = (block_field){2, 2, 2}; f[2] = (block_field){K_SCALES, 12, 4}; f[3] = (block_field){Q4_K_QS, 128, 4};
        return 4;
    case DG_Q5_K:
        f[0] = d; f[1] = (block_field){2, 2, 2}; f[2] = (block_field){K_SCALES, 12, 4};
        f[3] = (block_field){Q5_K_QH, 32, 4}; f[4] = (block_field){Q5_K_QS, 128, 4};
        return 5;
    case DG_Q6_K:
        f[0] = (block_field){0, 128, 4}; f[1] = (block_field){Q6_K_QH, 64, 4}; f[2] = (block_field){Q6_K_SCALES, 16, 4};
        f[3] = (block_field){Q6_K_D, 2, 2};
        return 4;
    default: return 0;
    }
}

/* Copies row r's block between the row layout (row_block) and its tile's block (tile_block). */
static void move_block(const block_field *f, int nf, uint8_t *tile_block, uint8_t *row_block, int r, int into_tile) {
    for (int i = 0; i < nf; i++)
        for (int g = 0; g < f[i].bytes / f[i].granule; g++) {
            uint8_t *t = tile_block + 8 * f[i].at + (8 * g + r) * f[i].granule, *w = row_block + f[i].at + g * f[i].granule;
            uint8_t *to = into_tile ? t : w, *from = into_tile ? w : t;
            if (f[i].granule == 4) memcpy(to, from, 4); /* constant sizes: moves, not calls */
            else memcpy(to, from, 2);
        }
}

size_t dg_tiled_bytes(int dt, size_t rows, size_t K) {
    return (rows + DG_QUANT_TILE_ROWS - 1) / DG_QUANT_TILE_ROWS * DG_QUANT_TILE_ROWS * (K / dg_block_elements(dt) * dg_block_bytes(dt));
}

void dg_tile_rows(int dt, const void *src, size_t rows, size_t K, size_t t0, size_t t1, void *dst) {
    block_field f[5];
    int nf = block_fields(dt, f);
    size_t bb = dg_block_bytes(dt), nb = K / dg_block_elements(dt), rb = nb * bb;
    for (size_t t = t0; t < t1; t++) {
        uint8_t *tile = (uint8_t *)dst + t * DG_QUANT_TILE_ROWS * rb;
        if ((t + 1) * DG_QUANT_TILE_ROWS > rows) memset(tile, 0, DG_QUANT_TILE_ROWS * rb);
        for (size_t n = t * DG_QUANT_TILE_ROWS; n < (t + 1) * DG_QUANT_TILE_ROWS && n < rows; n++)
            for (size_t b = 0; b < nb; b++)
                move_block(f, nf, tile + b * DG_QUANT_TILE_ROWS * bb, (uint8_t *)src + n * rb + b * bb,
                           (int)(n % DG_QUANT_TILE_ROWS), 1);
    }
}

void dg_untile_rows(int dt, const void *tiled, size_t K, size_t n0, size_t count, void *dst) {
    block_field f[5];
    int nf = block_fields(dt, f);
    size_t bb = dg_block_bytes(dt), nb = K / dg_block_elements(dt), rb = nb * bb;
    for (size_t n = n0; n < n0 + count; n++) {
        const uint8_t *tile = (const uint8_t *)tiled + n / DG_QUANT_TILE_ROWS * DG_QUANT_TILE_ROWS * rb;
        for (size_t b = 0; b < nb; b++)
            move_block(f, nf, (uint8_t *)tile + b * DG_QUANT_TILE_ROWS * bb, (uint8_t *)dst + (n - n0) * rb + b * bb,
                       (int)(n % DG_QUANT_TILE_ROWS), 0);
    }
}

/* Per-thread scratch: one weight row in the row layout and unpacked (quants as int8, scales). */
static __thread uint8_t *row_bytes = NULL;
static __thread int8_t *row_quants = NULL;
static __thread group_scale *row_scales = NULL;
static __thread size_t row_capacity = 0;

static int reserve_row(size_t ng) {
    if (ng <= row_capacity) return 1;
    free(row_bytes);
    free(row_quants);
    free(row_scales);
    row_bytes = malloc(ng * Q8_0_BYTES); /* the most bytes any type takes for 32 elements */
    row_quants = aligned_alloc(64, (ng * QG + 63) / 64 * 64);
    row_scales = malloc(ng * sizeof(group_scale));
    row_capacity = row_bytes && row_quants && row_scales ? ng : 0;
    return row_capacity != 0;
}

void dg_dequantize_tiled(int dt, const void *tiled, size_t K, size_t n0, size_t count, float *dst) {
    if (!reserve_row(K / QG)) return;
    for (size_t n = n0; n < n0 + count; n++) {
        dg_untile_rows(dt, tiled, K, n, 1, row_bytes);
        dg_dequantize(dt, row_bytes, dst + (n - n0) * K, K);
    }
}

/* ---------------------------------------------------------------- products
 *
 * What every (weight row n, activation row m) pair is, whatever M, the tile it lands in or the
 * instruction set (the portable loop computes exactly this; the AVX2 and VNNI kernels the same
 * operations, one pair per vector lane):
 *
 *     acc = 0, accm = 0
 *     for each group g in order:  lo   = Σ_{l<16} q[l]·qx[l] − o·Σ_{l<16} qx[l]    (q as stored,
 *                                 hi   = Σ_{l≥16} q[l]·qx[l] − o·Σ_{l≥16} qx[l]     o its offset)
 *                                 isum = s0·lo + s1·hi                              (exact, int32)
 *                                 acc  = fma((float)isum, d_g·dx_g, acc)
 *                                 accm = fma(m_g, sx_g, accm)       (types with a minimum)
 *     y = acc + accm              (types with a minimum; y = acc otherwise)
 *
 * The integer sum is exact however it is formed, and each float step reads only this pair's
 * values, so decode (M = 1) and verification (M = k) give bitwise the same rows by construction.
 * The offsets of the symmetric types (Q4_0 8, Q5_0 16, Q6_K 32) are taken off in integers, from
 * the activation block's own sums. */

/* The offset a type's stored quants carry. */
INLINE int kernel_offset(int dt) { return dt == DG_Q4_0 ? 8 : dt == DG_Q5_0 ? 16 : dt == DG_Q6_K ? 32 : 0; }
/* Whether a type has a per-group minimum (w = d·q + m). */
INLINE int kernel_has_min(int dt) { return dt == DG_Q4_1 || dt == DG_Q5_1 || dt == DG_Q4_K || dt == DG_Q5_K; }

static void mm_quant_portable(int dt, const uint8_t *W, size_t K, size_t n0, size_t n1,
                              const dg_q8_block *XQ, size_t M, float *Y, size_t ldy) {
    size_t ng = K / QG, gpb = (size_t)groups_per_block(dt), bb = dg_block_bytes(dt);
    if (!reserve_row(ng)) return;
    int off = kernel_offset(dt);
    for (size_t n = n0; n < n1; n++) {
        dg_untile_rows(dt, W, K, n, 1, row_bytes);
        for (size_t g = 0; g < ng; g += gpb) {
            const uint8_t *b = row_bytes + g / gpb * bb;
            group_scale_portable(dt, b, row_scales + g);
            for (size_t j = 0; j < gpb; j++) unpack_portable(dt, b, (int)j, row_quants + (g + j) * QG, 1);
        }
        for (size_t m = 0; m < M; m++) {
            const dg_q8_block *x = XQ + m * ng;
            float acc = 0, accm = 0;
            for (size_t g = 0; g < ng; g++) {
                const int8_t *w = row_quants + g * QG;
                const group_scale *s = row_scales + g;
                /* Q8_0 is the one signed type; the others' quants read as unsigned bytes. */
                int32_t lo = 0, hi = 0;
                for (int l = 0; l < QG; l++) {
                    int q = dt == DG_Q8_0 ? w[l] : (uint8_t)w[l];
                    if (l < 16) lo += q * x[g].q[l];
                    else hi += q * x[g].q[l];
                }
                lo -= off * x[g].half[0];
                hi -= off * x[g].half[1];
                acc = fmaf((float)(lo * s->s0 + hi * s->s1), s->d * x[g].d, acc);
                if (kernel_has_min(dt)) accm = fmaf(s->m, x[g].s, accm);
            }
            Y[m * ldy + n] = kernel_has_min(dt) ? acc + accm : acc;
        }
    }
}

/* ---- AVX2 and VNNI: tiles of 8 weight rows × all activation rows
 *
 * A group of the tiled layout is 8 registers, chunk k of the 8 rows' quants (row r in int32 lane
 * r). Each activation row broadcasts its chunk k to all lanes, so one vpmaddubsw + vpmaddwd (AVX2)
 * or one vpdpbusd (VNNI) per chunk leaves the 8 rows' partial sums in their own lanes, with no
 * horizontal reduction, and the group's 8 scales d_g·dx_g are one vector multiply. Memory sees each
 * tile once per call as one contiguous run; an extra activation row costs 8 multiply instructions
 * per group plus its scale steps. */

#define QR DG_QUANT_TILE_ROWS
/* Activation rows whose accumulators one pass over a tile holds; more rows take further passes
 * over the tile (from cache), each pair still summed as above. */
#define QMAXM 32
/* 4-byte chunks per group. */
#define QCHUNKS (QG / 4)
/* How far ahead of the block being read the kernel prefetches, in bytes. */
#define QPREFETCH 2048

/* Granule i (4 bytes) of the field at byte `at` of the tile's block B, for its 8 rows. */
INLINE T256 __m256i tile_chunk(const uint8_t *B, int at, int i) {
    return _mm256_loadu_si256((const __m256i *)(B + QR * at + 32 * i));
}

/* The 8 rows' f16 at byte `at` of the tile's block B, widened. */
INLINE T256 __m256 tile_f16(const uint8_t *B, int at) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(B + QR * at)));
}

/* Chunk k of group j of the tile's block B into u[k]: the quants as stored (unsigned, offset not
 * removed; Q8_0 signed), unpack_portable(…, raw = 1) one lane per row. */
INLINE T256 void group_quants(int dt, const uint8_t *B, int j, __m256i u[QCHUNKS]) {
    const __m256i low4 = _mm256_set1_epi8(0x0F);
    switch (dt) {
    case DG_Q8_0:
        for (int k = 0; k < QCHUNKS; k++) u[k] = tile_chunk(B, 2, k);
        break;
    case DG_Q4_0: case DG_Q4_1: case DG_Q5_0: case DG_Q5_1: { /* byte l: element l low, l + 16 high */
        int qs = dt == DG_Q4_0 ? 2 : dt == DG_Q4_1 ? 4 : dt == DG_Q5_0 ? 6 : 8;
        for (int k = 0; k < QCHUNKS / 2; k++) {
            __m256i v = tile_chunk(B, qs, k);
            u[k] = _mm256_and_si256(v, low4);
            u[k + QCHUNKS / 2] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
        }
        if (dt == DG_Q5_0 || dt == DG_Q5_1) {
            /* Lane r holds row r's qh word; bits 4k … 4k+3 (chunk k's elements) spread to the low
             * bit of bytes 0 … 3 by one multiply (x·0x00204081 puts bit b at 8b, no carries), then
             * moved to bit 4. */
            __m256i h = tile_chunk(B, dt == DG_Q5_0 ? 2 : 4, 0);
            const __m256i spread = _mm256_set1_epi32(0x00204081), nibble = _mm256_set1_epi32(0x0F), ones = _mm256_set1_epi32(0x01010101);
            for (int k = 0; k < QCHUNKS; k++) {
                __m256i bits = _mm256_and_si256(_mm256_srli_epi32(h, 4 * k), nibble);
                u[k] = _mm256_or_si256(u[k], _mm256_slli_epi32(_mm256_and_si256(_mm256_mullo_epi32(bits, spread), ones), 4));
            }
        }
        break;
    }
    case DG_Q4_K: case DG_Q5_K: { /* 64-element runs: low nibbles the even group, high the odd */
        int qs = dt == DG_Q4_K ? Q4_K_QS : Q5_K_QS;
        for (int k = 0; k < QCHUNKS; k++)
            u[k] = _mm256_and_si256(_mm256_srli_epi16(tile_chunk(B, qs, 8 * (j / 2) + k), 4 * (j & 1)), low4);
        if (dt == DG_Q5_K) /* bit j of qh byte l is bit 4 of element l */
            for (int k = 0; k < QCHUNKS; k++) {
                __m256i h = _mm256_and_si256(_mm256_srli_epi16(tile_chunk(B, Q5_K_QH, k), j), _mm256_set1_epi8(1));
                u[k] = _mm256_or_si256(u[k], _mm256_slli_epi16(h, 4));
            }
        break;
    }
    case DG_Q6_K: { /* 128-element halves h; quarter c: ql nibbles and bits 2c, 2c+1 of qh (moved
                       to bits 4 and 5 with one shift: the mask drops what crosses bytes) */
        int h = j / 4, c = j % 4;
        const __m256i bits45 = _mm256_set1_epi8(0x30);
        for (int k = 0; k < QCHUNKS; k++) {
            __m256i l = tile_chunk(B, 0, 16 * h + 8 * (c & 1) + k), q = tile_chunk(B, Q6_K_QH, 8 * h + k);
            __m256i lo = _mm256_and_si256(c >> 1 ? _mm256_srli_epi16(l, 4) : l, low4);
            __m256i hi = c == 0 ? _mm256_slli_epi16(q, 4) : c == 1 ? _mm256_slli_epi16(q, 2) : c == 2 ? q : _mm256_srli_epi16(q, 2);
            u[k] = _mm256_or_si256(lo, _mm256_and_si256(hi, bits45));
        }
        break;
    }
    default: break;
    }
}

/* Group j's scales for the tile's 8 rows, the same float operations as group_scale_portable: d and
 * m (types with a minimum), and for Q6_K its half factors s0, s1 as int32 lanes. */
INLINE T256 void group_scales(int dt, const uint8_t *B, int j, __m256 *d, __m256 *m, __m256i *s0, __m256i *s1) {
    switch (dt) {
    case DG_Q4_1: case DG_Q5_1:
        *d = tile_f16(B, 0);
        *m = tile_f16(B, 2);
        break;
    case DG_Q4_K: case DG_Q5_K: { /* k_scale_min on the 8 rows' packed words at once */
        __m256i u0 = tile_chunk(B, K_SCALES, 0), u1 = tile_chunk(B, K_SCALES, 1), u2 = tile_chunk(B, K_SCALES, 2);
        const __m256i low6 = _mm256_set1_epi32(63), low4 = _mm256_set1_epi32(15), top2 = _mm256_set1_epi32(3);
        __m256i sc, mn;
        if (j < 4) {
            sc = _mm256_and_si256(_mm256_srli_epi32(u0, 8 * j), low6);
            mn = _mm256_and_si256(_mm256_srli_epi32(u1, 8 * j), low6);
        } else {
            int s = 8 * (j - 4);
            sc = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(u2, s), low4),
                                 _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u0, s + 6), top2), 4));
            mn = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(u2, s + 4), low4),
                                 _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u1, s + 6), top2), 4));
        }
        __m256 neg_dmin = _mm256_xor_ps(tile_f16(B, 2), _mm256_set1_ps(-0.0f)); /* -dmin, as the portable path */
        *d = _mm256_mul_ps(tile_f16(B, 0), _mm256_cvtepi32_ps(sc));
        *m = _mm256_mul_ps(neg_dmin, _mm256_cvtepi32_ps(mn));
        break;
    }
    case DG_Q6_K: { /* int8 scales 2j and 2j + 1: bytes 2(j & 1) and 2(j & 1) + 1 of granule j / 2 */
        __m256i v = tile_chunk(B, Q6_K_SCALES, j / 2);
        int b = 2 * (j & 1);
        *d = tile_f16(B, Q6_K_D);
        *s0 = _mm256_srai_epi32(_mm256_slli_epi32(v, 24 - 8 * b), 24);
        *s1 = _mm256_srai_epi32(_mm256_slli_epi32(v, 16 - 8 * b), 24);
        break;
    }
    default:
        *d = tile_f16(B, 0);
        break;
    }
}

/* acc + Σ of each int32 lane's four u8 × s8 byte products, the s8 operand the 4 bytes at x
 * broadcast to every lane: AVX-512 VNNI's vpdpbusd on 256-bit registers with an embedded
 * broadcast, EVEX-encoded by hand so that it can sit in the AVX2 tile code; only the VNNI
 * instantiations reach it. */
INLINE T256 __m256i dpbusd_bcast(__m256i acc, __m256i u, const int8_t *x) {
    __asm__("%{evex%} vpdpbusd %2%{1to8%}, %1, %0" : "+x"(acc) : "x"(u), "m"(*(const int32_t *)(const void *)x));
    return acc;
}

/* The exact sums of group (u, the tile's 8 rows) with one activation block, lane r for row r:
 * lo and hi halves (chunks 0–3, 4–7), offsets taken off, combined with the half factors. VNNI
 * takes Q8_0's quants biased by 128 (a = q ⊕ 0x80, unsigned) and takes 128·Σqx off; AVX2 keeps
 * vpmaddubsw's operand unsigned with |q| and moves the sign to the activations. */
INLINE T256 __m256i group_sums(int dt, const __m256i u[QCHUNKS], const __m256i a[QCHUNKS], const dg_q8_block *xb,
                               __m256i s0, __m256i s1, int vnni) {
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    int off = kernel_offset(dt);
    if (vnni) {
        for (int k = 0; k < QCHUNKS / 2; k++) {
            lo = dpbusd_bcast(lo, a[k], xb->q + 4 * k);
            hi = dpbusd_bcast(hi, a[k + QCHUNKS / 2], xb->q + 4 * (k + QCHUNKS / 2));
        }
        if (dt == DG_Q8_0) off = 128;
    } else {
        /* vpmaddubsw's int16 pair sums added as int16 in runs that cannot overflow: each chunk adds
         * two products of ≤ 15 (4-bit), ≤ 31 (5-bit), ≤ 63 (Q6_K) or ≤ 128 (|Q8_0|) by ≤ 127, so
         * runs of 4, 4, 2 and 1 chunks stay below 32767 (30480, 31496, 32004, 32512). */
        const int run = dt == DG_Q8_0 ? 1 : dt == DG_Q6_K ? 2 : 4;
        const __m256i ones = _mm256_set1_epi16(1);
        for (int k0 = 0; k0 < QCHUNKS; k0 += run) {
            __m256i s = _mm256_setzero_si256();
            for (int k = k0; k < k0 + run; k++) {
                int32_t chunk;
                memcpy(&chunk, xb->q + 4 * k, 4);
                __m256i xv = _mm256_set1_epi32(chunk);
                s = _mm256_add_epi16(s, _mm256_maddubs_epi16(a[k], dt == DG_Q8_0 ? _mm256_sign_epi8(xv, u[k]) : xv));
            }
            if (k0 < QCHUNKS / 2) lo = _mm256_add_epi32(lo, _mm256_madd_epi16(s, ones));
            else hi = _mm256_add_epi32(hi, _mm256_madd_epi16(s, ones));
        }
    }
    if (dt == DG_Q6_K) {
        lo = _mm256_sub_epi32(lo, _mm256_set1_epi32(off * xb->half[0]));
        hi = _mm256_sub_epi32(hi, _mm256_set1_epi32(off * xb->half[1]));
        return _mm256_add_epi32(_mm256_mullo_epi32(lo, s0), _mm256_mullo_epi32(hi, s1));
    }
    __m256i sum = _mm256_add_epi32(lo, hi);
    /* off·Σqx as a shift of the broadcast sum (every offset is a power of two): no scalar
     * multiply and no move from a general register per pair. */
    return off ? _mm256_sub_epi32(sum, _mm256_slli_epi32(_mm256_set1_epi32(xb->sum), __builtin_ctz((unsigned)off))) : sum;
}

/* Group j of the tile's block B against activation rows 0 … mc-1 (their block of this group at x,
 * stride ng): each pair's steps. The group's quants stay in registers across the rows. */
INLINE T256 void tile_group(int dt, const uint8_t *B, int j, const dg_q8_block *x, size_t ng, size_t mc,
                            __m256 *acc, __m256 *accm, int vnni) {
    __m256i u[QCHUNKS], a[QCHUNKS], s0 = _mm256_setzero_si256(), s1 = s0;
    __m256 d, m = _mm256_setzero_ps();
    group_quants(dt, B, j, u);
    group_scales(dt, B, j, &d, &m, &s0, &s1);
    for (int k = 0; k < QCHUNKS; k++)
        a[k] = dt != DG_Q8_0 ? u[k] : vnni ? _mm256_xor_si256(u[k], _mm256_set1_epi8((char)0x80)) : _mm256_sign_epi8(u[k], u[k]);
    for (size_t c = 0; c < mc; c++, x += ng) {
        __m256i isum = group_sums(dt, u, a, x, s0, s1, vnni);
        acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, _mm256_broadcast_ss(&x->d)), acc[c]);
        if (kernel_has_min(dt)) accm[c] = _mm256_fmadd_ps(m, _mm256_broadcast_ss(&x->s), accm[c]);
    }
}

INLINE T256 void mm_quant_256(int dt, const uint8_t *W, size_t K, size_t n0, size_t n1,
                              const dg_q8_block *XQ, size_t M, float *Y, size_t ldy, int vnni) {
    size_t bb = dg_block_bytes(dt), gpb = (size_t)groups_per_block(dt), ng = K / QG, nb = ng / gpb;
    size_t tile_bytes = QR * nb * bb;
    __m256 acc[QMAXM], accm[QMAXM];
    for (size_t t = n0 / QR; t * QR < n1; t++) {
        const uint8_t *tile = W + t * tile_bytes;
        for (size_t m0 = 0; m0 < M; m0 += QMAXM) {
            size_t mc = M - m0 < QMAXM ? M - m0 : QMAXM;
            for (size_t c = 0; c < mc; c++) acc[c] = accm[c] = _mm256_setzero_ps();
            for (size_t b = 0; b < nb; b++) {
                const uint8_t *B = tile + b * QR * bb;
                /* Software prefetch, a block at a time (a tile is one contiguous run, so "ahead"
                 * runs on into the next tile). With several activation rows, QPREFETCH bytes
                 * ahead into L1: the slower passes left the hardware prefetcher behind (one
                 * thread, M = 8: q4_0 6.5 → 9.3 GB/s, q6_k 4.2 → 7.2); and 4·QPREFETCH ahead
                 * into L2, so that the misses to memory overlap the products (a 1.1B-shaped
                 * pass at M = 8, two threads: q8_0 59 → 44 ms, q4_k 42 → 41, q4_0 unchanged:
                 * the more bytes per product, the more it gains). In decode, the K-quants
                 * 4·QPREFETCH ahead into L2: their groups read a block out of order (Q6_K's
                 * quants, high bits and scales sit apart), which the hardware prefetcher follows
                 * poorly (q6_k decode 41–62 → 77–92 % of the bandwidth probe, q4_k 72–87 →
                 * 79–95 %); the 32-element formats decode as fast or faster without (q8_0 fell
                 * from ~100 to ~80 % with it). */
                if (m0 == 0 && M > 1)
                    for (size_t at = 0; at < QR * bb; at += 64) {
                        _mm_prefetch((const char *)(B + QPREFETCH + at), _MM_HINT_T0);
                        _mm_prefetch((const char *)(B + 4 * QPREFETCH + at), _MM_HINT_T1);
                    }
                else if (m0 == 0 && is_k_quant(dt))
                    for (size_t at = 0; at < QR * bb; at += 64) _mm_prefetch((const char *)(B + 4 * QPREFETCH + at), _MM_HINT_T1);
                const dg_q8_block *x = XQ + m0 * ng + b * gpb;
                /* Q4_K's and Q5_K's 8 groups unrolled, so that each group's shifts are immediates
                 * (one thread, q4_k decode 88 → 97 % of the bandwidth probe); unrolled, Q6_K's
                 * fell from 57 to 24 %. */
                if (dt == DG_Q4_K || dt == DG_Q5_K) {
#pragma clang loop unroll(full)
                    for (int j = 0; j < (int)gpb; j++) tile_group(dt, B, j, x + j, ng, mc, acc, accm, vnni);
                } else {
#pragma clang loop unroll(disable)
                    for (int j = 0; j < (int)gpb; j++) tile_group(dt, B, j, x + j, ng, mc, acc, accm, vnni);
                }
            }
            size_t first = t * QR;
            for (size_t c = 0; c < mc; c++) {
                __m256 y = kernel_has_min(dt) ? _mm256_add_ps(acc[c], accm[c]) : acc[c];
                float *out = Y + (m0 + c) * ldy;
                if (first >= n0 && first + QR <= n1) {
                    _mm256_storeu_ps(out + first, y);
                } else { /* a tile the range cuts: only its rows in [n0, n1) */
                    float lanes[QR];
                    _mm256_storeu_ps(lanes, y);
                    for (size_t r = 0; r < QR; r++)
                        if (first + r >= n0 && first + r < n1) out[first + r] = lanes[r];
                }
            }
        }
    }
}

/* One instantiation per type and path (AVX2, VNNI), so the type switches and the path fold away.
 * Both compile as AVX2 code (the VNNI ones compiled for AVX-512, with 32 registers, measured the
 * same). */
#define QUANT_256(NAME, DT, VNNI)                                                                    \
    static T256 void NAME(const uint8_t *W, size_t K, size_t n0, size_t n1,                        \
                          const dg_q8_block *XQ, size_t M, float *Y, size_t ldy) {                  \
        mm_quant_256(DT, W, K, n0, n1, XQ, M, Y, ldy, VNNI);                                        \
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
typedef void (*quant_tiles)(const uint8_t *W, size_t K, size_t n0, size_t n1, const dg_q8_block *XQ, size_t M,
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
    if (isa > dg_cpu_isa()) isa = dg_cpu_isa();
    if (isa >= DG_ISA_AVX2) {
        quant_tiles tiles = tiles_for(dt, isa >= DG_ISA_AVX512 && dg_cpu_has_vnni());
        if (tiles != NULL) tiles(W, K, n0, n1, XQ, M, Y, ldy);
        return;
    }
    mm_quant_portable(dt, W, K, n0, n1, XQ, M, Y, ldy);
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
