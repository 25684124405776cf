/*
 * Scaled dot-product attention over a paged KV cache, for the group of query heads that share one
 * key/value head (GQA): each key and value is read once for the whole group.
 *
 * Two kernels:
 * - per token (dg_attend_heads_isa; dg_attend_chunk_rows_isa and dg_attend_merge for the forward
 *   pass's jobs), one query token over a contiguous run of cache slots plus a list of further
 *   slots (a tree token's ancestors): decode and verification. The slots go in chunks of
 *   DG_ATTEND_CHUNK, each with its own softmax maximum, merged in order. Its result depends only
 *   on the query and the slots, in order, so a token decoded alone and the same token verified
 *   inside a chain or tree get bitwise-identical outputs.
 * - dg_attend_causal_isa, a run of consecutive query positions (a prompt chunk) over every earlier
 *   slot, tile by tile with an online softmax (flash attention's rescaling), query rows in vector
 *   lanes: the work is the attention's own multiply-adds, and nothing per query grows with the
 *   context.
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
#include <math.h>
#include <string.h>
#include <stdlib.h>

INLINE const float *slot_row(const float *pool, const int32_t *table, size_t block_size, size_t kv_heads,
                             size_t kv_head, size_t d, int32_t slot) {
    size_t s = (size_t)slot;
    /* The cache's blocks are a power of two slots in practice: a shift and a mask, not a division. */
    size_t block = (block_size & (block_size - 1)) == 0 ? s >> __builtin_ctzl(block_size) : s / block_size;
    size_t within = (block_size & (block_size - 1)) == 0 ? s & (block_size - 1) : s % block_size;
    return pool + ((((size_t)table[block]) * block_size + within) * kv_heads + kv_head) * d;
}

/* Each of the `heads` score rows (n scores `stride` apart, finite: a chunk is never empty)
 * exponentiated against its maximum in place: m[h] the maximum, l[h] the sum of the exponentials. */
INLINE void exp_rows(float *scores, size_t heads, size_t n, size_t stride, int isa, float *m, float *l) {
    for (size_t h = 0; h < heads; h++) {
        float *row = scores + h * stride;
        float mx = row[0];
        for (size_t j = 1; j < n; j++) mx = row[j] > mx ? row[j] : mx;
        for (size_t j = 0; j < n; j++) row[j] -= mx;
        dg_exp_isa(isa, row, row, n);
        float sum = 0;
        for (size_t j = 0; j < n; j++) sum += row[j];
        m[h] = mx;
        l[h] = sum;
    }
}

/* Row rw's j-th visible slot: its run [lo, lo + run) first, then its listed slots. */
#define ROW_SLOT(rw, j) ((j) < (rw)->run ? (int32_t)((rw)->lo + (j)) : (rw)->extra[(j) - (rw)->run])

/* One chunk of row rw, its visible slots j0 … min(j1, count) − 1, of key/value heads kv_head …
 * kv_head + nh − 1: per query head h of the nh·G (rw->q, rw->acc: back to back, d floats each),
 * m[h] and l[h] as exp_rows gives them and acc[h] = Σ_j exp(s_j − m[h])·v_j in slot order. */
static void chunk_portable(const dg_attend_row *rw, size_t G, size_t d, const float *keys, const float *values,
                           const int32_t *table, size_t block_size, size_t kv_heads, size_t kv_head, size_t nh,
                           size_t j0, size_t j1, float scale, float *scores) {
    size_t heads = nh * G, e = rw->count < j1 ? rw->count : j1;
    if (e <= j0) return;
    size_t n = e - j0;
    for (size_t j = j0; j < e; j++) {
        const float *k0 = slot_row(keys, table, block_size, kv_heads, kv_head, d, ROW_SLOT(rw, j));
        for (size_t h = 0; h < heads; h++) {
            const float *k = k0 + h / G * d;
            float s = 0;
            for (size_t i = 0; i < d; i++) s += rw->q[h * d + i] * k[i];
            scores[h * n + j - j0] = s * scale;
        }
    }
    exp_rows(scores, heads, n, n, DG_ISA_PORTABLE, rw->m, rw->l);
    memset(rw->acc, 0, heads * d * sizeof(float));
    for (size_t j = j0; j < e; j++) {
        const float *v0 = slot_row(values, table, block_size, kv_heads, kv_head, d, ROW_SLOT(rw, j));
        for (size_t h = 0; h < heads; h++) {
            float p = scores[h * n + j - j0];
            for (size_t i = 0; i < d; i++) rw->acc[h * d + i] += p * v0[h / G * d + i];
        }
    }
}

/* chunk_portable in vectors, for R rows at once (each row's operations those of a call for it
 * alone, in the same order). Key/value heads go in one sweep over the slots (a slot's rows of
 * consecutive heads are one contiguous run of the cache: head by head, a long context was walked
 * once per head at a stride, a third of the bandwidth after 4,096 tokens), and the rows take turns
 * on each slot, so rows that share slots (a verification chain's, a tree's cached prefix) read
 * them from memory once. Values go by tiles of ATTEND_TILE slots (their rows stay in L1), up to 4
 * query heads × 4 vectors of features in registers, carried across tiles in the row's acc. */
#define ATTEND_TILE 16
#define ATTEND_VECTOR_PATH(NAME, TARGET, VEC, W, ZERO, LOAD, STORE, FMA, SET1, REDUCE, ISA)                 \
    static TARGET void NAME(size_t R, const dg_attend_row *rows, size_t G, size_t d, const float *keys,       \
                            const float *values, const int32_t *table, size_t block_size, size_t kv_heads,    \
                            size_t kv_head, size_t nh, size_t j0, size_t j1, float scale, float *scores) {     \
        size_t nv = d / W, heads = nh * G, stride = j1 - j0;                                                   \
        for (size_t j = j0; j < j1; j++)                                                                       \
            for (size_t r = 0; r < R; r++) {                                                                   \
                const dg_attend_row *rw = rows + r;                                                            \
                if (j >= rw->count) continue;                                                                  \
                const float *k0 = slot_row(keys, table, block_size, kv_heads, kv_head, d, ROW_SLOT(rw, j));  \
                for (size_t h = 0; h < heads; h++) {                                                           \
                    const float *qg = rw->q + h * d, *k = k0 + h / G * d;                                      \
                    VEC acc = ZERO();                                                                          \
                    for (size_t i = 0; i < nv; i++) acc = FMA(LOAD(qg + i * W), LOAD(k + i * W), acc);        \
                    scores[(r * heads + h) * stride + j - j0] = REDUCE(acc) * scale;                           \
                }                                                                                              \
            }                                                                                                  \
        for (size_t r = 0; r < R; r++) {                                                                       \
            size_t e = rows[r].count < j1 ? rows[r].count : j1;                                                \
            if (e > j0) exp_rows(scores + r * heads * stride, heads, e - j0, stride, ISA, rows[r].m, rows[r].l); \
        }                                                                                                      \
        for (size_t t0 = j0; t0 < j1; t0 += ATTEND_TILE)                                                       \
            for (size_t r = 0; r < R; r++) {                                                                   \
                const dg_attend_row *rw = rows + r;                                                            \
                size_t e = rw->count < j1 ? rw->count : j1;                                                    \
                if (t0 >= e) continue;                                                                         \
                size_t t1 = e - t0 < ATTEND_TILE ? e : t0 + ATTEND_TILE;                                       \
                const float *v0[ATTEND_TILE], *p = scores + r * heads * stride;                                \
                float *out = rw->acc;                                                                          \
                for (size_t j = t0; j < t1; j++)                                                               \
                    v0[j - t0] = slot_row(values, table, block_size, kv_heads, kv_head, d, ROW_SLOT(rw, j)); \
                for (size_t c = 0; c < nv; c += 4) {                                                           \
                    size_t width = nv - c < 4 ? nv - c : 4;                                                    \
                    for (size_t h0 = 0; h0 < heads; h0 += 4) {                                                 \
                        size_t hn = heads - h0 < 4 ? heads - h0 : 4;                                           \
                        VEC acc[4][4];                                                                         \
                        for (int a = 0; a < 4; a++)                                                            \
                            for (int i = 0; i < 4; i++)                                                        \
                                acc[a][i] = t0 > j0 && (size_t)a < hn && (size_t)i < width                     \
                                    ? LOAD(out + (h0 + a) * d + (c + i) * W) : ZERO();                         \
                        for (size_t j = t0; j < t1; j++) {                                                     \
                            for (int a = 0; a < 4; a++) {                                                      \
                                if ((size_t)a >= hn) break;                                                    \
                                const float *v = v0[j - t0] + (h0 + a) / G * d + c * W;                        \
                                VEC pj = SET1(p[(h0 + a) * stride + j - j0]);                                  \
                                for (int i = 0; i < 4; i++)                                                    \
                                    if ((size_t)i < width) acc[a][i] = FMA(pj, LOAD(v + i * W), acc[a][i]);    \
                            }                                                                                  \
                        }                                                                                      \
                        for (size_t a = 0; a < hn; a++)                                                        \
                            for (size_t i = 0; i < width; i++) STORE(out + (h0 + a) * d + (c + i) * W, acc[a][i]); \
                    }                                                                                          \
                }                                                                                              \
            }                                                                                                  \
    }

ATTEND_VECTOR_PATH(chunk_512, T512, __m512, 16, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_storeu_ps,
                   _mm512_fmadd_ps, _mm512_set1_ps, _mm512_reduce_add_ps, DG_ISA_AVX512)
ATTEND_VECTOR_PATH(chunk_256, T256, __m256, 8, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_storeu_ps,
                   _mm256_fmadd_ps, _mm256_set1_ps, hsum256, DG_ISA_AVX2)

void dg_attend_chunk_rows_isa(int isa, size_t R, const dg_attend_row *rows, size_t G, size_t d, const float *keys,
                              const float *values, const int32_t *table, size_t block_size, size_t kv_heads,
                              size_t kv_head, size_t nh, size_t j0, size_t j1, float scale, float *scores) {
    if (isa > dg_cpu_isa()) isa = dg_cpu_isa();
    if (isa == DG_ISA_AVX512 && d % 16 == 0)
        chunk_512(R, rows, G, d, keys, values, table, block_size, kv_heads, kv_head, nh, j0, j1, scale, scores);
    else if (isa >= DG_ISA_AVX2 && d % 8 == 0)
        chunk_256(R, rows, G, d, keys, values, table, block_size, kv_heads, kv_head, nh, j0, j1, scale, scores);
    else
        for (size_t r = 0; r < R; r++)
            chunk_portable(rows + r, G, d, keys, values, table, block_size, kv_heads, kv_head, nh, j0, j1, scale, scores);
}

/* One row's chunk j0 … j1 − 1 (dg_attend_heads_isa's chunks, one at a time). */
static void chunk_one(int isa, const float *q, size_t G, size_t d, const float *keys, const float *values,
                      const int32_t *table, size_t block_size, size_t kv_heads, size_t kv_head, size_t nh, size_t lo,
                      size_t run, const int32_t *extra, size_t j0, size_t j1, float scale, float *acc, float *m,
                      float *l, float *scores) {
    dg_attend_row row = {q, lo, run, extra, j1, acc, m, l};
    dg_attend_chunk_rows_isa(isa, 1, &row, G, d, keys, values, table, block_size, kv_heads, kv_head, nh, j0, j1, scale,
                             scores);
}

void dg_attend_merge(size_t heads, size_t d, size_t chunks, const float *acc, const float *m, const float *l, float *out) {
    for (size_t h = 0; h < heads; h++) {
        float top = m[h];
        for (size_t c = 1; c < chunks; c++) top = m[c * heads + h] > top ? m[c * heads + h] : top;
        float *o = out + h * d, total = 0;
        for (size_t c = 0; c < chunks; c++) {
            float w = expf(m[c * heads + h] - top);
            const float *a = acc + (c * heads + h) * d;
            total += w * l[c * heads + h];
            for (size_t i = 0; i < d; i++) o[i] = c == 0 ? w * a[i] : o[i] + w * a[i];
        }
        float inv = 1.0f / total;
        for (size_t i = 0; i < d; i++) o[i] *= inv;
    }
}

void dg_attend_isa(int isa, const float *q, size_t G, size_t d, const float *keys, const float *values,
                   const int32_t *table, size_t block_size, size_t kv_heads, size_t kv_head,
                   size_t lo, size_t run, const int32_t *extra, size_t extra_count, float scale, float *out,
                   float *scores) {
    dg_attend_heads_isa(isa, q, G, d, keys, values, table, block_size, kv_heads, kv_head, 1, lo, run, extra,
                        extra_count, scale, out, scores);
}

void dg_attend_heads_isa(int isa, const float *q, size_t G, size_t d, const float *keys, const float *values,
                         const int32_t *table, size_t block_size, size_t kv_heads, size_t kv_head, size_t nh,
                         size_t lo, size_t run, const int32_t *extra, size_t extra_count, float scale, float *out,
                         float *scores) {
    size_t count = run + extra_count, heads = nh * G;
    if (count == 0) {
        memset(out, 0, heads * d * sizeof(float));
        return;
    }
    size_t chunks = (count + DG_ATTEND_CHUNK - 1) / DG_ATTEND_CHUNK;
    if (chunks == 1 && heads <= DG_ATTEND_MAX_HEADS) { /* the chunk's sums straight into out */
        float m[DG_ATTEND_MAX_HEADS], l[DG_ATTEND_MAX_HEADS];
        chunk_one(isa, q, G, d, keys, values, table, block_size, kv_heads, kv_head, nh, lo, run, extra, 0, count, scale,
                  out, m, l, scores);
        dg_attend_merge(heads, d, 1, out, m, l, out);
        return;
    }
    float *part = malloc(chunks * heads * (d + 2) * sizeof(float));
    if (!part) return;
    float *m = part + chunks * heads * d, *l = m + chunks * heads;
    for (size_t c = 0; c < chunks; c++) {
        size_t j1 = (c + 1) * DG_ATTEND_CHUNK < count ? (c + 1) * DG_ATTEND_CHUNK : count;
        chunk_one(isa, q, G, d, keys, values, table, block_size, kv_heads, kv_head, nh, lo, run, extra, c * DG_ATTEND_CHUNK,
                  j1, scale, part + c * heads * d, m + c * heads, l + c * heads, scores);
    }
    dg_attend_merge(heads, d, chunks, part, m, l, out);
    free(part);
}

/* ------------------------------------------------------------------ causal runs (prefill) */
/*
 * One source for every instruction set: 16-lane vectors of the compiler's vector extension, which
 * a function's target attribute lowers to one zmm (AVX-512), two ymm (AVX2) or four xmm (the
 * portable SSE2 baseline). A lane is a query row (one query position, one head of the group): the
 * job's queries are transposed once, so the scores of 16 rows against one key are one vector built
 * from d multiply-adds with the key's features broadcast, four keys at a time, and the online
 * softmax (running max, rescale, sum) runs lane-wise with no horizontal reduction. The weighted
 * sum of values goes row by row, four rows at a time, each value row loaded once for the four.
 */
#define CAUSAL_TILE 16 /* slots per tile */
#define CAUSAL_LANES 16 /* query rows per vector */
#define CAUSAL_KEYS 4 /* keys scored together */
#define CAUSAL_ROWS 4 /* rows accumulated together in the value sum */
typedef float vf16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t vi16 __attribute__((vector_size(64), aligned(4)));
/* The helpers taking vf16 arguments are always inlined, so no call ever passes one under an ABI
 * the caller does not share. */
#pragma clang diagnostic ignored "-Wpsabi"

#define VSELECT(mask, a, b) ((vf16)(((vi16)(a) & (mask)) | ((vi16)(b) & ~(mask))))

#define CAUSAL_PATH(NAME, TARGET, EXP16)                                                                          \
    static TARGET void NAME(const float *q, size_t q_stride, size_t n, size_t G, size_t d, const float *keys,   \
                            const float *values, const int32_t *table, size_t block_size, size_t kv_heads,        \
                            size_t kv_head, size_t first, size_t window, float scale, float *out,                 \
                            size_t out_stride, float *scratch) {                                                  \
        size_t R = n * G, groups = (R + CAUSAL_LANES - 1) / CAUSAL_LANES, nv = d / CAUSAL_LANES;                  \
        vf16 *qt = (vf16 *)scratch;            /* groups × d: feature c of the group's 16 rows */                  \
        vf16 *mrow = qt + groups * d;          /* running max per row */                                          \
        vf16 *lrow = mrow + groups;            /* running sum per row */                                          \
        vi16 *posv = (vi16 *)(lrow + groups);  /* row positions (-1 past the last row) */                        \
        vi16 *lov = posv + groups;             /* first visible slot per row */                                   \
        float *pt = (float *)(lov + groups);   /* one tile's weights, key-major: pt[j * 16 + lane] */            \
        float *ct = pt + CAUSAL_TILE * CAUSAL_LANES; /* one tile's rescale factors per lane */                    \
        const vf16 neg = (vf16){0} - __builtin_inff();                                                            \
        vi16 iota;                                                                                                \
        for (int t = 0; t < CAUSAL_LANES; t++) iota[t] = t;                                                       \
        for (size_t gi = 0; gi < groups; gi++) {                                                                  \
            mrow[gi] = neg;                                                                                       \
            lrow[gi] = (vf16){0};                                                                                 \
            for (int t = 0; t < CAUSAL_LANES; t++) {                                                              \
                size_t r = gi * CAUSAL_LANES + t;                                                                 \
                size_t pos = first + r / G;                                                                       \
                posv[gi][t] = r < R ? (int32_t)pos : -1;                                                          \
                lov[gi][t] = r < R && window && pos + 1 > window ? (int32_t)(pos + 1 - window) : 0;              \
                const float *qr = q + (r / G) * q_stride + (r % G) * d;                                           \
                for (size_t c = 0; c < d; c++) qt[gi * d + c][t] = r < R ? qr[c] * scale : 0;                     \
            }                                                                                                     \
        }                                                                                                         \
        for (size_t r = 0; r < R; r++) memset(out + (r / G) * out_stride + (r % G) * d, 0, d * sizeof(float));   \
        size_t last = first + n - 1;                                                                              \
        size_t lowest = window && first + 1 > window ? first + 1 - window : 0;                                    \
        for (size_t k0 = lowest / CAUSAL_TILE * CAUSAL_TILE; k0 <= last; k0 += CAUSAL_TILE) {                     \
            size_t kc = last + 1 - k0 < CAUSAL_TILE ? last + 1 - k0 : CAUSAL_TILE;                                \
            const float *krow[CAUSAL_TILE], *vrow[CAUSAL_TILE];                                                   \
            for (size_t j = 0; j < CAUSAL_TILE; j++) {                                                            \
                int32_t slot = (int32_t)(k0 + (j < kc ? j : 0));                                                  \
                krow[j] = slot_row(keys, table, block_size, kv_heads, kv_head, d, slot);                          \
                vrow[j] = slot_row(values, table, block_size, kv_heads, kv_head, d, slot);                        \
            }                                                                                                     \
            for (size_t gi = 0; gi < groups; gi++) {                                                              \
                /* Skip groups none of whose rows sees a slot of this tile. */                                    \
                int32_t top = -1, bottom = INT32_MAX;                                                             \
                for (int t = 0; t < CAUSAL_LANES; t++) {                                                          \
                    if (posv[gi][t] > top) top = posv[gi][t];                                                     \
                    if (posv[gi][t] >= 0 && lov[gi][t] < bottom) bottom = lov[gi][t];                             \
                }                                                                                                 \
                if (top < (int32_t)k0 || bottom > (int32_t)(k0 + kc - 1)) continue;                               \
                vf16 s[CAUSAL_TILE];                                                                              \
                const vf16 *qg = qt + gi * d;                                                                     \
                for (size_t j = 0; j < CAUSAL_TILE; j += CAUSAL_KEYS) {                                           \
                    vf16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                                                  \
                    const float *k0p = krow[j], *k1p = krow[j + 1], *k2p = krow[j + 2], *k3p = krow[j + 3];       \
                    for (size_t c = 0; c < d; c++) {                                                              \
                        vf16 qv = qg[c];                                                                          \
                        a0 += k0p[c] * qv;                                                                        \
                        a1 += k1p[c] * qv;                                                                        \
                        a2 += k2p[c] * qv;                                                                        \
                        a3 += k3p[c] * qv;                                                                        \
                    }                                                                                             \
                    s[j] = a0; s[j + 1] = a1; s[j + 2] = a2; s[j + 3] = a3;                                       \
                }                                                                                                 \
                vf16 m_old = mrow[gi], m_new = m_old;                                                             \
                vi16 ok[CAUSAL_TILE];                                                                             \
                for (size_t j = 0; j < CAUSAL_TILE; j++) {                                                        \
                    int32_t slot = (int32_t)(k0 + j);                                                             \
                    ok[j] = (lov[gi] <= slot) & (posv[gi] >= slot) & (vi16){0} - (int32_t)(j < kc);               \
                    s[j] = VSELECT(ok[j], s[j], neg);                                                             \
                    m_new = __builtin_elementwise_max(m_new, s[j]);                                               \
                }                                                                                                 \
                /* Lanes that have seen no slot yet keep m = -inf: no rescale, weights 0. */                      \
                vi16 seen = m_new > neg;                                                                          \
                vf16 base = VSELECT(seen, m_new, (vf16){0});                                                      \
                vf16 corr = VSELECT(m_old > neg, EXP16(m_old - base), (vf16){0} + 1.0f);                          \
                vf16 sum = lrow[gi] * corr;                                                                       \
                for (size_t j = 0; j < CAUSAL_TILE; j++) {                                                        \
                    vf16 e = VSELECT(ok[j], EXP16(s[j] - base), (vf16){0});                                       \
                    sum += e;                                                                                     \
                    *(vf16 *)(pt + j * CAUSAL_LANES) = e;                                                         \
                }                                                                                                 \
                lrow[gi] = sum;                                                                                   \
                mrow[gi] = m_new;                                                                                 \
                *(vf16 *)ct = corr;                                                                               \
                size_t rows = R - gi * CAUSAL_LANES < CAUSAL_LANES ? R - gi * CAUSAL_LANES : CAUSAL_LANES;        \
                for (size_t t0 = 0; t0 < rows; t0 += CAUSAL_ROWS) {                                               \
                    size_t rn = rows - t0 < CAUSAL_ROWS ? rows - t0 : CAUSAL_ROWS;                                \
                    float *op[CAUSAL_ROWS];                                                                       \
                    for (size_t u = 0; u < CAUSAL_ROWS; u++) {                                                    \
                        size_t r = gi * CAUSAL_LANES + t0 + (u < rn ? u : 0);                                     \
                        op[u] = out + (r / G) * out_stride + (r % G) * d;                                         \
                    }                                                                                             \
                    for (size_t c = 0; c < nv; c++) {                                                             \
                        vf16 acc[CAUSAL_ROWS];                                                                    \
                        for (size_t u = 0; u < CAUSAL_ROWS; u++)                                                  \
                            acc[u] = *(const vf16 *)(op[u] + c * CAUSAL_LANES) * ct[t0 + u];                      \
                        for (size_t j = 0; j < kc; j++) {                                                         \
                            vf16 v = *(const vf16 *)(vrow[j] + c * CAUSAL_LANES);                                 \
                            const float *pj = pt + j * CAUSAL_LANES + t0;                                         \
                            for (size_t u = 0; u < CAUSAL_ROWS; u++) acc[u] += pj[u] * v;                         \
                        }                                                                                         \
                        for (size_t u = 0; u < rn; u++) *(vf16 *)(op[u] + c * CAUSAL_LANES) = acc[u];             \
                    }                                                                                             \
                }                                                                                                 \
            }                                                                                                     \
        }                                                                                                         \
        for (size_t r = 0; r < R; r++) {                                                                          \
            float inv = 1.0f / lrow[r / CAUSAL_LANES][r % CAUSAL_LANES];                                          \
            float *o = out + (r / G) * out_stride + (r % G) * d;                                                  \
            for (size_t c = 0; c < d; c++) o[c] *= inv;                                                           \
        }                                                                                                         \
    }

INLINE T512 vf16 exp16_512(vf16 x) { return (vf16)exp512((__m512)x); }
INLINE T256 vf16 exp16_256(vf16 x) {
    union { vf16 v; __m256 h[2]; } u = {.v = x};
    u.h[0] = exp256(u.h[0]);
    u.h[1] = exp256(u.h[1]);
    return u.v;
}
INLINE vf16 exp16_portable(vf16 x) {
    for (int j = 0; j < CAUSAL_TILE; j++) x[j] = expf(x[j]);
    return x;
}

CAUSAL_PATH(causal_512, T512, exp16_512)
CAUSAL_PATH(causal_256, T256, exp16_256)
CAUSAL_PATH(causal_portable, , exp16_portable)

size_t dg_attend_causal_scratch(size_t first, size_t n, size_t G, size_t d) {
    /* Heads the vector does not divide go one query at a time through dg_attend_isa (scores of the run). */
    size_t groups = (n * G + CAUSAL_LANES - 1) / CAUSAL_LANES;
    return d % CAUSAL_LANES == 0 ? groups * CAUSAL_LANES * (d + 4) + CAUSAL_TILE * CAUSAL_LANES + CAUSAL_LANES
                                 : G * (first + n);
}

void dg_attend_causal_isa(int isa, const float *q, size_t q_stride, size_t n, size_t G, size_t d,
                          const float *keys, const float *values, const int32_t *table, size_t block_size,
                          size_t kv_heads, size_t kv_head, size_t first, size_t window, float scale, float *out,
                          size_t out_stride, float *scratch) {
    if (n == 0) return;
    if (d % CAUSAL_LANES != 0) {
        /* Heads whose width is not a multiple of the vector: one query at a time over its run. */
        for (size_t i = 0; i < n; i++) {
            size_t pos = first + i, lo = window && pos + 1 > window ? pos + 1 - window : 0;
            dg_attend_isa(isa, q + i * q_stride, G, d, keys, values, table, block_size, kv_heads, kv_head, lo,
                          pos + 1 - lo, NULL, 0, scale, out + i * out_stride, scratch);
        }
        return;
    }
    if (isa > dg_cpu_isa()) isa = dg_cpu_isa();
    if (isa == DG_ISA_AVX512)
        causal_512(q, q_stride, n, G, d, keys, values, table, block_size, kv_heads, kv_head, first, window, scale,
                   out, out_stride, scratch);
    else if (isa == DG_ISA_AVX2)
        causal_256(q, q_stride, n, G, d, keys, values, table, block_size, kv_heads, kv_head, first, window, scale,
                   out, out_stride, scratch);
    else
        causal_portable(q, q_stride, n, G, d, keys, values, table, block_size, kv_heads, kv_head, first, window,
                        scale, out, out_stride, scratch);
}
