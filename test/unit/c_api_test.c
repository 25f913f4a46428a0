/* The C API (include/nncc/nncc.h) from a C program: E1 (z = 2x + 0.7)
 * loaded and run, variables read and written, a checkpoint saved and
 * restored, and every kind of bad call answered with a status.
 *   c_api_test e1.nnx TMPDIR */
#include "nncc/nncc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                     \
      ++failures;                                                                                  \
    }                                                                                              \
  } while (0)

/* The status must be an error whose message holds `part`. */
static void expect_error(nncc_status *s, nncc_code code, const char *part, int line) {
  if (!s) {
    fprintf(stderr, "line %d: expected an error holding '%s', got success\n", line, part);
    ++failures;
    return;
  }
  if (nncc_status_code(s) != code || !strstr(nncc_status_message(s), part)) {
    fprintf(stderr, "line %d: expected code %d and '%s', got %d: %s\n", line, (int)code, part,
            (int)nncc_status_code(s), nncc_status_message(s));
    ++failures;
  }
  nncc_status_free(s);
}
#define EXPECT_ERROR(call, code, part) expect_error((call), (code), (part), __LINE__)

static void expect_ok(nncc_status *s, int line) {
  if (s) {
    fprintf(stderr, "line %d: %s\n", line, nncc_status_message(s));
    ++failures;
    nncc_status_free(s);
  }
}
#define EXPECT_OK(call) expect_ok((call), __LINE__)

/* predict on x = [1, 2, 3]; z must be w * x + 0.7. */
static void expect_predict(nncc_session *session, float w) {
  int64_t dims[1] = {3};
  float values[3] = {1, 2, 3};
  nncc_tensor *x = NULL, *z = NULL;
  const char *feed = "x", *fetch = "z";
  EXPECT_OK(nncc_tensor_create(NNCC_F32, dims, 1, values, &x));
  EXPECT_OK(nncc_session_run(session, "predict", &feed, (const nncc_tensor *const *)&x, 1, &fetch,
                             1, &z));
  if (z) {
    CHECK(nncc_tensor_dtype(z) == NNCC_F32);
    CHECK(nncc_tensor_rank(z) == 1 && nncc_tensor_dim(z, 0) == 3 && nncc_tensor_size(z) == 3);
    const float *out = (const float *)nncc_tensor_data(z);
    for (int i = 0; i < 3; ++i)
      CHECK(fabsf(out[i] - (w * values[i] + 0.7f)) < 1e-5f);
  }
  nncc_tensor_free(x);
  nncc_tensor_free(z);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: c_api_test e1.nnx TMPDIR\n");
    return 2;
  }
  CHECK(strlen(nncc_version()) > 0);
  CHECK(nncc_executable_format_version() > 0 && nncc_checkpoint_format_version() > 0);

  nncc_executable *exe = NULL;
  EXPECT_ERROR(nncc_executable_load("/nonexistent/e1.nnx", &exe), NNCC_FAILED,
               "/nonexistent/e1.nnx");
  CHECK(exe == NULL);
  EXPECT_ERROR(nncc_executable_load(NULL, &exe), NNCC_INVALID_ARGUMENT, "path is NULL");
  EXPECT_OK(nncc_executable_load(argv[1], &exe));
  if (!exe)
    return 1;
  CHECK(nncc_executable_signature_count(exe) == 1);
  CHECK(strcmp(nncc_executable_signature_name(exe, 0), "predict") == 0);
  CHECK(nncc_executable_signature_name(exe, 1) == NULL);

  nncc_session *session = NULL;
  EXPECT_OK(nncc_session_create(exe, &session));
  /* The session keeps the executable alive. */
  nncc_executable_free(exe);
  if (!session)
    return 1;
  expect_predict(session, 2.0f);

  /* Bad runs: the signature, the feed's dtype, the fetch. */
  int64_t dims[1] = {3};
  int ints[3] = {1, 2, 3};
  nncc_tensor *x = NULL, *z = NULL;
  const char *feed = "x", *fetch = "z", *nope = "nope";
  EXPECT_OK(nncc_tensor_create(NNCC_I32, dims, 1, ints, &x));
  EXPECT_ERROR(
      nncc_session_run(session, "nope", &feed, (const nncc_tensor *const *)&x, 1, &fetch, 1, &z),
      NNCC_FAILED, "nope");
  EXPECT_ERROR(
      nncc_session_run(session, "predict", &feed, (const nncc_tensor *const *)&x, 1, &fetch, 1, &z),
      NNCC_FAILED, "'x'");
  nncc_tensor_free(x);
  EXPECT_OK(nncc_tensor_create(NNCC_F32, dims, 1, NULL, &x));
  EXPECT_ERROR(
      nncc_session_run(session, "predict", &feed, (const nncc_tensor *const *)&x, 1, &nope, 1, &z),
      NNCC_FAILED, "nope");
  EXPECT_ERROR(nncc_session_run(session, "predict", NULL, NULL, 1, &fetch, 1, &z),
               NNCC_INVALID_ARGUMENT, "NULL");
  CHECK(z == NULL);
  nncc_tensor_free(x);

  /* Variables: read, written, checkpointed. */
  nncc_tensor *w = NULL;
  EXPECT_OK(nncc_session_variable(session, "weight", &w));
  if (w) {
    CHECK(nncc_tensor_rank(w) == 0 && *(float *)nncc_tensor_data(w) == 2.0f);
    *(float *)nncc_tensor_data(w) = 3.0f;
    EXPECT_OK(nncc_session_set_variable(session, "weight", w));
    nncc_tensor_free(w);
  }
  expect_predict(session, 3.0f);
  EXPECT_ERROR(nncc_session_variable(session, "nope", &w), NNCC_FAILED, "nope");
  nncc_tensor *wrong = NULL;
  EXPECT_OK(nncc_tensor_create(NNCC_F32, dims, 1, NULL, &wrong));
  EXPECT_ERROR(nncc_session_set_variable(session, "weight", wrong), NNCC_FAILED, "weight");
  nncc_tensor_free(wrong);

  char path[4096];
  snprintf(path, sizeof path, "%s/c_api.ckpt", argv[2]);
  EXPECT_OK(nncc_session_save(session, path));
  nncc_tensor *five = NULL;
  float five_value = 5.0f;
  EXPECT_OK(nncc_tensor_create(NNCC_F32, NULL, 0, &five_value, &five));
  EXPECT_OK(nncc_session_set_variable(session, "weight", five));
  nncc_tensor_free(five);
  expect_predict(session, 5.0f);
  EXPECT_OK(nncc_session_restore(session, path));
  expect_predict(session, 3.0f);
  EXPECT_ERROR(nncc_session_restore(session, "/nonexistent/c.ckpt"), NNCC_FAILED,
               "/nonexistent/c.ckpt");

  /* Bad tensors. */
  nncc_tensor *t = NULL;
  EXPECT_ERROR(nncc_tensor_create((nncc_dtype)42, dims, 1, NULL, &t), NNCC_INVALID_ARGUMENT,
               "dtype");
  int64_t negative[1] = {-1};
  EXPECT_ERROR(nncc_tensor_create(NNCC_F32, negative, 1, NULL, &t), NNCC_INVALID_ARGUMENT,
               "negative");
  CHECK(t == NULL);

  nncc_session_free(session);
  if (failures)
    fprintf(stderr, "%d check(s) failed\n", failures);
  else
    printf("c_api_test: all checks passed\n");
  return failures ? 1 : 0;
}
