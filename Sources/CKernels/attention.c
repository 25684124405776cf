/*
 * Scaled dot-product attention of one query token over an explicit list of visible cache slots
 * (the list encodes causal, sliding-window and token-tree masks alike), for the group of query
 * heads that share one key/value head (GQA): each key and value is read once for the whole group.
 *
 * The cache is paged: slot s of a sequence lives in block table[s / block_size], at row
 * s % block_size, and a row holds kv_heads × d floats. The result for a token depends only on its
 * query and its list, in list order, so a token decoded alone and the same token verified inside a
 * chain or tree get bitwise-identical outputs.
 *
 * In Swift this loop compiled to 128-bit SSE with a shuffle-based horizontal sum per dot product
 * and libm expf per score: 2.4 % of a 1.1B decode step at 66 cached tokens (bench runtime).
 */
#include "CKernels.h"
#include "simd.h"
#include <string.h>

INLINE const float *slot_row(const float *pool, const int32_t *table, size_t block_size, size_t kv_heads,
                             size_t kv_head, size_t d, int32_t slot) {
    size_t s = (size_t)slot;
    return pool + ((((size_t)table[s / block_size]) * block_size + s % block_size) * kv_heads + kv_head) * d;
}

/* Softmax of each of the G score rows in place (the scores are finite: every list is non-empty). */
INLINE void softmax_rows(float *scores, size_t G, size_t count, int isa) {
    for (size_t g = 0; g < G; g++) {
        float *row = scores + g * count;
        float m = row[0];
        for (size_t j = 1; j < count; j++) m = row[j] > m ? row[j] : m;
        for (size_t j = 0; j < count; j++) row[j] -= m;
        dg_exp_isa(isa, row, row, count);
        float sum = 0;
        for (size_t j = 0; j < count; j++) sum += row[j];
        float inv = 1.0f / sum;
        for (size_t j = 0; j < count; j++) row[j] *= inv;
    }
}

static void attend_portable(const float *q, size_t G, size_t d, const float *keys, const float *values,
                            const int32_t *table, size_t block_size, size_t kv_heads, size_t kv_head,
                            const int32_t *visible, size_t count, float scale, float *out, float *scores) {
    for (size_t j = 0; j < count; j++) {
        const float *k = slot_row(keys, table, block_size, kv_heads, kv_head, d, visible[j]);
        for (size_t g = 0; g < G; g++) {
            float s = 0;
            for (size_t i = 0; i < d; i++) s += q[g * d + i] * k[i];
            scores[g * count + j] = s * scale;
        }
    }
    softmax_rows(scores, G, count, DG_ISA_PORTABLE);
    memset(out, 0, G * d * sizeof(float));
    for (size_t j = 0; j < count; j++) {
        const float *v = slot_row(values, table, block_size, kv_heads, kv_head, d, visible[j]);
        for (size_t g = 0; g < G; g++) {
            float p = scores[g * count + j];
            for (size_t i = 0; i < d; i++) out[g * d + i] += p * v[i];
        }
    }
}

/* Up to 64 features (four vectors) of the output at a time, kept in registers over all slots. */
#define ATTEND_VECTOR_PATH(NAME, TARGET, VEC, W, ZERO, LOAD, STORE, FMA, SET1, REDUCE, ISA)                 \
    static TARGET void NAME(const float *q, size_t G, size_t d, const float *keys, const float *values,       \
                            const int32_t *table, size_t block_size, size_t kv_heads, size_t kv_head,         \
                            const int32_t *visible, size_t count, float scale, float *out, float *scores) {    \
        size_t nv = d / W;                                                                                      \
        for (size_t j = 0; j < count; j++) {                                                                   \
            const float *k = slot_row(keys, table, block_size, kv_heads, kv_head, d, visible[j]);            \
            for (size_t g = 0; g < G; g++) {                                                                   \
                const float *qg = q + g * d;                                                                   \
                VEC acc = ZERO();                                                                              \
                for (size_t i = 0; i < nv; i++) acc = FMA(LOAD(qg + i * W), LOAD(k + i * W), acc);            \
                scores[g * count + j] = REDUCE(acc) * scale;                                                   \
            }                                                                                                  \
        }                                                                                                      \
        softmax_rows(scores, G, count, ISA);                                                                          \
        for (size_t g = 0; g < G; g++) {                                                                       \
            const float *p = scores + g * count;                                                               \
            for (size_t c = 0; c < nv; c += 4) {                                                               \
                size_t width = nv - c < 4 ? nv - c : 4;                                                        \
                VEC acc[4] = {ZERO(), ZERO(), ZERO(), ZERO()};                                                 \
                for (size_t j = 0; j < count; j++) {                                                           \
                    const float *v = slot_row(values, table, block_size, kv_heads, kv_head, d, visible[j]) + c * W; \
                    VEC pj = SET1(p[j]);                                                                       \
                    for (size_t i = 0; i < width; i++) acc[i] = FMA(pj, LOAD(v + i * W), acc[i]);            \
                }                                                                                              \
                for (size_t i = 0; i < width; i++) STORE(out + g * d + (c + i) * W, acc[i]);                   \
            }                                                                                                  \
        }                                                                                                      \
    }

ATTEND_VECTOR_PATH(attend_512, T512, __m512, 16, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_storeu_ps,
                   _mm512_fmadd_ps, _mm512_set1_ps, _mm512_reduce_add_ps, DG_ISA_AVX512)
ATTEND_VECTOR_PATH(attend_256, T256, __m256, 8, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_storeu_ps,
                   _mm256_fmadd_ps, _mm256_set1_ps, hsum256, DG_ISA_AVX2)

void dg_attend_isa(int isa, const float *q, size_t G, size_t d, const float *keys, const float *values,
                   const int32_t *table, size_t block_size, size_t kv_heads, size_t kv_head,
                   const int32_t *visible, size_t count, float scale, float *out, float *scores) {
    if (count == 0) {
        memset(out, 0, G * d * sizeof(float));
        return;
    }
    if (isa > dg_cpu_isa()) isa = dg_cpu_isa();
    if (isa == DG_ISA_AVX512 && d % 16 == 0)
        attend_512(q, G, d, keys, values, table, block_size, kv_heads, kv_head, visible, count, scale, out, scores);
    else if (isa >= DG_ISA_AVX2 && d % 8 == 0)
        attend_256(q, G, d, keys, values, table, block_size, kv_heads, kv_head, visible, count, scale, out, scores);
    else
        attend_portable(q, G, d, keys, values, table, block_size, kv_heads, kv_head, visible, count, scale, out,
                        scores);
}
