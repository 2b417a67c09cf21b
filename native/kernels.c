/*
 * N-API addon: BLAS-backed kernels for the active-reading training engine.
 * sgemm -> cblas_sgemm (row-major) on Float32Array memory without copying; adamw -> a C loop;
 * setThreads/getThreads -> openblas_{set,get}_num_threads; config -> openblas_get_config.
 * Semantics match src/engine/kernels/types.ts. Every array extent is checked before BLAS touches it.
 */
#include <ctype.h>
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

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adamw", NULL, Adamw, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getThreads", NULL, GetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, Config, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
