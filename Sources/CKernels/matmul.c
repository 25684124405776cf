/*
 * Small-batch matrix products over weights in their stored precision.
 *
 * Decode and speculative verification multiply a handful of activation rows (M = 1…32) by every
 * weight matrix of the model. That work is bound by how fast the weights stream from memory, so
 * the kernel reads each weight row exactly once for all M activation rows, widens bf16/f16 to f32
 * in registers (exact), and accumulates in f32. Activations stay f32 here: rounding them to bf16
 * (as vdpbf16ps needs) costs ~3 significant digits and breaks parity with transformers; the bf16
 * activation mode (dg_matmul_bf16x_isa, below; the default for bf16 weights on CPUs with AVX-512
 * BF16) does exactly that.
 *
 * Blocking: RB = 4 weight rows × MB = 4 activation rows → 16 accumulators, 16-wide k steps.
 * Weight rows of one block are re-read from L1/L2 for further activation-row blocks.
 *
 * Prefetch: while the first activation-row tile walks rows n..n+3, it prefetches the same
 * offsets of rows n+4..n+7 (one block ahead, 4·K·size bytes) into L2 (_MM_HINT_T1). Each row is
 * only K·size bytes (4 KB for K = 2048 in bf16), too short a stream for the hardware prefetcher
 * to ramp up on. Measured with `decograph bench kernels --threads 1` (bf16, 256 MB, M = 1):
 * no prefetch 16.5 GB/s, prefetch to L1 14.5 GB/s (it competes for L1 fill buffers), to L2
 * 19.9 GB/s, against a 17.4 GB/s probe in the same run.
 */
#include "CKernels.h"
#include "simd.h"
#include <string.h>
#include <stdlib.h>
#include <math.h>

/* ---------------------------------------------------------------- CPU features */

static int detected_isa = -1;

int dg_cpu_isa(void) {
    if (detected_isa < 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl"))
            detected_isa = DG_ISA_AVX512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            detected_isa = DG_ISA_AVX2;
        else
            detected_isa = DG_ISA_PORTABLE;
    }
    return detected_isa;
}

/* ---------------------------------------------------------------- scalar conversions */

INLINE float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

INLINE uint16_t f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

INLINE float load_scalar(int dt, const void *W, size_t i) {
    switch (dt) {
    case DG_BF16: return bf16_to_f32(((const uint16_t *)W)[i]);
    case DG_F16: return f16_to_f32(((const uint16_t *)W)[i]);
    default: return ((const float *)W)[i];
    }
}

/* ---------------------------------------------------------------- portable kernel */

static void mm_portable(int dt, const void *W, size_t K, size_t n0, size_t n1, const float *X,
                        size_t M, size_t ldx, float *Y, size_t ldy) {
    for (size_t n = n0; n < n1; n++) {
        for (size_t m = 0; m < M; m++) {
            const float *x = X + m * ldx;
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            size_t k = 0;
            for (; k + 4 <= K; k += 4) {
                s0 += load_scalar(dt, W, n * K + k) * x[k];
                s1 += load_scalar(dt, W, n * K + k + 1) * x[k + 1];
                s2 += load_scalar(dt, W, n * K + k + 2) * x[k + 2];
                s3 += load_scalar(dt, W, n * K + k + 3) * x[k + 3];
            }
            for (; k < K; k++) s0 += load_scalar(dt, W, n * K + k) * x[k];
            Y[m * ldy + n] = (s0 + s1) + (s2 + s3);
        }
    }
}

/* ---------------------------------------------------------------- AVX-512 kernel */

INLINE T512 __m512 ldw512(int dt, const void *W, size_t off) {
    switch (dt) {
    case DG_BF16: {
        __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)W + off));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    case DG_F16:
        return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)W + off)));
    default:
        return _mm512_loadu_ps((const float *)W + off);
    }
}

INLINE T512 __m512 ldw512_mask(int dt, const void *W, size_t off, __mmask16 mk) {
    switch (dt) {
    case DG_BF16: {
        __m256i h = _mm256_maskz_loadu_epi16(mk, (const uint16_t *)W + off);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    case DG_F16:
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, (const uint16_t *)W + off));
    default:
        return _mm512_maskz_loadu_ps(mk, (const float *)W + off);
    }
}

INLINE void prefetch_rows(int dt, const void *W, size_t K, size_t row, int RB, size_t k) {
    size_t size = dt == DG_F32 ? 4 : 2;
    for (int r = 0; r < RB; r++)
        _mm_prefetch((const char *)W + ((row + r) * K + k) * size, _MM_HINT_T1);
}

/* `pf_row`: first row of the next block to prefetch, or SIZE_MAX for none. */
INLINE T512 void tile512(int dt, const void *W, size_t K, size_t n, int RB, const float *X,
                         size_t ldx, int MB, float *Y, size_t ldy, size_t pf_row) {
    __m512 acc[4][4];
    for (int r = 0; r < RB; r++)
        for (int m = 0; m < MB; m++) acc[r][m] = _mm512_setzero_ps();
    size_t k = 0;
    /* One prefetch per cache line: 16 f32 or 32 bf16/f16 elements. */
    size_t pf_mask = dt == DG_F32 ? 0 : 16;
    for (; k + 16 <= K; k += 16) {
        if (pf_row != (size_t)-1 && (k & pf_mask) == 0) prefetch_rows(dt, W, K, pf_row, RB, k);
        __m512 w[4];
        for (int r = 0; r < RB; r++) w[r] = ldw512(dt, W, (n + r) * K + k);
        for (int m = 0; m < MB; m++) {
            __m512 x = _mm512_loadu_ps(X + m * ldx + k);
            for (int r = 0; r < RB; r++) acc[r][m] = _mm512_fmadd_ps(w[r], x, acc[r][m]);
        }
    }
    if (k < K) {
        __mmask16 mk = (__mmask16)((1u << (K - k)) - 1u);
        __m512 w[4];
        for (int r = 0; r < RB; r++) w[r] = ldw512_mask(dt, W, (n + r) * K + k, mk);
        for (int m = 0; m < MB; m++) {
            __m512 x = _mm512_maskz_loadu_ps(mk, X + m * ldx + k);
            for (int r = 0; r < RB; r++) acc[r][m] = _mm512_fmadd_ps(w[r], x, acc[r][m]);
        }
    }
    for (int m = 0; m < MB; m++)
        for (int r = 0; r < RB; r++) Y[m * ldy + n + r] = _mm512_reduce_add_ps(acc[r][m]);
}

INLINE T512 void rows512(int dt, const void *W, size_t K, size_t n, int RB, const float *X,
                         size_t M, size_t ldx, float *Y, size_t ldy, size_t pf_row) {
    size_t m = 0;
    /* Only the first activation tile prefetches: later tiles re-read rows already in cache. */
    for (; m + 4 <= M; m += 4, pf_row = (size_t)-1)
        tile512(dt, W, K, n, RB, X + m * ldx, ldx, 4, Y + m * ldy, ldy, pf_row);
    if (M - m >= 2) {
        tile512(dt, W, K, n, RB, X + m * ldx, ldx, 2, Y + m * ldy, ldy, pf_row);
        m += 2;
        pf_row = (size_t)-1;
    }
    if (M - m == 1) tile512(dt, W, K, n, RB, X + m * ldx, ldx, 1, Y + m * ldy, ldy, pf_row);
}

INLINE T512 void mm512(int dt, const void *W, size_t K, size_t n0, size_t n1, const float *X,
                       size_t M, size_t ldx, float *Y, size_t ldy) {
    size_t n = n0;
    for (; n + 4 <= n1; n += 4)
        rows512(dt, W, K, n, 4, X, M, ldx, Y, ldy, n + 8 <= n1 ? n + 4 : (size_t)-1);
    for (; n < n1; n++) rows512(dt, W, K, n, 1, X, M, ldx, Y, ldy, (size_t)-1);
}

static T512 void mm512_f32(const void *W, size_t K, size_t n0, size_t n1, const float *X, size_t M,
                           size_t ldx, float *Y, size_t ldy) {
    mm512(DG_F32, W, K, n0, n1, X, M, ldx, Y, ldy);
}
static T512 void mm512_f16(const void *W, size_t K, size_t n0, size_t n1, const float *X, size_t M,
                           size_t ldx, float *Y, size_t ldy) {
    mm512(DG_F16, W, K, n0, n1, X, M, ldx, Y, ldy);
}
/* The sum of a vector's 16 lanes, always by the same tree (lanes i and i+8, then hsum256's i and
 * i+4, i and i+2, i and i+1): the one-accumulator path and the 4 × 4 tile's transposed reduction
 * below add exactly the same pairs, so a row's dot product does not depend on the tile that
 * formed it. */
INLINE T512 float sum_lanes(__m512 a) {
    return hsum256(_mm256_add_ps(_mm512_castps512_ps256(a), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1))));
}

/* sum_lanes of a 4 × 4 tile's 16 accumulators at once, acc[r][m] landing in lane 4m + r: each level
 * adds the same lane pairs as sum_lanes, for two to eight accumulators per instruction, so the
 * results are bitwise those of sum_lanes. 15 adds and 30 shuffles instead of 64 adds and 48
 * extractions and shuffles, against the 1024 vdpbf16ps of a tile's 2048-column chunk (measured
 * effect in docs/ARCHITECTURE.md). */
INLINE T512 __m512 sum_lanes_4x4(__m512 acc[4][4]) {
    const __m512 *a = &acc[0][0]; /* acc[r][m] is a[4r + m] */
    __m512 b[8], c[4], d[2];
    for (int j = 0; j < 8; j++)
        b[j] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * j], a[2 * j + 1], 0x44),
                             _mm512_shuffle_f32x4(a[2 * j], a[2 * j + 1], 0xEE));
    for (int j = 0; j < 4; j++)
        c[j] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * j], b[2 * j + 1], 0x88),
                             _mm512_shuffle_f32x4(b[2 * j], b[2 * j + 1], 0xDD));
    for (int j = 0; j < 2; j++)
        d[j] = _mm512_add_ps(_mm512_shuffle_ps(c[2 * j], c[2 * j + 1], 0x44), _mm512_shuffle_ps(c[2 * j], c[2 * j + 1], 0xEE));
    return _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xDD));
}

/* A k-chunk's row sums into Y: stored for the first chunk, added for later ones (both bf16 kernels). */
INLINE T512 void store_chunk512(__m512 acc[4][4], int RB, int MB, float *Y, size_t ldy, size_t n, size_t k0) {
    if (RB == 4 && MB == 4) {
        __m512 s = sum_lanes_4x4(acc);
        __m128 v[4] = {_mm512_extractf32x4_ps(s, 0), _mm512_extractf32x4_ps(s, 1), _mm512_extractf32x4_ps(s, 2),
                       _mm512_extractf32x4_ps(s, 3)};
        for (int m = 0; m < 4; m++) {
            float *y = Y + m * ldy + n;
            _mm_storeu_ps(y, k0 == 0 ? v[m] : _mm_add_ps(_mm_loadu_ps(y), v[m]));
        }
        return;
    }
    for (int m = 0; m < MB; m++)
        for (int r = 0; r < RB; r++) {
            float v = sum_lanes(acc[r][m]);
            Y[m * ldy + n + r] = k0 == 0 ? v : Y[m * ldy + n + r] + v;
        }
}

/*
 * bf16 without shuffles. A 512-bit load of 32 bf16 holds, in each 32-bit lane j, elements 2j
 * (low half) and 2j+1 (high half). Shifting left by 16 makes the even elements exact f32; masking
 * the low half away makes the odd ones exact f32. The activations are permuted once per call into
 * the same order (per 32-element block: 16 even, then 16 odd), so the widening costs two cheap
 * integer ops per 32 weights instead of two cross-lane zero-extensions and two shifts; at M ≥ 4
 * the kernel is compute bound and this is ~20 % of its work (bench kernels, docs/ARCHITECTURE.md).
 */
INLINE T512 void tile512_eo(const uint16_t *W, size_t K, size_t k0, size_t k1, size_t n, int RB,
                            const float *Xp, int MB, float *Y, size_t ldy, size_t pf_row) {
    /* One accumulator per (row, activation row), updated with the even then the odd half at
     * every step, for every tile shape: a row's sum is formed in the same order whatever M is, so
     * decoding one token and verifying k give bitwise-identical logits (speculative greedy ≡
     * plain greedy, exactly). Separate even/odd accumulators for small M were measured: no gain
     * in cache, and the 2 × 4 tile they force for M ≥ 4 is ~35 % slower. */
    __m512 acc[4][4];
    for (int r = 0; r < RB; r++)
        for (int m = 0; m < MB; m++) acc[r][m] = _mm512_setzero_ps();
    const __m512i high = _mm512_set1_epi32((int)0xFFFF0000u);
    for (size_t k = k0; k < k1; k += 32) {
        if (pf_row != (size_t)-1)
            for (int r = 0; r < RB; r++) _mm_prefetch((const char *)(W + (pf_row + r) * K + k), _MM_HINT_T1);
        __m512 even[4], odd[4];
        for (int r = 0; r < RB; r++) {
            __m512i v = _mm512_loadu_si512((const void *)(W + (n + r) * K + k));
            even[r] = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
            odd[r] = _mm512_castsi512_ps(_mm512_and_si512(v, high));
        }
        for (int m = 0; m < MB; m++) {
            __m512 xe = _mm512_loadu_ps(Xp + m * K + k);
            __m512 xo = _mm512_loadu_ps(Xp + m * K + k + 16);
            for (int r = 0; r < RB; r++) {
                acc[r][m] = _mm512_fmadd_ps(even[r], xe, acc[r][m]);
                acc[r][m] = _mm512_fmadd_ps(odd[r], xo, acc[r][m]);
            }
        }
    }
    store_chunk512(acc, RB, MB, Y, ldy, n, k0);
}

/* Columns per k-chunk: without chunking, K = 5632 (an MLP down projection) streams the
 * activations from L2 and runs ~25 % slower at M ≥ 4. (4 activation rows × 2048 f32 are 32 KB,
 * all of this Zen 4's L1D; the 2048 was chosen by measurement, not by that arithmetic.) The bf16
 * kernel's chunks fix its summation order, which decode and verification share: a 1024-column
 * chunk with chunk-major activations was measured (docs/ARCHITECTURE.md) and not kept. */
#define DG_K_CHUNK 2048

/* The block after `pf` (4 rows on), or none when that passes `end`. The first activation tile of a
 * block prefetches the next block; each further tile prefetches one block beyond, so the memory
 * system has requests in flight while later tiles compute from cache (one 256 MB bf16 product on
 * two threads, bf16 activations, M = 8 over M = 1: 1.34–1.93× before, 1.16–1.25× after, in
 * microbenchmark runs alternating the variants; docs/ARCHITECTURE.md has the whole-model runs). */
INLINE size_t pf_next(size_t pf, size_t end) { return pf != (size_t)-1 && pf + 8 <= end ? pf + 4 : (size_t)-1; }

/* The bf16 dot-product kernel's rule instead: every activation tile prefetches the same next block.
 * Its tiles are short (one vdpbf16ps per 32 weights and activation row), and the repeated
 * prefetches, which mostly hit L2 already, keep that block's lines coming; prefetching further
 * blocks overran the outstanding requests. Same microbenchmark, M = 8 over the probe: 80–82 % →
 * 89 % (M = 4 and 16 unchanged or better); the f32-activation kernel lost 2–4 points this way, so
 * it keeps pf_next. */
INLINE size_t pf_same(size_t pf, size_t end) { (void)end; return pf; }

/* The k-chunks and activation tiles over one block of RB weight rows, for both bf16 kernels:
 * TILE(W, K, k0, k1, n, RB, X + m * K, MB, Y + m * ldy, ldy, pf) per chunk and tile of MB ≤ 4 rows;
 * NEXT(pf, pf_end) is the block the tile after one that prefetched pf prefetches. */
#define DG_ROWS_BY_TILES(TILE, NEXT, W, K, n, RB, X, M, Y, ldy, pf_row, pf_end)                             \
    for (size_t k0 = 0; k0 < (K); k0 += DG_K_CHUNK) {                                                     \
        size_t k1 = (K) - k0 > DG_K_CHUNK ? k0 + DG_K_CHUNK : (K);                                       \
        size_t pf = (pf_row), m = 0;                                                                    \
        for (; m + 4 <= (M); m += 4, pf = NEXT(pf, pf_end)) TILE(W, K, k0, k1, n, RB, (X) + m * (K), 4, (Y) + m * (ldy), ldy, pf); \
        for (; m + 2 <= (M); m += 2, pf = NEXT(pf, pf_end)) TILE(W, K, k0, k1, n, RB, (X) + m * (K), 2, (Y) + m * (ldy), ldy, pf); \
        if (m < (M)) TILE(W, K, k0, k1, n, RB, (X) + m * (K), 1, (Y) + m * (ldy), ldy, pf);              \
    }

INLINE T512 void rows512_eo(const uint16_t *W, size_t K, size_t n, int RB, const float *Xp, size_t M,
                            float *Y, size_t ldy, size_t pf_row, size_t pf_end) {
    DG_ROWS_BY_TILES(tile512_eo, pf_next, W, K, n, RB, Xp, M, Y, ldy, pf_row, pf_end)
}

/* Per-thread scratch for the permuted activations, grown as needed and kept: a fresh allocation
 * per call would be above malloc's mmap threshold for M·K ≥ 32k floats and cost a mapping and
 * page faults on every product. */
static __thread float *eo_scratch = NULL;
static __thread size_t eo_capacity = 0;

/* At least `floats` floats in `*buffer`, grown (contents dropped) when too small; NULL when
 * allocation fails. */
static float *grow_scratch(float **buffer, size_t *capacity, size_t floats) {
    if (floats > *capacity) {
        free(*buffer);
        *buffer = (float *)malloc(floats * sizeof(float));
        *capacity = *buffer ? floats : 0;
    }
    return *buffer;
}

static float *eo_buffer(size_t floats) { return grow_scratch(&eo_scratch, &eo_capacity, floats); }

static T512 void mm512_bf16(const void *W, size_t K, size_t n0, size_t n1, const float *X, size_t M,
                            size_t ldx, float *Y, size_t ldy) {
    float *Xp = K % 32 == 0 ? eo_buffer(M * K) : NULL;
    if (Xp == NULL) {
        mm512(DG_BF16, W, K, n0, n1, X, M, ldx, Y, ldy);
        return;
    }
    for (size_t m = 0; m < M; m++)
        for (size_t k = 0; k < K; k += 32)
            for (int j = 0; j < 16; j++) {
                Xp[m * K + k + j] = X[m * ldx + k + 2 * j];
                Xp[m * K + k + 16 + j] = X[m * ldx + k + 2 * j + 1];
            }
    const uint16_t *w = (const uint16_t *)W;
    size_t n = n0;
    for (; n + 4 <= n1; n += 4) rows512_eo(w, K, n, 4, Xp, M, Y, ldy, n + 8 <= n1 ? n + 4 : (size_t)-1, n1);
    for (; n < n1; n++) rows512_eo(w, K, n, 1, Xp, M, Y, ldy, (size_t)-1, n1);
}

/* ---------------------------------------------------------------- AVX2 kernel */

INLINE T256 __m256 ldw256(int dt, const void *W, size_t off) {
    switch (dt) {
    case DG_BF16: {
        __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)W + off));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    case DG_F16:
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)W + off)));
    default:
        return _mm256_loadu_ps((const float *)W + off);
    }
}

INLINE T256 void tile256(int dt, const void *W, size_t K, size_t n, int RB, const float *X,
                         size_t ldx, int MB, float *Y, size_t ldy) {
    __m256 acc[4][2];
    for (int r = 0; r < RB; r++)
        for (int m = 0; m < MB; m++) acc[r][m] = _mm256_setzero_ps();
    size_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 w[4];
        for (int r = 0; r < RB; r++) w[r] = ldw256(dt, W, (n + r) * K + k);
        for (int m = 0; m < MB; m++) {
            __m256 x = _mm256_loadu_ps(X + m * ldx + k);
            for (int r = 0; r < RB; r++) acc[r][m] = _mm256_fmadd_ps(w[r], x, acc[r][m]);
        }
    }
    for (int m = 0; m < MB; m++)
        for (int r = 0; r < RB; r++) {
            float s = hsum256(acc[r][m]);
            for (size_t kk = k; kk < K; kk++)
                s += load_scalar(dt, W, (n + r) * K + kk) * X[m * ldx + kk];
            Y[m * ldy + n + r] = s;
        }
}

INLINE T256 void mm256(int dt, const void *W, size_t K, size_t n0, size_t n1, const float *X,
                       size_t M, size_t ldx, float *Y, size_t ldy) {
    size_t n = n0;
    for (; n + 4 <= n1; n += 4) {
        size_t m = 0;
        for (; m + 2 <= M; m += 2) tile256(dt, W, K, n, 4, X + m * ldx, ldx, 2, Y + m * ldy, ldy);
        if (m < M) tile256(dt, W, K, n, 4, X + m * ldx, ldx, 1, Y + m * ldy, ldy);
    }
    for (; n < n1; n++) {
        size_t m = 0;
        for (; m + 2 <= M; m += 2) tile256(dt, W, K, n, 1, X + m * ldx, ldx, 2, Y + m * ldy, ldy);
        if (m < M) tile256(dt, W, K, n, 1, X + m * ldx, ldx, 1, Y + m * ldy, ldy);
    }
}

static T256 void mm256_f32(const void *W, size_t K, size_t n0, size_t n1, const float *X, size_t M,
                           size_t ldx, float *Y, size_t ldy) {
    mm256(DG_F32, W, K, n0, n1, X, M, ldx, Y, ldy);
}
static T256 void mm256_f16(const void *W, size_t K, size_t n0, size_t n1, const float *X, size_t M,
                           size_t ldx, float *Y, size_t ldy) {
    mm256(DG_F16, W, K, n0, n1, X, M, ldx, Y, ldy);
}
static T256 void mm256_bf16(const void *W, size_t K, size_t n0, size_t n1, const float *X, size_t M,
                            size_t ldx, float *Y, size_t ldy) {
    mm256(DG_BF16, W, K, n0, n1, X, M, ldx, Y, ldy);
}

/* ---------------------------------------------------------------- dispatch */

void dg_matmul_wt_isa(int isa, int dtype, const void *W, size_t K, size_t n0, size_t n1, const float *X,
                      size_t M, size_t ldx, float *Y, size_t ldy) {
    if (n1 <= n0 || M == 0) return;
    if (isa > dg_cpu_isa()) isa = dg_cpu_isa();
    switch (isa) {
    case DG_ISA_AVX512:
        if (dtype == DG_BF16) mm512_bf16(W, K, n0, n1, X, M, ldx, Y, ldy);
        else if (dtype == DG_F16) mm512_f16(W, K, n0, n1, X, M, ldx, Y, ldy);
        else mm512_f32(W, K, n0, n1, X, M, ldx, Y, ldy);
        return;
    case DG_ISA_AVX2:
        if (dtype == DG_BF16) mm256_bf16(W, K, n0, n1, X, M, ldx, Y, ldy);
        else if (dtype == DG_F16) mm256_f16(W, K, n0, n1, X, M, ldx, Y, ldy);
        else mm256_f32(W, K, n0, n1, X, M, ldx, Y, ldy);
        return;
    default:
        mm_portable(dtype, W, K, n0, n1, X, M, ldx, Y, ldy);
    }
}

/* ---------------------------------------------------------------- bf16-activation products */
/*
 * The `bf16` activation mode for bf16 weights (llama.cpp's convention for bf16 tensors):
 * each activation is rounded to bf16 (round to nearest even) and the products accumulate in f32.
 * With AVX-512 BF16, `vdpbf16ps` does 32 multiply-adds per instruction against 16 for `vfmadd`
 * over widened weights, and on this Zen 4 both retire one per cycle: the multiply-add ceiling of
 * verification doubles (docs/ARCHITECTURE.md, "Precision and kernels"). Tiles and k-chunks are
 * those of the f32-activation kernel (the row walk at M = 1 and the prefetch rule differ, see
 * mm_dot and pf_same); one accumulator per (weight row, activation row)
 * over the same k order for every tile shape, so decode and verification stay bitwise identical.
 * Without AVX-512 BF16 the rounded activations are widened back to f32 and the f32-activation
 * kernel runs: the same products (bf16 × bf16 is exact in f32), summed in another order.
 */
static int detected_bf16_dot = -1;

int dg_cpu_has_bf16_dot(void) {
    if (detected_bf16_dot < 0) {
        __builtin_cpu_init();
        detected_bf16_dot = dg_cpu_isa() == DG_ISA_AVX512 && __builtin_cpu_supports("avx512bf16");
    }
    return detected_bf16_dot;
}

/* Without scratch memory: the same rounded products, one dot product at a time. */
static void mm_rounded_scalar(const uint16_t *W, size_t K, size_t n0, size_t n1, const float *X, size_t M,
                              size_t ldx, float *Y, size_t ldy) {
    for (size_t n = n0; n < n1; n++)
        for (size_t m = 0; m < M; m++) {
            float s = 0;
            for (size_t k = 0; k < K; k++) s += bf16_to_f32(f32_to_bf16(X[m * ldx + k])) * bf16_to_f32(W[n * K + k]);
            Y[m * ldy + n] = s;
        }
}

INLINE TBF16 void tile_dot(const uint16_t *W, size_t K, size_t k0, size_t k1, size_t n, int RB,
                           const uint16_t *Xb, int MB, float *Y, size_t ldy, size_t pf_row) {
    __m512 acc[4][4];
    for (int r = 0; r < RB; r++)
        for (int m = 0; m < MB; m++) acc[r][m] = _mm512_setzero_ps();
    size_t k = k0;
    for (; k + 32 <= k1; k += 32) {
        if (pf_row != (size_t)-1)
            for (int r = 0; r < RB; r++) _mm_prefetch((const char *)(W + (pf_row + r) * K + k), _MM_HINT_T1);
        __m512bh w[4];
        for (int r = 0; r < RB; r++) w[r] = (__m512bh)_mm512_loadu_si512((const void *)(W + (n + r) * K + k));
        for (int m = 0; m < MB; m++) {
            __m512bh x = (__m512bh)_mm512_loadu_si512((const void *)(Xb + m * K + k));
            for (int r = 0; r < RB; r++) acc[r][m] = _mm512_dpbf16_ps(acc[r][m], w[r], x);
        }
    }
    if (k < k1) {
        __mmask32 mk = (__mmask32)((1ull << (k1 - k)) - 1u);
        __m512bh w[4];
        for (int r = 0; r < RB; r++) w[r] = (__m512bh)_mm512_maskz_loadu_epi16(mk, W + (n + r) * K + k);
        for (int m = 0; m < MB; m++) {
            __m512bh x = (__m512bh)_mm512_maskz_loadu_epi16(mk, Xb + m * K + k);
            for (int r = 0; r < RB; r++) acc[r][m] = _mm512_dpbf16_ps(acc[r][m], w[r], x);
        }
    }
    store_chunk512(acc, RB, MB, Y, ldy, n, k0);
}

INLINE TBF16 void rows_dot(const uint16_t *W, size_t K, size_t n, int RB, const uint16_t *Xb, size_t M,
                           float *Y, size_t ldy, size_t pf_row, size_t pf_end) {
    DG_ROWS_BY_TILES(tile_dot, pf_same, W, K, n, RB, Xb, M, Y, ldy, pf_row, pf_end)
}

static TBF16 void round_rows_bf16(const float *X, size_t M, size_t ldx, size_t K, uint16_t *Xb) {
    for (size_t m = 0; m < M; m++) {
        const float *x = X + m * ldx;
        uint16_t *xb = Xb + m * K;
        size_t k = 0;
        for (; k + 32 <= K; k += 32)
            _mm512_storeu_si512((void *)(xb + k),
                                (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(x + k + 16), _mm512_loadu_ps(x + k)));
        for (; k < K; k++) xb[k] = f32_to_bf16(x[k]);
    }
}

static TBF16 void mm_dot(const uint16_t *W, size_t K, size_t n0, size_t n1, const float *X, size_t M,
                         size_t ldx, float *Y, size_t ldy) {
    uint16_t *Xb = (uint16_t *)eo_buffer((M * K + 1) / 2);
    if (Xb == NULL) {
        mm_rounded_scalar(W, K, n0, n1, X, M, ldx, Y, ldy);
        return;
    }
    round_rows_bf16(X, M, ldx, K, Xb);
    size_t n = n0;
    /* One activation row (decode): one weight row at a time, from start to end, without software
     * prefetch. The weights are then read as one sequential stream, which the hardware
     * prefetchers follow best; each row's sum is formed exactly as in the 4-row tile, so decode
     * and verification stay bitwise identical. Measured in a microbenchmark alternating each walk
     * with bandwidth-probe passes (256 MB, two threads, 13 runs): median 99.3 % of the probe
     * (93–109 %) against 96.5 % (92–104 %) for 4-row blocks with prefetch, ahead in 9 runs; two
     * rows at a time without prefetch fell to 55–79 %. The f32-activation kernels keep the 4-row
     * blocks: their rows are one chain of dependent multiply-adds, too slow one at a time
     * (median 85 %, 65 % in the fast-memory phases, against 92 %). */
    if (M == 1) {
        for (; n < n1; n++) rows_dot(W, K, n, 1, Xb, 1, Y, ldy, (size_t)-1, n1);
        return;
    }
    for (; n + 4 <= n1; n += 4) rows_dot(W, K, n, 4, Xb, M, Y, ldy, n + 8 <= n1 ? n + 4 : (size_t)-1, n1);
    for (; n < n1; n++) rows_dot(W, K, n, 1, Xb, M, Y, ldy, (size_t)-1, n1);
}

/* Per-thread scratch for activations rounded and widened back (the fallback path). */
static __thread float *rounded_scratch = NULL;
static __thread size_t rounded_capacity = 0;

void dg_round_to_bf16(const float *src, size_t M, size_t ldx, size_t K, float *dst, size_t ldd) {
    for (size_t m = 0; m < M; m++)
        for (size_t k = 0; k < K; k++) dst[m * ldd + k] = bf16_to_f32(f32_to_bf16(src[m * ldx + k]));
}

void dg_matmul_bf16x_isa(int isa, const uint16_t *W, size_t K, size_t n0, size_t n1, const float *X,
                         size_t M, size_t ldx, float *Y, size_t ldy) {
    if (n1 <= n0 || M == 0) return;
    if (isa >= DG_ISA_AVX512 && dg_cpu_has_bf16_dot()) {
        mm_dot(W, K, n0, n1, X, M, ldx, Y, ldy);
        return;
    }
    float *rounded = grow_scratch(&rounded_scratch, &rounded_capacity, M * K);
    if (rounded == NULL) {
        mm_rounded_scalar(W, K, n0, n1, X, M, ldx, Y, ldy);
        return;
    }
    dg_round_to_bf16(X, M, ldx, K, rounded, K);
    dg_matmul_wt_isa(isa, DG_BF16, W, K, n0, n1, rounded, M, K, Y, ldy);
}

/* ---------------------------------------------------------------- conversions */

static T512 void to_f32_512(int dt, const void *src, float *dst, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) _mm512_storeu_ps(dst + i, ldw512(dt, src, i));
    for (; i < count; i++) dst[i] = load_scalar(dt, src, i);
}

void dg_to_f32(int dtype, const void *src, float *dst, size_t count) {
    if (dtype >= DG_Q8_0) {
        dg_dequantize(dtype, src, dst, count);
        return;
    }
    if (dtype == DG_F32) {
        memcpy(dst, src, count * sizeof(float));
        return;
    }
    if (dg_cpu_isa() == DG_ISA_AVX512) {
        to_f32_512(dtype, src, dst, count);
        return;
    }
    for (size_t i = 0; i < count; i++) dst[i] = load_scalar(dtype, src, i);
}

void dg_f32_to_bf16(const float *src, uint16_t *dst, size_t count) {
    for (size_t i = 0; i < count; i++) dst[i] = f32_to_bf16(src[i]);
}

void dg_f32_to_f16(const float *src, uint16_t *dst, size_t count) {
    for (size_t i = 0; i < count; i++) dst[i] = f32_to_f16(src[i]);
}

/* ---------------------------------------------------------------- exponential and SwiGLU */

static T512 void exp_512(const float *x, float *y, size_t count) {
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 mk = count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1u);
        _mm512_mask_storeu_ps(y + i, mk, exp512(_mm512_maskz_loadu_ps(mk, x + i)));
    }
}

static T256 void exp_256(const float *x, float *y, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(y + i, exp256(_mm256_loadu_ps(x + i)));
    if (i < count) { /* the tail through the same vector code, so every element is computed alike */
        float t[8] = {0};
        memcpy(t, x + i, (count - i) * sizeof(float));
        _mm256_storeu_ps(t, exp256(_mm256_loadu_ps(t)));
        memcpy(y + i, t, (count - i) * sizeof(float));
    }
}

void dg_exp_isa(int isa, const float *x, float *y, size_t count) {
    if (isa > dg_cpu_isa()) isa = dg_cpu_isa();
    switch (isa) {
    case DG_ISA_AVX512: exp_512(x, y, count); return;
    case DG_ISA_AVX2: exp_256(x, y, count); return;
    default:
        for (size_t i = 0; i < count; i++) y[i] = expf(x[i]);
    }
}

void dg_exp(const float *x, float *y, size_t count) { dg_exp_isa(dg_cpu_isa(), x, y, count); }

static T512 void silu_mul_512(float *gate, const float *up, size_t count) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 mk = count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1u);
        __m512 z = _mm512_maskz_loadu_ps(mk, gate + i), u = _mm512_maskz_loadu_ps(mk, up + i);
        __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), z));
        _mm512_mask_storeu_ps(gate + i, mk, _mm512_mul_ps(_mm512_div_ps(z, _mm512_add_ps(one, e)), u));
    }
}

static T256 void silu_mul_256(float *gate, const float *up, size_t count) {
    const __m256 one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 z = _mm256_loadu_ps(gate + i), u = _mm256_loadu_ps(up + i);
        __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), z));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_div_ps(z, _mm256_add_ps(one, e)), u));
    }
    if (i < count) {
        float zt[8] = {0}, ut[8] = {0};
        memcpy(zt, gate + i, (count - i) * sizeof(float));
        memcpy(ut, up + i, (count - i) * sizeof(float));
        silu_mul_256(zt, ut, 8);
        memcpy(gate + i, zt, (count - i) * sizeof(float));
    }
}

void dg_silu_mul_isa(int isa, float *gate, const float *up, size_t count) {
    if (isa > dg_cpu_isa()) isa = dg_cpu_isa();
    switch (isa) {
    case DG_ISA_AVX512: silu_mul_512(gate, up, count); return;
    case DG_ISA_AVX2: silu_mul_256(gate, up, count); return;
    default:
        for (size_t i = 0; i < count; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
    }
}

void dg_silu_mul(float *gate, const float *up, size_t count) { dg_silu_mul_isa(dg_cpu_isa(), gate, up, count); }

/* ---------------------------------------------------------------- bandwidth probe */

static T512 uint64_t read_pass_512(const void *src, size_t bytes) {
    const __m512i *p = (const __m512i *)src;
    size_t n = bytes / 64;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 = _mm512_xor_si512(a0, _mm512_loadu_si512(p + i));
        a1 = _mm512_xor_si512(a1, _mm512_loadu_si512(p + i + 1));
        a2 = _mm512_xor_si512(a2, _mm512_loadu_si512(p + i + 2));
        a3 = _mm512_xor_si512(a3, _mm512_loadu_si512(p + i + 3));
    }
    a0 = _mm512_xor_si512(_mm512_xor_si512(a0, a1), _mm512_xor_si512(a2, a3));
    return (uint64_t)_mm512_reduce_add_epi64(a0);
}

uint64_t dg_read_bandwidth_pass(const void *src, size_t bytes) {
    if (dg_cpu_isa() == DG_ISA_AVX512) return read_pass_512(src, bytes);
    const uint64_t *p = (const uint64_t *)src;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    size_t n = bytes / 8, i = 0;
    for (; i + 4 <= n; i += 4) {
        a0 ^= p[i];
        a1 ^= p[i + 1];
        a2 ^= p[i + 2];
        a3 ^= p[i + 3];
    }
    return a0 ^ a1 ^ a2 ^ a3;
}

/* ---------------------------------------------------------------- multiply-add probe */
/*
 * 12 independent chains of f32 multiply-adds in the widest registers the kernels use: enough
 * chains to hide the FMA latency, no memory traffic. Gives the core's multiply-add rate, the bound
 * of the small-batch kernel once M is large enough that it stops being memory bound (verification).
 */
/* The 12 chains' starting values and their checksum, shared by the 512-bit probes. */
INLINE T512 void chains512_start(__m512 a[12]) {
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps(1.0f + (float)i * 1e-3f);
}

INLINE T512 float chains512_sum(const __m512 a[12]) {
    __m512 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, a[i]);
    return _mm512_reduce_add_ps(s);
}

static T512 float fma_pass_512(size_t rounds) {
    __m512 a[12];
    chains512_start(a);
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (size_t n = 0; n < rounds; n++)
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], x, y);
    return chains512_sum(a);
}

static T256 float fma_pass_256(size_t rounds) {
    __m256 a[12];
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps(1.0f + (float)i * 1e-3f);
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (size_t n = 0; n < rounds; n++)
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], x, y);
    __m256 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, a[i]);
    return hsum256(s);
}

/* The same chains as bf16 dot products (`vdpbf16ps`, 32 multiply-adds per instruction): the rate the
 * `bf16` activation mode's kernel is bound by. */
static TBF16 float dot_pass_bf16(size_t rounds) {
    __m512 a[12];
    chains512_start(a);
    const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3380);
    for (size_t n = 0; n < rounds; n++)
        for (int i = 0; i < 12; i++) a[i] = _mm512_dpbf16_ps(a[i], x, y);
    return chains512_sum(a);
}

/* The same chains as the quantized kernels' int8 products, 32 multiply-adds per instruction:
 * vpdpbusd on 256-bit registers (AVX-512 VNNI, what their tiles use), else vpmaddubsw alone (the
 * AVX2 tiles add vpmaddwd and int16 adds to each, so this rate bounds theirs from above). */
static T256 float int8_pass_256(size_t rounds, int vnni) {
    __m256i a[12];
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_epi32(i);
    const __m256i u = _mm256_set1_epi8(3);
    if (vnni)
        for (size_t n = 0; n < rounds; n++)
            for (int i = 0; i < 12; i++) __asm__("%{evex%} vpdpbusd %2, %1, %0" : "+x"(a[i]) : "x"(u), "x"(u));
    else
        for (size_t n = 0; n < rounds; n++)
            for (int i = 0; i < 12; i++) a[i] = _mm256_maddubs_epi16(u, a[i]);
    __m256i s = a[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_epi32(s, a[i]);
    return (float)_mm256_extract_epi32(s, 0);
}

float dg_multiply_add_pass(size_t rounds, int kind, uint64_t *multiply_adds) {
    if (kind == DG_PROBE_BF16_DOT && dg_cpu_has_bf16_dot()) {
        *multiply_adds = (uint64_t)rounds * 12 * 32;
        return dot_pass_bf16(rounds);
    }
    if (kind == DG_PROBE_INT8_DOT && dg_cpu_isa() >= DG_ISA_AVX2) {
        *multiply_adds = (uint64_t)rounds * 12 * 32;
        return int8_pass_256(rounds, dg_cpu_has_vnni());
    }
    switch (dg_cpu_isa()) {
    case DG_ISA_AVX512:
        *multiply_adds = (uint64_t)rounds * 12 * 16;
        return fma_pass_512(rounds);
    case DG_ISA_AVX2:
        *multiply_adds = (uint64_t)rounds * 12 * 8;
        return fma_pass_256(rounds);
    default: {
        float a[12];
        for (int i = 0; i < 12; i++) a[i] = 1.0f + (float)i * 1e-3f;
        for (size_t n = 0; n < rounds; n++)
            for (int i = 0; i < 12; i++) a[i] = a[i] * 0.999999f + 1e-7f;
        *multiply_adds = (uint64_t)rounds * 12;
        float s = 0;
        for (int i = 0; i < 12; i++) s += a[i];
        return s;
    }
    }
}
