/*
 * What the C kernels share and do not export: the target attributes of each instruction-set path
 * (run-time dispatch picks one; see dg_cpu_isa) and the vector exponential.
 */
#ifndef DG_SIMD_H
#define DG_SIMD_H

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))
#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define T256 __attribute__((target("avx2,fma,f16c")))
/* AVX-512 BF16 on top of T512, so T512 helpers inline into its functions. */
#define TBF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c,avx512bf16")))

/* ---------------------------------------------------------------- scalar f16 conversions */
/* IEEE half precision, exact widening and round-to-nearest-even narrowing (matmul.c's f16 weights,
 * quant.c's block scales). */
#include <stdint.h>
#include <string.h>

INLINE float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t u;
    if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do { man <<= 1; e++; } while ((man & 0x400) == 0);
            man &= 0x3ff;
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | (man << 13);
        }
    } else if (exp == 0x1f) {
        u = sign | 0x7f800000u | (man << 13);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

INLINE uint16_t f32_to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t absu = u & 0x7fffffffu;
    if (absu > 0x7f800000u) return sign | 0x7e00;           /* NaN */
    if (absu >= 0x477ff000u) return sign | 0x7c00;          /* overflow (incl. inf) after rounding */
    if (absu < 0x38800000u) {                               /* result is subnormal or zero */
        if (absu < 0x33000000u) return sign;                /* < half the smallest subnormal */
        uint32_t e = absu >> 23;
        uint32_t man = (absu & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e;                           /* 14 + (113 - e) */
        uint32_t half = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return sign | (uint16_t)half;
    }
    uint32_t r = absu + 0xfffu + ((absu >> 13) & 1u);       /* round mantissa to 10 bits, RNE */
    return sign | (uint16_t)(((r >> 13) - ((127 - 15) << 10)) & 0x7fff);
}

/* The sum of a 256-bit vector's lanes: lanes i and i+4, then i and i+2, then i and i+1. matmul.c's
 * sum_lanes_4x4 adds the same pairs across accumulators to match sum_lanes, which calls this: keep
 * the tree. */
INLINE T256 float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}

/* ---------------------------------------------------------------- exponential */
/*
 * e^x in vector registers: x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite, ln 2 split so n·ln2High is
 * exact), a degree-7 Taylor polynomial for e^r (truncation |r|⁸/8! < 3e-8 relative), then 2ⁿ.
 * Within 2 ulp of glibc's expf over the float range; above 88.72 gives +∞, below −103.97 gives 0,
 * NaN stays NaN. Swift's SIMD types compile to SSE lanes here and their compares and selects run
 * lane by lane, so the model's two uses of exp live in C: the SwiGLU gate (`bench runtime`
 * showed it at 5–6 % of an 8-token verification pass, now < 1 %) and attention's softmax.
 */
#define EXP_LO -103.97208f
#define EXP_HI 88.72283f
#define EXP_LOG2E 1.442695041f
#define EXP_LN2_HI 0.693359375f
#define EXP_LN2_LO -2.12194440e-4f
/* Taylor coefficients of e^r from r⁷ down to r⁰, evaluated by Horner's rule (shared by both ISAs). */
static const float EXP_POLY[8] = {1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};

INLINE T512 __m512 exp512(__m512 x) {
    const __m512 lo = _mm512_set1_ps(EXP_LO), hi = _mm512_set1_ps(EXP_HI);
    __mmask16 over = _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ);
    __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    __m512 xc = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(EXP_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(EXP_LN2_HI), xc);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(EXP_LN2_LO), r);
    __m512 p = _mm512_set1_ps(EXP_POLY[0]);
    for (int i = 1; i < 8; i++) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_POLY[i]));
    __m512 y = _mm512_scalef_ps(p, n); /* p·2ⁿ, one rounding, subnormal results included */
    y = _mm512_mask_mov_ps(y, over, _mm512_set1_ps(__builtin_inff()));
    y = _mm512_mask_mov_ps(y, under, _mm512_setzero_ps());
    return _mm512_mask_mov_ps(y, nan, x);
}

INLINE T256 __m256 exp256(__m256 x) {
    const __m256 lo = _mm256_set1_ps(EXP_LO), hi = _mm256_set1_ps(EXP_HI);
    __m256 over = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
    __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(EXP_LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EXP_LN2_HI), xc);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EXP_LN2_LO), r);
    __m256 p = _mm256_set1_ps(EXP_POLY[0]);
    for (int i = 1; i < 8; i++) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_POLY[i]));
    /* 2ⁿ = 2^(n/2) · 2^(n − n/2): each factor a normal float for n in [−150, 128]. */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i half = _mm256_srai_epi32(ni, 1);
    const __m256i bias = _mm256_set1_epi32(127);
    __m256 a = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    __m256 b = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), bias), 23));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, a), b);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_inff()), over);
    y = _mm256_blendv_ps(y, _mm256_setzero_ps(), under);
    return _mm256_blendv_ps(y, x, nan);
}

#endif
