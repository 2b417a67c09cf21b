/*
 * N-API addon: BLAS-backed kernels for the active-reading training engine.
 * sgemm -> cblas_sgemm (row-major) on Float32Array memory without copying; adamw -> a C loop;
 * setThreads/getThreads -> openblas_{set,get}_num_threads; config -> openblas_get_config; the element-wise
 * kernels of the training ops (swiglu, rmsnorm, cross-entropy, causal softmax, add/axpy, rope) -> C loops.
 * Semantics match src/engine/kernels/types.ts. Every array extent is checked before BLAS touches it.
 */
#include <ctype.h>
#include <pthread.h>
#include <math.h>
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
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
              (int)K, (float)alpha, A, (int)lda, B, (int)ldb, (float)beta, C, (int)ldc);
  return NULL;
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
  const float decay = (float)(1.0 - lr * wd);
  const float fb1 = (float)b1, fb2 = (float)b2, ob1 = (float)(1.0 - b1), ob2 = (float)(1.0 - b2);
  const float stepSize = (float)(lr / (1.0 - pow(b1, step)));
  const float invBc2Sqrt = (float)(1.0 / sqrt(1.0 - pow(b2, step)));
  const float feps = (float)eps;
  for (size_t i = 0; i < lp; i++) {
    const float gi = g[i];
    const float mi = fb1 * m[i] + ob1 * gi;
    const float vi = fb2 * v[i] + ob2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - stepSize * mi / (sqrtf(vi) * invBc2Sqrt + feps);
  }
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
  for (size_t i = 0; i < lg; i++) {
    const float x = g[i];
    o[i] = x * sigmoidf_(x) * u[i];
  }
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
  if (dg && du) {
    for (int64_t i = 0; i < n; i++) {
      const float x = g[i], sig = sigmoidf_(x), d = dy[i];
      du[i] += d * x * sig;
      dg[i] += d * u[i] * sig * (1.0f + x * (1.0f - sig));
    }
  } else {
    for (int64_t i = 0; i < n; i++) {
      const float x = g[i], sig = sigmoidf_(x), d = dy[i];
      if (du) du[i] += d * x * sig;
      if (dg) dg[i] += d * u[i] * sig * (1.0f + x * (1.0f - sig));
    }
  }
  return NULL;
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
  for (int64_t r = 0; r < R; r++) {
    const float *xr = x + r * H;
    float *orow = o + r * H;
    double ss = 0;
    for (int64_t h = 0; h < H; h++) ss += (double)xr[h] * xr[h];
    const float s = (float)(1.0 / sqrt(ss / (double)H + eps));
    rs[r] = s;
    for (int64_t h = 0; h < H; h++) orow[h] = xr[h] * s * g[h];
  }
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
  for (int64_t r = 0; r < R; r++) {
    const float *xr = x + r * H, *dyr = dy + r * H;
    const float s = rs[r];
    double dot = 0;
    for (int64_t h = 0; h < H; h++) dot += (double)(dyr[h] * g[h]) * (double)(xr[h] * s);
    if (dg)
      for (int64_t h = 0; h < H; h++) dg[h] += dyr[h] * (xr[h] * s);
    if (!dx) continue;
    float *dxr = dx + r * H;
    const float mean = (float)(dot / (double)H);
    for (int64_t h = 0; h < H; h++) dxr[h] += s * (dyr[h] * g[h] - (xr[h] * s) * mean);
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
  double total = 0;
  for (int64_t r = 0; r < R; r++) {
    if (t[r] == ignore) continue;
    const float *lr = l + r * V;
    const float max = max_f(lr, V);
    double sum = 0;
    /* The exp loops store before summing so that they vectorize (a float reduction would not). */
    if (p) {
      float *pr = p + r * V;
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
    total += (double)max + log(sum) - (double)lr[t[r]];
  }
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
  const float g = (float)gd;
  for (int64_t r = 0; r < R; r++) {
    if (t[r] == ignore) continue;
    const float *pr = p + r * V;
    float *dr = dl + r * V;
    for (int64_t c = 0; c < V; c++) dr[c] += g * pr[c];
    dr[t[r]] -= g;
  }
  return NULL;
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
  for (int64_t b = 0; b < blocks; b++) {
    for (int64_t t = 0; t < T; t++) {
      float *row = P + (b * T + t) * T;
      const float max = max_f(row, t + 1);
      for (int64_t s = 0; s <= t; s++) row[s] = exp_f(row[s] - max);
      const double sum = sum_f(row, t + 1);
      const float inv = (float)(1.0 / sum);
      for (int64_t s = 0; s <= t; s++) row[s] *= inv;
      if (t + 1 < T) memset(row + t + 1, 0, (size_t)(T - t - 1) * sizeof(float));
    }
  }
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
  const float scale = (float)scale_d;
  for (int64_t row = 0; row < blocks * T; row++) {
    const int64_t t = row % T;
    const float *pr = P + row * T;
    float *dr = dS + row * T;
    double weighted = 0;
    for (int64_t s = 0; s <= t; s++) weighted += (double)(pr[s] * dr[s]);
    const float w = (float)weighted;
    for (int64_t s = 0; s <= t; s++) dr[s] = pr[s] * (dr[s] - w) * scale;
    if (t + 1 < T) memset(dr + t + 1, 0, (size_t)(T - t - 1) * sizeof(float));
  }
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

static void run_batch(const batch_job *j) {
  for (int64_t i = j->begin; i < j->end; i++)
    cblas_sgemm(CblasRowMajor, j->ta, j->tb, j->M, j->N, j->K, j->alpha, j->A + j->offA[i], j->lda,
                j->B + j->offB[i], j->ldb, j->beta, j->C + j->offC[i], j->ldc);
}

static void *batch_thread(void *arg) {
  run_batch((const batch_job *)arg);
  return NULL;
}

#define MAX_BATCH_THREADS 64

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
  const int saved = openblas_get_num_threads();
  int threads = saved;
  if (threads > MAX_BATCH_THREADS) threads = MAX_BATCH_THREADS;
  if (threads > count) threads = (int)count;
  if (threads <= 1) {
    run_batch(&base);
    return NULL;
  }
  batch_job jobs[MAX_BATCH_THREADS];
  pthread_t tids[MAX_BATCH_THREADS];
  bool started[MAX_BATCH_THREADS];
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
  openblas_set_num_threads(1);
  for (int t = 1; t < threads; t++) started[t] = pthread_create(&tids[t], NULL, batch_thread, &jobs[t]) == 0;
  run_batch(&jobs[0]);
  for (int t = 1; t < threads; t++) {
    if (started[t])
      pthread_join(tids[t], NULL);
    else
      run_batch(&jobs[t]); /* could not start a thread: do its share here */
  }
  openblas_set_num_threads(saved);
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
