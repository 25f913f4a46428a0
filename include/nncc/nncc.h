/* The nncc runtime's C API: load an executable made by `nncc compile`, run
 * its signatures with named feeds and fetches, read and write variables,
 * save and restore checkpoints. Plain C (C99): opaque handles, no C++
 * exceptions or types across it; every call that can fail returns a status,
 * NULL on success. Part of libnncc_runtime (the C++ API, <nncc/runtime.h>,
 * is the same library).
 *
 *   nncc_executable *exe; nncc_session *s; nncc_tensor *x, *z;
 *   nncc_status *st = nncc_executable_load("e1.nnx", &exe);
 *   if (st) { fprintf(stderr, "%s\n", nncc_status_message(st)); ... }
 *   nncc_session_create(exe, &s);
 *   int64_t dims[1] = {3}; float v[3] = {1, 2, 3};
 *   nncc_tensor_create(NNCC_F32, dims, 1, v, &x);
 *   const char *feed = "x", *fetch = "z";
 *   nncc_session_run(s, "predict", &feed, &x, 1, &fetch, 1, &z);
 *   const float *out = nncc_tensor_data(z);   -- 2.7 4.7 6.7
 */
#ifndef NNCC_NNCC_H
#define NNCC_NNCC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nncc_status nncc_status;
typedef struct nncc_executable nncc_executable;
typedef struct nncc_session nncc_session;
typedef struct nncc_tensor nncc_tensor;

typedef enum {
  NNCC_F32 = 0,
  NNCC_F64 = 1,
  NNCC_I32 = 2,
  NNCC_I64 = 3,
  NNCC_BOOL = 4 /* one byte per element, 0 or 1 */
} nncc_dtype;

typedef enum {
  NNCC_OK = 0,
  NNCC_INVALID_ARGUMENT = 1, /* a NULL handle, a bad dtype or shape */
  NNCC_FAILED = 2            /* the runtime refused: the message says why */
} nncc_code;

/* nncc's version ("0.1.0") and the file formats this runtime reads. */
const char *nncc_version(void);
uint32_t nncc_executable_format_version(void);
uint32_t nncc_checkpoint_format_version(void);

nncc_code nncc_status_code(const nncc_status *status);
/* The message; valid until nncc_status_free. */
const char *nncc_status_message(const nncc_status *status);
void nncc_status_free(nncc_status *status);

/* Executables: a .nnx file. */
nncc_status *nncc_executable_load(const char *path, nncc_executable **out);
void nncc_executable_free(nncc_executable *executable);
int nncc_executable_signature_count(const nncc_executable *executable);
/* The i-th signature's name; valid while the executable lives. */
const char *nncc_executable_signature_name(const nncc_executable *executable, int i);

/* Sessions on the CPU; the variables get their initial values. A session
 * keeps its executable alive. */
nncc_status *nncc_session_create(const nncc_executable *executable, nncc_session **out);
void nncc_session_free(nncc_session *session);
/* Runs `signature` with n_feeds named feeds; the n_fetches fetches are new
 * tensors in fetches[0..n_fetches) (free each), or with n_fetches = 0 none.
 * On an error no variable has changed. */
nncc_status *nncc_session_run(nncc_session *session, const char *signature,
                              const char *const *feed_names, const nncc_tensor *const *feeds,
                              int n_feeds, const char *const *fetch_names, int n_fetches,
                              nncc_tensor **fetches);
/* A copy of a variable's value (free it). */
nncc_status *nncc_session_variable(const nncc_session *session, const char *name,
                                   nncc_tensor **out);
nncc_status *nncc_session_set_variable(nncc_session *session, const char *name,
                                       const nncc_tensor *value);
nncc_status *nncc_session_save(const nncc_session *session, const char *path);
nncc_status *nncc_session_restore(nncc_session *session, const char *path);

/* Tensors: dense, row-major; `data` (may be NULL: zeros) is copied. */
nncc_status *nncc_tensor_create(nncc_dtype dtype, const int64_t *dims, int rank, const void *data,
                                nncc_tensor **out);
void nncc_tensor_free(nncc_tensor *tensor);
nncc_dtype nncc_tensor_dtype(const nncc_tensor *tensor);
int nncc_tensor_rank(const nncc_tensor *tensor);
int64_t nncc_tensor_dim(const nncc_tensor *tensor, int i);
int64_t nncc_tensor_size(const nncc_tensor *tensor); /* elements */
void *nncc_tensor_data(nncc_tensor *tensor);

#ifdef __cplusplus
}
#endif

#endif
