/* cblas_sgemm that sends matrix-vector products (one row or one column: every decode step at batch 1)
 * to cblas_sgemv. OpenBLAS's x86 sgemm packs the whole weight matrix even for one row, which makes
 * decoding ~3x slower than the memory allows; its sgemv streams the matrix once.
 * Loaded by pipeline/cpu_blas.py into the global symbol scope, so MLX's cblas_sgemm calls land here;
 * everything else goes to OpenBLAS's own sgemm (scipy-openblas32's prefixed scipy_cblas_sgemm), whose
 * address is passed in at load. */
#include <stddef.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*sgemv_fn)(int, int, int, int, float, const float *, int, const float *, int, float, float *, int);

static sgemm_fn real_sgemm;
static sgemv_fn real_sgemv;
static long forwarded; /* how many products went to sgemv: tests check the path is taken */

void pipeline_gemv_forward_init(sgemm_fn sgemm, sgemv_fn sgemv) {
    real_sgemm = sgemm;
    real_sgemv = sgemv;
}

long pipeline_gemv_forwarded(void) { return forwarded; }

/* beta = 0 means "ignore c": c may be uninitialised memory, and 0 * NaN is NaN inside sgemv */
static void clear(float *c, int count, int stride) {
    for (int i = 0; i < count; i++) c[(size_t)i * stride] = 0.0f;
}

void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc) {
    if (real_sgemv == NULL) { /* one-row routing off (PIPELINE_CPU_BLAS=openblas): sgemm for everything */
        real_sgemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else if (order == ROW_MAJOR && m == 1 && n > 1 && k > 0) {
        /* c(1,n) = a(1,k) op(b)(k,n), i.e. op(b)^T times the vector a */
        if (beta == 0.0f) clear(c, n, 1);
        int step_a = trans_a == NO_TRANS ? 1 : lda;
        if (trans_b == NO_TRANS) real_sgemv(ROW_MAJOR, TRANS, k, n, alpha, b, ldb, a, step_a, beta, c, 1);
        else real_sgemv(ROW_MAJOR, NO_TRANS, n, k, alpha, b, ldb, a, step_a, beta, c, 1);
        forwarded++;
    } else if (order == ROW_MAJOR && n == 1 && m > 1 && k > 0) {
        /* c(m,1) = op(a)(m,k) b(k,1) */
        if (beta == 0.0f) clear(c, m, ldc);
        int step_b = trans_b == NO_TRANS ? ldb : 1;
        if (trans_a == NO_TRANS) real_sgemv(ROW_MAJOR, NO_TRANS, m, k, alpha, a, lda, b, step_b, beta, c, ldc);
        else real_sgemv(ROW_MAJOR, TRANS, k, m, alpha, a, lda, b, step_b, beta, c, ldc);
        forwarded++;
    } else {
        real_sgemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}
