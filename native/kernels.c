/*
 * N-API addon: BLAS-backed kernels for the active-reading training engine.
 * sgemm -> cblas_sgemm (row-major) on Float32Array memory without copying; adamw -> a C loop;
 * setThreads/getThreads -> openblas_{set,get}_num_threads; config -> openblas_get_config; the element-wise
 * kernels of the training ops (swiglu, rmsnorm, cross-entropy, causal softmax, add/axpy, rope) -> C loops.
 * GEMMs and the larger element-wise loops are split over a small persistent thread pool of our own (each
 * part calling single-threaded BLAS), which scales far better than OpenBLAS's threads on small models.
 * Semantics match src/engine/kernels/types.ts. Every array extent is checked before BLAS touches it.
 */
#include <ctype.h>
#include <pthread.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cblas.h>
#include <node_api.h>

/* Declared by OpenBLAS's cblas.h on Debian; repeated here for other cblas.h variants. */
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

#define CALL(env, expr)                                                                      \
  do {                                                                                       \
    if ((expr) != napi_ok) {                                                                 \
      const napi_extended_error_info *info_ = NULL;                                          \
      napi_get_last_error_info((env), &info_);                                               \
      bool pending_ = false;                                                                 \
      napi_is_exception_pending((env), &pending_);                                           \
      if (!pending_)                                                                         \
        napi_throw_error((env), NULL,                                                        \
                         info_ && info_->error_message ? info_->error_message : "N-API call failed"); \
      return NULL;                                                                           \
    }                                                                                        \
  } while (0)

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

static int get_f32(napi_env env, napi_value v, float **data, size_t *len, const char *name) {
  bool is_ta = false;
  napi_typedarray_type type;
  void *ptr = NULL;
  char msg[128];
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) goto bad;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok) goto bad;
  if (type != napi_float32_array) goto bad;
  *data = (float *)ptr;
  return 1;
bad:
  snprintf(msg, sizeof msg, "%s must be a Float32Array", name);
  napi_throw_type_error(env, NULL, msg);
  return 0;
}

static int get_int(napi_env env, napi_value v, int64_t *out, const char *name) {
  double d;
  char msg[128];
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d != floor(d) || d > 2147483647.0) {
    snprintf(msg, sizeof msg, "%s must be a non-negative integer", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

static int get_num(napi_env env, napi_value v, double *out, const char *name) {
  char msg[128];
  if (napi_get_value_double(env, v, out) != napi_ok) {
    snprintf(msg, sizeof msg, "%s must be a number", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

static int get_bool(napi_env env, napi_value v, bool *out, const char *name) {
  char msg[128];
  if (napi_get_value_bool(env, v, out) != napi_ok) {
    snprintf(msg, sizeof msg, "%s must be a boolean", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

/* A stored rows×cols matrix with row stride ld must fit in len floats. */
static int check_extent(napi_env env, const char *name, int64_t rows, int64_t cols, int64_t ld, size_t len) {
  char msg[192];
  if (rows == 0 || cols == 0) return 1;
  if (ld < cols) {
    snprintf(msg, sizeof msg, "sgemm: ld%c=%lld is smaller than the row length %lld", tolower((unsigned char)name[0]), (long long)ld,
             (long long)cols);
    throw_range(env, msg);
    return 0;
  }
  if ((rows - 1) * ld + cols > (int64_t)len) {
    snprintf(msg, sizeof msg, "sgemm: %s needs %lld elements (%lldx%lld, ld %lld) but has %zu", name,
             (long long)((rows - 1) * ld + cols), (long long)rows, (long long)cols, (long long)ld, len);
    throw_range(env, msg);
    return 0;
  }
  return 1;
}

/* ---- Fork/join over threads of our own, each calling single-threaded BLAS. ---- */

#define MAX_THREADS 64

typedef void (*part_fn)(void *job);

/*
 * A persistent pool: creating threads per call costs ~30-50 us, a fifth of a 2048x128x128 GEMM. Workers
 * spin briefly on a ticket counter (the next call usually comes within microseconds), then sleep on a
 * condition variable. Calls come from the one JS thread, so there is one job set at a time.
 */
static struct {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int started;                /* workers running (threads 1..started) */
  atomic_uint ticket;         /* 128 x call number + parts of that call: read once, so a worker never
                                 pairs one call's part count with another call's jobs */
  atomic_int pending;         /* parts still running on workers */
  part_fn fn;
  char *jobs;
  size_t job_size;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, NULL, NULL, 0};

/* The ticket each worker was created at: it must not read its first ticket itself, or it could miss the
 * call that created it. */
static unsigned pool_start_ticket[MAX_THREADS];

static void *pool_worker(void *arg) {
  const int index = (int)(intptr_t)arg;
  unsigned seen = pool_start_ticket[index];
  for (;;) {
    unsigned now = atomic_load(&pool.ticket);
    for (int spin = 0; now == seen && spin < 20000; spin++) now = atomic_load(&pool.ticket);
    if (now == seen) {
      pthread_mutex_lock(&pool.lock);
      while ((now = atomic_load(&pool.ticket)) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
      pthread_mutex_unlock(&pool.lock);
    }
    seen = now;
    if (index < (int)(now % 128)) {
      pool.fn(pool.jobs + (size_t)index * pool.job_size);
      atomic_fetch_sub(&pool.pending, 1);
    }
  }
  return NULL;
}

/* Runs fn(jobs + i * job_size) for i < parts: part 0 on the calling thread, the others on pool threads,
 * with OpenBLAS held to one thread meanwhile. Parts whose worker could not be started run here. */
static void run_parts(part_fn fn, char *jobs, size_t job_size, int parts) {
  if (parts <= 1) {
    fn(jobs);
    return;
  }
  while (pool.started < parts - 1) {
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pool_start_ticket[pool.started + 1] = atomic_load(&pool.ticket);
    const int ok = pthread_create(&tid, &attr, pool_worker, (void *)(intptr_t)(pool.started + 1)) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) break;
    pool.started++;
  }
  const int remote = parts - 1 < pool.started ? parts - 1 : pool.started;
  const int saved = openblas_get_num_threads();
  openblas_set_num_threads(1);
  pool.fn = fn;
  pool.jobs = jobs;
  pool.job_size = job_size;
  atomic_store(&pool.pending, remote);
  pthread_mutex_lock(&pool.lock);
  atomic_store(&pool.ticket, (atomic_load(&pool.ticket) / 128 + 1) * 128 + (unsigned)(remote + 1));
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.lock);
  fn(jobs);
  for (int t = remote + 1; t < parts; t++) fn(jobs + (size_t)t * job_size);
  while (atomic_load(&pool.pending) > 0) {
  }
  openblas_set_num_threads(saved);
}

/* ---- parallel_for: the element-wise kernels split their rows (or elements) over the same pool. ---- */

typedef void (*range_fn)(const void *args, int64_t begin, int64_t end, double *acc);

typedef struct {
  range_fn fn;
  const void *args;
  int64_t begin, end;
  double acc;
} range_job;

static void run_range(void *arg) {
  range_job *j = (range_job *)arg;
  j->acc = 0;
  if (j->end > j->begin) j->fn(j->args, j->begin, j->end, &j->acc);
}

/*
 * fn over [0, n) in one contiguous range per thread, when each range gets at least `grain` items (below
 * that the hand-off costs more than it saves). Returns the sum of the ranges' `acc`, added in range order.
 * Every item is computed by the same code whatever the split, so results do not depend on the thread
 * count, except for sums, whose partials are added in a different grouping.
 */
static double parallel_for(range_fn fn, const void *args, int64_t n, int64_t grain) {
  int threads = openblas_get_num_threads();
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (grain < 1) grain = 1;
  if (threads > n / grain) threads = (int)(n / grain);
  range_job jobs[MAX_THREADS];
  if (threads <= 1) {
    jobs[0] = (range_job){fn, args, 0, n, 0};
    run_range(&jobs[0]);
    return jobs[0].acc;
  }
  for (int t = 0; t < threads; t++) jobs[t] = (range_job){fn, args, n * t / threads, n * (t + 1) / threads, 0};
  run_parts(run_range, (char *)jobs, sizeof(range_job), threads);
  double total = 0;
  for (int t = 0; t < threads; t++) total += jobs[t].acc;
  return total;
}

/* About 32k floats of work per thread before splitting pays. */
#define GRAIN_FLOATS 32768
static int64_t rows_grain(int64_t row_len) { return row_len >= GRAIN_FLOATS ? 1 : GRAIN_FLOATS / (row_len > 0 ? row_len : 1); }

typedef struct {
  CBLAS_TRANSPOSE ta, tb;
  int M, N, K, lda, ldb, ldc;
  float alpha, beta;
  const float *A, *B;
  float *C;
} gemm_job;

static void run_gemm(void *arg) {
  const gemm_job *j = (const gemm_job *)arg;
  if (j->M > 0 && j->N > 0)
    cblas_sgemm(CblasRowMajor, j->ta, j->tb, j->M, j->N, j->K, j->alpha, j->A, j->lda, j->B, j->ldb, j->beta,
                j->C, j->ldc);
}

/*
 * C = alpha·op(A)·op(B) + beta·C, with C cut into one block of rows (or of columns, when C is wider than
 * tall) per thread, each block a single-threaded BLAS call. OpenBLAS's own threading gains little on the
 * skinny GEMMs of small models (2 threads: 175 vs 150 GFLOP/s single-threaded for 2048x128x128, where
 * MKL reaches 320); independent blocks scale nearly 2x, and measured no slower on the 30M model's larger
 * GEMMs. Products under 2 MFLOP, or with fewer than 128 rows/columns to cut, stay one call.
 */
static void sgemm_split(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                        int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
  gemm_job base = {ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, (int)lda,
                   (int)ldb, (int)ldc, alpha, beta, A, B, C};
  int threads = openblas_get_num_threads();
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  const bool by_rows = M >= N;
  const int64_t extent = by_rows ? M : N;
  /* Blocks of at least 64 rows/columns; tiny products are not worth a thread. */
  if (threads > extent / 64) threads = (int)(extent / 64);
  if (threads <= 1 || (double)M * (double)N * (double)K < 2e6) {
    run_gemm(&base);
    return;
  }
  gemm_job jobs[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    /* Block edges on multiples of 16 keep each block's SIMD tiles whole. */
    const int64_t begin = ((extent * t / threads) + 15) / 16 * 16;
    int64_t end = t == threads - 1 ? extent : ((extent * (t + 1) / threads) + 15) / 16 * 16;
    if (end > extent) end = extent;
    gemm_job j = base;
    if (by_rows) {
      j.M = (int)(end - begin);
      j.A = ta ? A + begin : A + begin * lda;
      j.C = C + begin * ldc;
    } else {
      j.N = (int)(end - begin);
      j.B = tb ? B + begin * ldb : B + begin;
      j.C = C + begin;
    }
    jobs[t] = j;
  }
  run_parts(run_gemm, (char *)jobs, sizeof(gemm_job), threads);
}

/* sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) */
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 13) return throw_range(env, "sgemm expects 13 arguments");
  bool ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  double alpha, beta;
  float *A, *B, *C;
  size_t la, lb, lc;
  if (!get_bool(env, argv[0], &ta, "transA") || !get_bool(env, argv[1], &tb, "transB") ||
      !get_int(env, argv[2], &M, "M") || !get_int(env, argv[3], &N, "N") || !get_int(env, argv[4], &K, "K") ||
      !get_num(env, argv[5], &alpha, "alpha") || !get_f32(env, argv[6], &A, &la, "A") ||
      !get_int(env, argv[7], &lda, "lda") || !get_f32(env, argv[8], &B, &lb, "B") ||
      !get_int(env, argv[9], &ldb, "ldb") || !get_num(env, argv[10], &beta, "beta") ||
      !get_f32(env, argv[11], &C, &lc, "C") || !get_int(env, argv[12], &ldc, "ldc"))
    return NULL;
  if (M == 0 || N == 0) return NULL;
  if (!check_extent(env, "C", M, N, ldc, lc)) return NULL;
  if (K == 0 || alpha == 0.0) {
    /* C = beta * C; BLAS semantics: beta == 0 overwrites (NaN in C does not propagate). */
    for (int64_t i = 0; i < M; i++) {
      float *row = C + i * ldc;
      if (beta == 0.0)
        memset(row, 0, (size_t)N * sizeof(float));
      else if (beta != 1.0)
        for (int64_t j = 0; j < N; j++) row[j] = (float)(beta * row[j]);
    }
    return NULL;
  }
  if (!check_extent(env, "A", ta ? K : M, ta ? M : K, lda, la)) return NULL;
  if (!check_extent(env, "B", tb ? N : K, tb ? K : N, ldb, lb)) return NULL;
  sgemm_split(ta, tb, M, N, K, (float)alpha, A, lda, B, ldb, (float)beta, C, ldc);
  return NULL;
}

typedef struct {
  float *p, *m, *v;
  const float *g;
  float decay, b1, b2, ob1, ob2, step_size, inv_bc2_sqrt, eps;
} adamw_args;

static void adamw_range(const void *args, int64_t begin, int64_t end, double *acc) {
  (void)acc;
  const adamw_args *a = (const adamw_args *)args;
  float *p = a->p, *m = a->m, *v = a->v;
  const float *g = a->g;
  for (int64_t i = begin; i < end; i++) {
    const float gi = g[i];
    const float mi = a->b1 * m[i] + a->ob1 * gi;
    const float vi = a->b2 * v[i] + a->ob2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * a->decay - a->step_size * mi / (sqrtf(vi) * a->inv_bc2_sqrt + a->eps);
  }
}

/* adamw(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step) */
static napi_value Adamw(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 10) return throw_range(env, "adamw expects 10 arguments");
  float *p, *g, *m, *v;
  size_t lp, lg, lm, lv;
  double lr, b1, b2, eps, wd, step;
  if (!get_f32(env, argv[0], &p, &lp, "param") || !get_f32(env, argv[1], &g, &lg, "grad") ||
      !get_f32(env, argv[2], &m, &lm, "m") || !get_f32(env, argv[3], &v, &lv, "v") ||
      !get_num(env, argv[4], &lr, "lr") || !get_num(env, argv[5], &b1, "beta1") ||
      !get_num(env, argv[6], &b2, "beta2") || !get_num(env, argv[7], &eps, "eps") ||
      !get_num(env, argv[8], &wd, "weightDecay") || !get_num(env, argv[9], &step, "step"))
    return NULL;
  if (lg != lp || lm != lp || lv != lp) return throw_range(env, "adamw: param, grad, m and v must have the same length");
  if (!(step >= 1) || step != floor(step)) return throw_range(env, "adamw: step must be an integer >= 1");
  const adamw_args a = {p,
                       m,
                       v,
                       g,
                       (float)(1.0 - lr * wd),
                       (float)b1,
                       (float)b2,
                       (float)(1.0 - b1),
                       (float)(1.0 - b2),
                       (float)(lr / (1.0 - pow(b1, step))),
                       (float)(1.0 / sqrt(1.0 - pow(b2, step))),
                       (float)eps};
  parallel_for(adamw_range, &a, (int64_t)lp, GRAIN_FLOATS);
  return NULL;
}

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t n;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_int(env, argv[0], &n, "threads")) return NULL;
  if (n < 1) return throw_range(env, "setThreads: threads must be >= 1");
  openblas_set_num_threads((int)n);
  return NULL;
}

static napi_value GetThreads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CALL(env, napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

static napi_value Config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  const char *cfg = openblas_get_config();
  CALL(env, napi_create_string_utf8(env, cfg ? cfg : "OpenBLAS", NAPI_AUTO_LENGTH, &out));
  return out;
}

/* ---- Element-wise kernels of the training ops (src/engine/kernels/types.ts ElementwiseKernels). ---- */

/* A Float32Array, or NULL for null/undefined (optional gradients). */
static int get_f32_opt(napi_env env, napi_value v, float **data, size_t *len, const char *name) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined)) {
    *data = NULL;
    *len = 0;
    return 1;
  }
  return get_f32(env, v, data, len, name);
}

static int get_i32(napi_env env, napi_value v, int32_t **data, size_t *len, const char *name) {
  bool is_ta = false;
  napi_typedarray_type type;
  void *ptr = NULL;
  char msg[128];
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) goto bad;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, NULL, NULL) != napi_ok) goto bad;
  if (type != napi_int32_array) goto bad;
  *data = (int32_t *)ptr;
  return 1;
bad:
  snprintf(msg, sizeof msg, "%s must be an Int32Array", name);
  napi_throw_type_error(env, NULL, msg);
  return 0;
}

/* `data` (when given) must hold at least `need` values; same message as check.ts checkLength. */
static int need_len(napi_env env, const char *op, const char *name, const void *data, size_t len, int64_t need) {
  char msg[192];
  if (data && (int64_t)len < need) {
    snprintf(msg, sizeof msg, "%s: %s needs %lld values, has %zu", op, name, (long long)need, len);
    throw_range(env, msg);
    return 0;
  }
  return 1;
}

#define ARGS(n, name)                                                  \
  size_t argc = (n);                                                   \
  napi_value argv[(n)];                                                \
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));     \
  if (argc < (n)) return throw_range(env, name " expects " #n " arguments")

/*
 * exp(x) for float, written so that GCC/Clang vectorize the loops that call it (glibc's expf is a scalar
 * call): x = n·ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial (Cephes expf coefficients), times 2^n
 * built in the exponent bits. Relative error about 2e-7 over the clamped range [-87.3, 88.7] (outside it
 * the result saturates near FLT_MIN / FLT_MAX, which the callers' softmax / sigmoid tolerate); NaN in gives
 * NaN out.
 */
static inline float exp_f(float x) {
  x = x > 88.7f ? 88.7f : x;
  x = x < -87.3f ? -87.3f : x;
  /* n = round(x / ln2), by the 1.5·2^23 trick (plain adds, so it vectorizes; floorf would not). */
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale); /* a bit cast that the vectorizer understands */
  return p * scale;
}

/* max(x[0..n)) with 16 independent lanes, so that it vectorizes (a plain loop is one long dependency chain). */
static inline float max_f(const float *x, int64_t n) {
  float m = -INFINITY;
  int64_t i = 0;
  if (n >= 16) {
    float lane[16];
    for (int j = 0; j < 16; j++) lane[j] = x[j];
    for (i = 16; i + 16 <= n; i += 16)
      for (int j = 0; j < 16; j++) lane[j] = x[i + j] > lane[j] ? x[i + j] : lane[j];
    for (int j = 0; j < 16; j++) m = lane[j] > m ? lane[j] : m;
  }
  for (; i < n; i++) m = x[i] > m ? x[i] : m;
  return m;
}

/* Σ x[0..n) accumulated in double, 8 lanes (vectorizes; the result depends only on n, not on alignment). */
static inline double sum_f(const float *x, int64_t n) {
  double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) lane[j] += (double)x[i + j];
  double s = 0;
  for (int j = 0; j < 8; j++) s += lane[j];
  for (; i < n; i++) s += x[i];
  return s;
}

static inline float sigmoidf_(float x) { return 1.0f / (1.0f + exp_f(-x)); }

typedef struct {
  const float *g, *u, *dy;
  float *o_or_dg, *du;
} swiglu_args;

static void swiglu_forward_range(const void *args, int64_t begin, int64_t end, double *acc) {
  (void)acc;
  const swiglu_args *a = (const swiglu_args *)args;
  for (int64_t i = begin; i < end; i++) {
    const float x = a->g[i];
    a->o_or_dg[i] = x * sigmoidf_(x) * a->u[i];
  }
}

static void swiglu_backward_range(const void *args, int64_t begin, int64_t end, double *acc) {
  (void)acc;
  const swiglu_args *a = (const swiglu_args *)args;
  const float *g = a->g, *u = a->u, *dy = a->dy;
  float *dg = a->o_or_dg, *du = a->du;
  if (dg && du) {
    for (int64_t i = begin; i < end; i++) {
      const float x = g[i], sig = sigmoidf_(x), d = dy[i];
      du[i] += d * x * sig;
      dg[i] += d * u[i] * sig * (1.0f + x * (1.0f - sig));
    }
  } else {
    for (int64_t i = begin; i < end; i++) {
      const float x = g[i], sig = sigmoidf_(x), d = dy[i];
      if (du) du[i] += d * x * sig;
      if (dg) dg[i] += d * u[i] * sig * (1.0f + x * (1.0f - sig));
    }
  }
}

/* swigluForward(gate, up, out) */
static napi_value SwigluForward(napi_env env, napi_callback_info info) {
  ARGS(3, "swigluForward");
  float *g, *u, *o;
  size_t lg, lu, lo;
  if (!get_f32(env, argv[0], &g, &lg, "gate") || !get_f32(env, argv[1], &u, &lu, "up") ||
      !get_f32(env, argv[2], &o, &lo, "out"))
    return NULL;
  if (!need_len(env, "swigluForward", "up", u, lu, (int64_t)lg) ||
      !need_len(env, "swigluForward", "out", o, lo, (int64_t)lg))
    return NULL;
  const swiglu_args a = {g, u, NULL, o, NULL};
  parallel_for(swiglu_forward_range, &a, (int64_t)lg, GRAIN_FLOATS);
  return NULL;
}

/* swigluBackward(gate, up, dy, dgate|null, dup|null) */
static napi_value SwigluBackward(napi_env env, napi_callback_info info) {
  ARGS(5, "swigluBackward");
  float *g, *u, *dy, *dg, *du;
  size_t lg, lu, ly, ldg, ldu;
  if (!get_f32(env, argv[0], &g, &lg, "gate") || !get_f32(env, argv[1], &u, &lu, "up") ||
      !get_f32(env, argv[2], &dy, &ly, "dy") || !get_f32_opt(env, argv[3], &dg, &ldg, "dgate") ||
      !get_f32_opt(env, argv[4], &du, &ldu, "dup"))
    return NULL;
  const int64_t n = (int64_t)lg;
  if (!need_len(env, "swigluBackward", "up", u, lu, n) || !need_len(env, "swigluBackward", "dy", dy, ly, n) ||
      !need_len(env, "swigluBackward", "dgate", dg, ldg, n) || !need_len(env, "swigluBackward", "dup", du, ldu, n))
    return NULL;
  const swiglu_args a = {g, u, dy, dg, du};
  parallel_for(swiglu_backward_range, &a, n, GRAIN_FLOATS);
  return NULL;
}

typedef struct {
  const float *x, *g, *dy;
  float *o, *rs, *dx;
  const float *rs_in;
  int64_t H;
  double eps;
} rmsnorm_args;

static void rmsnorm_forward_range(const void *args, int64_t begin, int64_t end, double *acc) {
  (void)acc;
  const rmsnorm_args *a = (const rmsnorm_args *)args;
  const int64_t H = a->H;
  for (int64_t r = begin; r < end; r++) {
    const float *xr = a->x + r * H;
    float *orow = a->o + r * H;
    double ss = 0;
    for (int64_t h = 0; h < H; h++) ss += (double)xr[h] * xr[h];
    const float s = (float)(1.0 / sqrt(ss / (double)H + a->eps));
    a->rs[r] = s;
    for (int64_t h = 0; h < H; h++) orow[h] = xr[h] * s * a->g[h];
  }
}

/* dx rows only; dg (a sum over rows) stays on the calling thread. */
static void rmsnorm_backward_dx_range(const void *args, int64_t begin, int64_t end, double *acc) {
  (void)acc;
  const rmsnorm_args *a = (const rmsnorm_args *)args;
  const int64_t H = a->H;
  const float *g = a->g;
  for (int64_t r = begin; r < end; r++) {
    const float *xr = a->x + r * H, *dyr = a->dy + r * H;
    const float s = a->rs_in[r];
    double dot = 0;
    for (int64_t h = 0; h < H; h++) dot += (double)(dyr[h] * g[h]) * (double)(xr[h] * s);
    float *dxr = a->dx + r * H;
    const float mean = (float)(dot / (double)H);
    for (int64_t h = 0; h < H; h++) dxr[h] += s * (dyr[h] * g[h] - (xr[h] * s) * mean);
  }
}

/* rmsnormForward(x, g, out, rstd, rows, cols, eps) */
static napi_value RmsnormForward(napi_env env, napi_callback_info info) {
  ARGS(7, "rmsnormForward");
  float *x, *g, *o, *rs;
  size_t lx, lg, lo, lr;
  int64_t R, H;
  double eps;
  if (!get_f32(env, argv[0], &x, &lx, "x") || !get_f32(env, argv[1], &g, &lg, "g") ||
      !get_f32(env, argv[2], &o, &lo, "out") || !get_f32(env, argv[3], &rs, &lr, "rstd") ||
      !get_int(env, argv[4], &R, "rows") || !get_int(env, argv[5], &H, "cols") || !get_num(env, argv[6], &eps, "eps"))
    return NULL;
  if (!need_len(env, "rmsnormForward", "x", x, lx, R * H) || !need_len(env, "rmsnormForward", "out", o, lo, R * H) ||
      !need_len(env, "rmsnormForward", "g", g, lg, H) || !need_len(env, "rmsnormForward", "rstd", rs, lr, R))
    return NULL;
  const rmsnorm_args a = {x, g, NULL, o, rs, NULL, NULL, H, eps};
  parallel_for(rmsnorm_forward_range, &a, R, rows_grain(H));
  return NULL;
}

/* rmsnormBackward(x, g, rstd, dy, dx|null, dg|null, rows, cols) */
static napi_value RmsnormBackward(napi_env env, napi_callback_info info) {
  ARGS(8, "rmsnormBackward");
  float *x, *g, *rs, *dy, *dx, *dg;
  size_t lx, lg, lr, ly, ldx, ldg;
  int64_t R, H;
  if (!get_f32(env, argv[0], &x, &lx, "x") || !get_f32(env, argv[1], &g, &lg, "g") ||
      !get_f32(env, argv[2], &rs, &lr, "rstd") || !get_f32(env, argv[3], &dy, &ly, "dy") ||
      !get_f32_opt(env, argv[4], &dx, &ldx, "dx") || !get_f32_opt(env, argv[5], &dg, &ldg, "dg") ||
      !get_int(env, argv[6], &R, "rows") || !get_int(env, argv[7], &H, "cols"))
    return NULL;
  const char *op = "rmsnormBackward";
  if (!need_len(env, op, "x", x, lx, R * H) || !need_len(env, op, "dy", dy, ly, R * H) ||
      !need_len(env, op, "dx", dx, ldx, R * H) || !need_len(env, op, "g", g, lg, H) ||
      !need_len(env, op, "dg", dg, ldg, H) || !need_len(env, op, "rstd", rs, lr, R))
    return NULL;
  if (dx) {
    const rmsnorm_args a = {x, g, dy, NULL, NULL, dx, rs, H, 0};
    parallel_for(rmsnorm_backward_dx_range, &a, R, rows_grain(H));
  }
  if (dg)
    for (int64_t r = 0; r < R; r++) {
      const float *xr = x + r * H, *dyr = dy + r * H;
      const float s = rs[r];
      for (int64_t h = 0; h < H; h++) dg[h] += dyr[h] * (xr[h] * s);
    }
  return NULL;
}

static int check_targets(napi_env env, const int32_t *t, int64_t R, int64_t V, int32_t ignore) {
  char msg[128];
  for (int64_t r = 0; r < R; r++) {
    if (t[r] != ignore && (t[r] < 0 || t[r] >= V)) {
      snprintf(msg, sizeof msg, "target id %d is outside the vocabulary (size %lld)", t[r], (long long)V);
      throw_range(env, msg);
      return 0;
    }
  }
  return 1;
}

typedef struct {
  const float *l;
  float *p;
  const int32_t *t;
  int64_t V;
  int32_t ignore;
  float g;
} ce_args;

static void ce_forward_range(const void *args, int64_t begin, int64_t end, double *acc) {
  const ce_args *a = (const ce_args *)args;
  const int64_t V = a->V;
  double total = 0;
  for (int64_t r = begin; r < end; r++) {
    if (a->t[r] == a->ignore) continue;
    const float *lr = a->l + r * V;
    const float max = max_f(lr, V);
    double sum = 0;
    /* The exp loops store before summing so that they vectorize (a float reduction would not). */
    if (a->p) {
      float *pr = a->p + r * V;
      for (int64_t c = 0; c < V; c++) pr[c] = exp_f(lr[c] - max);
      sum = sum_f(pr, V);
      const float inv = (float)(1.0 / sum);
      for (int64_t c = 0; c < V; c++) pr[c] *= inv;
    } else {
      float chunk[256];
      for (int64_t c0 = 0; c0 < V; c0 += 256) {
        const int64_t m = V - c0 < 256 ? V - c0 : 256;
        for (int64_t c = 0; c < m; c++) chunk[c] = exp_f(lr[c0 + c] - max);
        sum += sum_f(chunk, m);
      }
    }
    total += (double)max + log(sum) - (double)lr[a->t[r]];
  }
  *acc = total;
}

static void ce_backward_range(const void *args, int64_t begin, int64_t end, double *acc) {
  (void)acc;
  const ce_args *a = (const ce_args *)args;
  const int64_t V = a->V;
  const float g = a->g;
  for (int64_t r = begin; r < end; r++) {
    if (a->t[r] == a->ignore) continue;
    const float *pr = a->l + r * V;
    float *dr = a->p + r * V;
    for (int64_t c = 0; c < V; c++) dr[c] += g * pr[c];
    dr[a->t[r]] -= g;
  }
}

/* crossEntropyForward(logits, targets, probs|null, rows, vocab, ignoreIndex) -> sum of losses */
static napi_value CrossEntropyForward(napi_env env, napi_callback_info info) {
  ARGS(6, "crossEntropyForward");
  float *l, *p;
  int32_t *t;
  size_t ll, lt, lp;
  int64_t R, V;
  double ignore_d;
  if (!get_f32(env, argv[0], &l, &ll, "logits") || !get_i32(env, argv[1], &t, &lt, "targets") ||
      !get_f32_opt(env, argv[2], &p, &lp, "probs") || !get_int(env, argv[3], &R, "rows") ||
      !get_int(env, argv[4], &V, "vocab") || !get_num(env, argv[5], &ignore_d, "ignoreIndex"))
    return NULL;
  const char *op = "crossEntropyForward";
  if (!need_len(env, op, "logits", l, ll, R * V) || !need_len(env, op, "probs", p, lp, R * V) ||
      !need_len(env, op, "targets", t, lt, R))
    return NULL;
  const int32_t ignore = (int32_t)ignore_d;
  if (!check_targets(env, t, R, V, ignore)) return NULL;
  const ce_args a = {l, p, t, V, ignore, 0};
  const double total = parallel_for(ce_forward_range, &a, R, rows_grain(V));
  napi_value out;
  CALL(env, napi_create_double(env, total, &out));
  return out;
}

/* crossEntropyBackward(probs, targets, dlogits, rows, vocab, g, ignoreIndex) */
static napi_value CrossEntropyBackward(napi_env env, napi_callback_info info) {
  ARGS(7, "crossEntropyBackward");
  float *p, *dl;
  int32_t *t;
  size_t lp, lt, ld;
  int64_t R, V;
  double gd, ignore_d;
  if (!get_f32(env, argv[0], &p, &lp, "probs") || !get_i32(env, argv[1], &t, &lt, "targets") ||
      !get_f32(env, argv[2], &dl, &ld, "dlogits") || !get_int(env, argv[3], &R, "rows") ||
      !get_int(env, argv[4], &V, "vocab") || !get_num(env, argv[5], &gd, "g") ||
      !get_num(env, argv[6], &ignore_d, "ignoreIndex"))
    return NULL;
  const char *op = "crossEntropyBackward";
  if (!need_len(env, op, "probs", p, lp, R * V) || !need_len(env, op, "dlogits", dl, ld, R * V) ||
      !need_len(env, op, "targets", t, lt, R))
    return NULL;
  const int32_t ignore = (int32_t)ignore_d;
  if (!check_targets(env, t, R, V, ignore)) return NULL;
  const ce_args a = {p, dl, t, V, ignore, (float)gd};
  parallel_for(ce_backward_range, &a, R, rows_grain(V));
  return NULL;
}

typedef struct {
  const float *P;
  float *dS;
  int64_t T;
  float scale;
} softmax_args;

/* Rows of all blocks, row = block * T + t. */
static void causal_softmax_range(const void *args, int64_t begin, int64_t end, double *acc) {
  (void)acc;
  const softmax_args *a = (const softmax_args *)args;
  const int64_t T = a->T;
  for (int64_t rowi = begin; rowi < end; rowi++) {
    const int64_t t = rowi % T;
    float *row = (float *)a->P + rowi * T;
    const float max = max_f(row, t + 1);
    for (int64_t s = 0; s <= t; s++) row[s] = exp_f(row[s] - max);
    const double sum = sum_f(row, t + 1);
    const float inv = (float)(1.0 / sum);
    for (int64_t s = 0; s <= t; s++) row[s] *= inv;
    if (t + 1 < T) memset(row + t + 1, 0, (size_t)(T - t - 1) * sizeof(float));
  }
}

static void causal_softmax_backward_range(const void *args, int64_t begin, int64_t end, double *acc) {
  (void)acc;
  const softmax_args *a = (const softmax_args *)args;
  const int64_t T = a->T;
  const float scale = a->scale;
  for (int64_t row = begin; row < end; row++) {
    const int64_t t = row % T;
    const float *pr = a->P + row * T;
    float *dr = a->dS + row * T;
    double weighted = 0;
    for (int64_t s = 0; s <= t; s++) weighted += (double)(pr[s] * dr[s]);
    const float w = (float)weighted;
    for (int64_t s = 0; s <= t; s++) dr[s] = pr[s] * (dr[s] - w) * scale;
    if (t + 1 < T) memset(dr + t + 1, 0, (size_t)(T - t - 1) * sizeof(float));
  }
}

/* causalSoftmax(P, blocks, T) */
static napi_value CausalSoftmax(napi_env env, napi_callback_info info) {
  ARGS(3, "causalSoftmax");
  float *P;
  size_t lp;
  int64_t blocks, T;
  if (!get_f32(env, argv[0], &P, &lp, "P") || !get_int(env, argv[1], &blocks, "blocks") ||
      !get_int(env, argv[2], &T, "T"))
    return NULL;
  if (!need_len(env, "causalSoftmax", "P", P, lp, blocks * T * T)) return NULL;
  const softmax_args a = {P, NULL, T, 0};
  parallel_for(causal_softmax_range, &a, blocks * T, rows_grain(T));
  return NULL;
}

/* causalSoftmaxBackward(P, dS, blocks, T, scale) */
static napi_value CausalSoftmaxBackward(napi_env env, napi_callback_info info) {
  ARGS(5, "causalSoftmaxBackward");
  float *P, *dS;
  size_t lp, ls;
  int64_t blocks, T;
  double scale_d;
  if (!get_f32(env, argv[0], &P, &lp, "P") || !get_f32(env, argv[1], &dS, &ls, "dS") ||
      !get_int(env, argv[2], &blocks, "blocks") || !get_int(env, argv[3], &T, "T") ||
      !get_num(env, argv[4], &scale_d, "scale"))
    return NULL;
  if (!need_len(env, "causalSoftmaxBackward", "P", P, lp, blocks * T * T) ||
      !need_len(env, "causalSoftmaxBackward", "dS", dS, ls, blocks * T * T))
    return NULL;
  const softmax_args a = {P, dS, T, (float)scale_d};
  parallel_for(causal_softmax_backward_range, &a, blocks * T, rows_grain(T));
  return NULL;
}

/* add(a, b, out) */
static napi_value Add(napi_env env, napi_callback_info info) {
  ARGS(3, "add");
  float *a, *b, *o;
  size_t la, lb, lo;
  if (!get_f32(env, argv[0], &a, &la, "a") || !get_f32(env, argv[1], &b, &lb, "b") ||
      !get_f32(env, argv[2], &o, &lo, "out"))
    return NULL;
  if (!need_len(env, "add", "a", a, la, (int64_t)lo) || !need_len(env, "add", "b", b, lb, (int64_t)lo)) return NULL;
  for (size_t i = 0; i < lo; i++) o[i] = a[i] + b[i];
  return NULL;
}

/* axpy(dst, src, alpha) */
static napi_value Axpy(napi_env env, napi_callback_info info) {
  ARGS(3, "axpy");
  float *d, *s;
  size_t ld, ls;
  double alpha_d;
  if (!get_f32(env, argv[0], &d, &ld, "dst") || !get_f32(env, argv[1], &s, &ls, "src") ||
      !get_num(env, argv[2], &alpha_d, "alpha"))
    return NULL;
  if (!need_len(env, "axpy", "src", s, ls, (int64_t)ld)) return NULL;
  const float alpha = (float)alpha_d;
  if (alpha == 1.0f)
    for (size_t i = 0; i < ld; i++) d[i] += s[i];
  else
    for (size_t i = 0; i < ld; i++) d[i] += s[i] * alpha;
  return NULL;
}

/* rope(src, dst, rows, heads, headDim, seqLen, cos, sin, direction, accumulate) */
static napi_value Rope(napi_env env, napi_callback_info info) {
  ARGS(10, "rope");
  float *src, *dst, *cs, *sn;
  size_t lsrc, ldst, lc, lsn;
  int64_t R, heads, hd, seq;
  double dir_d;
  bool acc;
  if (!get_f32(env, argv[0], &src, &lsrc, "src") || !get_f32(env, argv[1], &dst, &ldst, "dst") ||
      !get_int(env, argv[2], &R, "rows") || !get_int(env, argv[3], &heads, "heads") ||
      !get_int(env, argv[4], &hd, "headDim") || !get_int(env, argv[5], &seq, "seqLen") ||
      !get_f32(env, argv[6], &cs, &lc, "cos") || !get_f32(env, argv[7], &sn, &lsn, "sin") ||
      !get_num(env, argv[8], &dir_d, "direction") || !get_bool(env, argv[9], &acc, "accumulate"))
    return NULL;
  if (seq < 1) return throw_range(env, "rope: seqLen must be >= 1");
  const int64_t C = heads * hd, half = hd / 2, pos = R < seq ? R : seq;
  if (!need_len(env, "rope", "src", src, lsrc, R * C) || !need_len(env, "rope", "dst", dst, ldst, R * C) ||
      !need_len(env, "rope", "cos", cs, lc, pos * half) || !need_len(env, "rope", "sin", sn, lsn, pos * half))
    return NULL;
  const float dir = (float)dir_d;
  for (int64_t r = 0; r < R; r++) {
    const float *c = cs + (r % seq) * half, *sr = sn + (r % seq) * half;
    for (int64_t h = 0; h < heads; h++) {
      const float *x = src + r * C + h * hd;
      float *y = dst + r * C + h * hd;
      for (int64_t i = 0; i < half; i++) {
        const float s = sr[i] * dir, a = x[i], b = x[i + half];
        const float ya = a * c[i] - b * s, yb = b * c[i] + a * s;
        if (acc) {
          y[i] += ya;
          y[i + half] += yb;
        } else {
          y[i] = ya;
          y[i + half] = yb;
        }
      }
    }
  }
  return NULL;
}

/* ---- sgemmBatch: many small GEMMs (attention heads) at offsets into shared arrays. ---- */

typedef struct {
  CBLAS_TRANSPOSE ta, tb;
  int M, N, K, lda, ldb, ldc;
  float alpha, beta;
  const float *A, *B;
  float *C;
  const int32_t *offA, *offB, *offC;
  int64_t begin, end;
} batch_job;

static void run_batch(void *arg) {
  const batch_job *j = (const batch_job *)arg;
  for (int64_t i = j->begin; i < j->end; i++)
    cblas_sgemm(CblasRowMajor, j->ta, j->tb, j->M, j->N, j->K, j->alpha, j->A + j->offA[i], j->lda,
                j->B + j->offB[i], j->ldb, j->beta, j->C + j->offC[i], j->ldc);
}

/*
 * sgemmBatch(transA, transB, M, N, K, alpha, A, lda, offA, B, ldb, offB, beta, C, ldc, offC): for each i,
 * the sgemm on A+offA[i], B+offB[i], C+offC[i]. Tiny GEMMs run badly on OpenBLAS's threads, so the batch is
 * split over up to openblas_get_num_threads() threads of our own, each calling single-threaded BLAS.
 * Items whose C blocks overlap must have equal offC and be adjacent (they then stay on one thread).
 */
static napi_value SgemmBatch(napi_env env, napi_callback_info info) {
  ARGS(16, "sgemmBatch");
  bool ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  double alpha, beta;
  float *A, *B, *C;
  int32_t *oa, *ob, *oc;
  size_t la, lb, lc, loa, lob, loc;
  if (!get_bool(env, argv[0], &ta, "transA") || !get_bool(env, argv[1], &tb, "transB") ||
      !get_int(env, argv[2], &M, "M") || !get_int(env, argv[3], &N, "N") || !get_int(env, argv[4], &K, "K") ||
      !get_num(env, argv[5], &alpha, "alpha") || !get_f32(env, argv[6], &A, &la, "A") ||
      !get_int(env, argv[7], &lda, "lda") || !get_i32(env, argv[8], &oa, &loa, "offA") ||
      !get_f32(env, argv[9], &B, &lb, "B") || !get_int(env, argv[10], &ldb, "ldb") ||
      !get_i32(env, argv[11], &ob, &lob, "offB") || !get_num(env, argv[12], &beta, "beta") ||
      !get_f32(env, argv[13], &C, &lc, "C") || !get_int(env, argv[14], &ldc, "ldc") ||
      !get_i32(env, argv[15], &oc, &loc, "offC"))
    return NULL;
  if (lob != loa || loc != loa) return throw_range(env, "sgemmBatch: offA, offB and offC must have the same length");
  const int64_t count = (int64_t)loa;
  if (count == 0 || M == 0 || N == 0) return NULL;
  if (K == 0 || alpha == 0.0) return throw_range(env, "sgemmBatch: K and alpha must be non-zero");
  for (int64_t i = 0; i < count; i++) {
    if (oa[i] < 0 || ob[i] < 0 || oc[i] < 0) return throw_range(env, "sgemmBatch: offsets must be >= 0");
    if (!check_extent(env, "A", ta ? K : M, ta ? M : K, lda, la - (size_t)oa[i] > la ? 0 : la - (size_t)oa[i]) ||
        !check_extent(env, "B", tb ? N : K, tb ? K : N, ldb, lb - (size_t)ob[i] > lb ? 0 : lb - (size_t)ob[i]) ||
        !check_extent(env, "C", M, N, ldc, lc - (size_t)oc[i] > lc ? 0 : lc - (size_t)oc[i]))
      return NULL;
  }
  batch_job base = {ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, (int)lda,
                    (int)ldb, (int)ldc, (float)alpha, (float)beta, A, B, C, oa, ob, oc, 0, count};
  int threads = openblas_get_num_threads();
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  if (threads > count) threads = (int)count;
  batch_job jobs[MAX_THREADS];
  int64_t begin = 0;
  for (int t = 0; t < threads; t++) {
    int64_t end = t == threads - 1 ? count : count * (t + 1) / threads;
    if (end < begin) end = begin;
    while (end < count && end > begin && oc[end] == oc[end - 1]) end++; /* keep equal outputs on one thread */
    jobs[t] = base;
    jobs[t].begin = begin;
    jobs[t].end = end;
    begin = end;
  }
  run_parts(run_batch, (char *)jobs, sizeof(batch_job), threads);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adamw", NULL, Adamw, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getThreads", NULL, GetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, Config, NULL, NULL, NULL, napi_enumerable, NULL},
      {"swigluForward", NULL, SwigluForward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"swigluBackward", NULL, SwigluBackward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rmsnormForward", NULL, RmsnormForward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rmsnormBackward", NULL, RmsnormBackward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"crossEntropyForward", NULL, CrossEntropyForward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"crossEntropyBackward", NULL, CrossEntropyBackward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"causalSoftmax", NULL, CausalSoftmax, NULL, NULL, NULL, napi_enumerable, NULL},
      {"causalSoftmaxBackward", NULL, CausalSoftmaxBackward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"add", NULL, Add, NULL, NULL, NULL, napi_enumerable, NULL},
      {"axpy", NULL, Axpy, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rope", NULL, Rope, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sgemmBatch", NULL, SgemmBatch, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
