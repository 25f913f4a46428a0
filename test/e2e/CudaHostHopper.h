// Test helper: the host emulator's sm_90a instructions (TMA, mbarriers,
// wgmma), a part of the shim that CudaHostEmulator.h compiles the CUDA
// programs with.
#ifndef NNCC_TEST_E2E_CUDAHOSTHOPPER_H
#define NNCC_TEST_E2E_CUDAHOSTHOPPER_H

namespace nncc::test {

// sm_90a's instructions (compiler/cuda/WgmmaProduct.cpp's prelude, which
// the program leaves out where NNCC_HOST_EMULATOR is defined) with the
// GPU's semantics, as the PTX ISA and the driver document them:
// - dynamic shared memory (the launch's bytes, 1024-aligned, garbage at
//   each block's start) whose shared addresses are offsets into it;
// - TMA descriptors: nncc_host_encode_tensor_map checks what
//   cuTensorMapEncodeTiled does and fills the 128 bytes with what the
//   emulated copy reads; a copy lands its box (zeros past the tensor's
//   edges; with the 128-byte swizzle, each 16-byte chunk of a 128-byte row
//   XORed with address bits 7-9) only when its mbarrier's phase completes,
//   so a kernel reading the slice before waiting sees the old bytes;
// - mbarriers (8 bytes of shared memory): expected arrivals, pending ones,
//   the transaction bytes still to come and the phase's parity; a phase
//   completes when every arrival and every byte is in, observed at
//   try_wait, and a waiting thread yields until some mbarrier changes (a
//   block whose threads all wait fails the launch);
// - wgmma m64nNk8 (TF32) and m64nNk16 (BF16), N 128 or 256: each thread of
//   the warpgroup computes its own N/2 accumulators in the documented layout
//   (register j*4 + h*2 + e: row warp*16 + lane/4 + 8h, column j*8 +
//   2*(lane%4) + e) from the shared-memory descriptors decoded as the
//   hardware does (start address, leading and stride byte offsets,
//   swizzle), TF32 operands read as their top 19 bits, products
//   accumulated in fp32; the result lands at wgmma.wait_group, so reading
//   the accumulators or freeing the slices before it gives wrong numbers.
constexpr const char *kCudaHostHopper = R"hopper(
#ifndef NNCC_HOST_EMULATOR
#define NNCC_HOST_EMULATOR 1
#endif
#define __forceinline__ inline
#define __grid_constant__
#define __launch_bounds__(...)
struct __align__(64) nncc_tensor_map { unsigned long long opaque[16]; };
struct nncc_host_tensor_map {
  unsigned magic, elementBytes, box[2], swizzle;
  const unsigned char *base;
  unsigned long long dims[2], rowBytes;
};
static const unsigned nncc_tensor_map_magic = 0x544d4150;
static unsigned char *nncc_dynamic_smem;
static unsigned long nncc_dynamic_bytes;
// Bumped at every change of an mbarrier: what a waiting thread waits for.
static unsigned nncc_mbarrier_events;
static void nncc_fail(const char *what) {
  fprintf(stderr, "CUDA host emulator, block (%u, %u), thread %u: %s\n", blockIdx.x, blockIdx.y,
          threadIdx.x, what);
  abort();
}
static inline unsigned nncc_smem(const void *p) {
  const unsigned char *c = (const unsigned char *)p;
  if (c < nncc_dynamic_smem || c >= nncc_dynamic_smem + nncc_dynamic_bytes)
    nncc_fail("a shared address outside the launch's dynamic shared memory");
  return (unsigned)(c - nncc_dynamic_smem);
}
static inline unsigned char *nncc_dynamic_shared() { return nncc_dynamic_smem; }

extern "C" const char *nncc_host_encode_tensor_map(void *out, unsigned elementBytes,
                                                   const void *address,
                                                   const unsigned long long *dims,
                                                   unsigned long long rowBytes,
                                                   const unsigned *box, unsigned swizzle) {
  if ((unsigned long)address % 16)
    return "the tensor's address is not 16-byte aligned";
  if (rowBytes % 16 || rowBytes < dims[0] * elementBytes)
    return "the rows' stride is no multiple of 16 bytes, or shorter than a row";
  for (int i = 0; i < 2; ++i) {
    if (dims[i] == 0 || dims[i] > (1ull << 32))
      return "a dimension of 0 or more than 2^32 elements";
    if (box[i] == 0 || box[i] > 256)
      return "a box dimension of 0 or more than 256 elements";
  }
  if (box[0] * elementBytes % 16)
    return "the box's rows are no multiple of 16 bytes";
  if (swizzle != 0 && swizzle != 128)
    return "a swizzle other than none or 128 bytes";
  if (swizzle && box[0] * elementBytes > swizzle)
    return "the box's rows are longer than the swizzle's span";
  nncc_host_tensor_map m = {nncc_tensor_map_magic, elementBytes, {box[0], box[1]}, swizzle,
                            (const unsigned char *)address, {dims[0], dims[1]}, rowBytes};
  memset(out, 0, 128);
  memcpy(out, &m, sizeof m);
  return 0;
}

struct nncc_mbarrier { unsigned expected : 15, phase : 1, pending : 16; int tx; };
static inline nncc_mbarrier &nncc_mbar(unsigned long long *bar) {
  if (nncc_smem(bar) % 8)
    nncc_fail("an mbarrier not 8-byte aligned");
  return *(nncc_mbarrier *)bar;
}
struct nncc_tma_copy { nncc_host_tensor_map map; unsigned char *to; int x, y; unsigned long long *bar; };
static nncc_tma_copy nncc_tma_queue[256];
static unsigned nncc_tma_count;
static inline unsigned nncc_tma_bytes(const nncc_tma_copy &c) {
  return c.map.box[0] * c.map.box[1] * c.map.elementBytes;
}
static void nncc_tma_land(const nncc_tma_copy &c) {
  const nncc_host_tensor_map &m = c.map;
  const unsigned to = nncc_smem(c.to), e = m.elementBytes;
  for (unsigned i1 = 0; i1 < m.box[1]; ++i1)
    for (unsigned i0 = 0; i0 < m.box[0]; ++i0) {
      const long long gx = (long long)c.x + i0, gy = (long long)c.y + i1;
      unsigned a = to + (i1 * m.box[0] + i0) * e;
      if (m.swizzle == 128)
        a ^= ((a >> 7) & 7u) << 4;
      if (a + e > nncc_dynamic_bytes)
        nncc_fail("a TMA copy past the dynamic shared memory");
      if (gx >= 0 && gy >= 0 && (unsigned long long)gx < m.dims[0] &&
          (unsigned long long)gy < m.dims[1])
        memcpy(nncc_dynamic_smem + a, m.base + gy * m.rowBytes + gx * e, e);
      else
        memset(nncc_dynamic_smem + a, 0, e);
    }
}
// The phase completes where every arrival is in and the copies on the
// barrier bring exactly the bytes still expected: they land now.
static void nncc_mbar_complete(unsigned long long *bar) {
  nncc_mbarrier &b = nncc_mbar(bar);
  if (b.pending)
    return;
  long long coming = 0;
  for (unsigned i = 0; i < nncc_tma_count; ++i)
    coming += nncc_tma_queue[i].bar == bar ? nncc_tma_bytes(nncc_tma_queue[i]) : 0;
  if (coming != b.tx)
    return;
  unsigned kept = 0;
  for (unsigned i = 0; i < nncc_tma_count; ++i)
    if (nncc_tma_queue[i].bar == bar)
      nncc_tma_land(nncc_tma_queue[i]);
    else
      nncc_tma_queue[kept++] = nncc_tma_queue[i];
  nncc_tma_count = kept;
  b.tx = 0;
  b.phase ^= 1;
  b.pending = b.expected;
  ++nncc_mbarrier_events;
}
static inline void nncc_mbar_init(unsigned long long *bar, unsigned count) {
  if (count == 0 || count >= (1u << 15))
    nncc_fail("mbarrier.init with a count of 0 or over 2^15");
  nncc_mbarrier &b = nncc_mbar(bar);
  b.expected = count;
  b.phase = 0;
  b.pending = count;
  b.tx = 0;
  ++nncc_mbarrier_events;
}
static inline void nncc_mbar_fence_init() {}
static inline void nncc_mbar_arrive(unsigned long long *bar) {
  nncc_mbar_complete(bar); // a phase that was complete already
  nncc_mbarrier &b = nncc_mbar(bar);
  if (b.pending == 0)
    nncc_fail("mbarrier.arrive on a phase that has all its arrivals but not its bytes");
  --b.pending;
  ++nncc_mbarrier_events;
}
static inline void nncc_mbar_arrive_expect_tx(unsigned long long *bar, unsigned bytes) {
  nncc_mbar_complete(bar);
  nncc_mbar(bar).tx += (int)bytes;
  nncc_mbar_arrive(bar);
}
static inline bool nncc_mbar_try_wait(unsigned long long *bar, unsigned parity) {
  nncc_mbar_complete(bar);
  return nncc_mbar(bar).phase != (parity & 1);
}
static inline void nncc_mbar_wait(unsigned long long *bar, unsigned parity) {
  while (!nncc_mbar_try_wait(bar, parity)) {
    if (blockDim.x == 1)
      nncc_fail("a block of one thread waits at an mbarrier no one else can complete");
    nncc_running->waits = &nncc_mbarrier_events;
    nncc_running->seen = nncc_mbarrier_events;
    nncc_switch(&nncc_running->context, &nncc_scheduler);
  }
}
static const char *nncc_tma_overwrites(unsigned from, unsigned to);
static inline void nncc_tma_load_2d(void *to, const nncc_tensor_map *map, int x, int y,
                                    unsigned long long *bar) {
  nncc_tma_copy c;
  memcpy(&c.map, map, sizeof c.map);
  if (c.map.magic != nncc_tensor_map_magic)
    nncc_fail("cp.async.bulk.tensor with a tensor map not made by cuTensorMapEncodeTiled");
  if (nncc_smem(to) % (c.map.swizzle == 128 ? 1024 : 128))
    nncc_fail("cp.async.bulk.tensor into shared memory not 128-byte (1024 swizzled) aligned");
  nncc_mbar(bar);
  if (nncc_tma_count == 256)
    nncc_fail("more than 256 TMA copies in flight");
  // A stage released before the products reading it were done: on the
  // GPU the copy would race with them.
  if (const char *race = nncc_tma_overwrites(nncc_smem(to), nncc_smem(to) + nncc_tma_bytes(c)))
    nncc_fail(race);
  c.to = (unsigned char *)to;
  c.x = x;
  c.y = y;
  c.bar = bar;
  nncc_tma_queue[nncc_tma_count++] = c;
  ++nncc_mbarrier_events;
}

// wgmma: a thread's operations wait in its queue, in commit groups, until
// wgmma.wait_group lets them land.
struct nncc_wgmma_op { float *d; unsigned long long a, b; unsigned n, k, group; };
struct nncc_wgmma_queue { nncc_wgmma_op ops[16]; unsigned count, committed; };
static nncc_wgmma_queue nncc_wgmma[1024];
// Element (row, k) of a K-major operand of `elementBytes` (4: TF32, 2: BF16)
// through its descriptor.
static float nncc_wgmma_operand(unsigned long long desc, unsigned row, unsigned k,
                                unsigned elementBytes) {
  const unsigned start = (unsigned)(desc & 0x3fff) << 4;
  const unsigned lead = (unsigned)((desc >> 16) & 0x3fff) << 4;
  const unsigned stride = (unsigned)((desc >> 32) & 0x3fff) << 4;
  const unsigned kb = k * elementBytes;
  unsigned a;
  if ((desc >> 49) & 7)
    nncc_fail("a wgmma descriptor with a matrix base offset (not emulated)");
  switch (desc >> 62) {
  case 1: // 128-byte swizzle: rows of 128 bytes, 8-row atoms `stride` apart
    a = start + row / 8 * stride + row % 8 * 128 + kb;
    a ^= ((a >> 7) & 7u) << 4;
    break;
  case 0: // interleaved: core matrices of 8 rows of 16 bytes
    a = start + row / 8 * stride + kb / 16 * lead + row % 8 * 16 + kb % 16;
    break;
  default:
    nncc_fail("a wgmma descriptor with a 64- or 32-byte swizzle (not emulated)");
  }
  if (a + elementBytes > nncc_dynamic_bytes)
    nncc_fail("a wgmma operand past the dynamic shared memory");
  unsigned u = 0;
  if (elementBytes == 4) {
    memcpy(&u, nncc_dynamic_smem + a, 4);
    u &= 0xffffe000u; // the tensor cores read a TF32's upper 19 bits
  } else {
    unsigned short h;
    memcpy(&h, nncc_dynamic_smem + a, 2);
    u = (unsigned)h << 16;
  }
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static void nncc_wgmma_land(const nncc_wgmma_op &op) {
  const unsigned t = threadIdx.x % 128, warp = t / 32, lane = t % 32;
  const unsigned eb = op.k == 8 ? 4 : 2;
  float out[128];
  for (unsigned i = 0; i < op.n / 2; ++i) {
    const unsigned row = warp * 16 + lane / 4 + (i % 4) / 2 * 8;
    const unsigned col = i / 4 * 8 + lane % 4 * 2 + i % 2;
    float s = op.d[i];
    for (unsigned k = 0; k < op.k; ++k)
      s += nncc_wgmma_operand(op.a, row, k, eb) * nncc_wgmma_operand(op.b, col, k, eb);
    out[i] = s;
  }
  memcpy(op.d, out, op.n / 2 * sizeof(float));
}
static inline void nncc_wgmma_issue(float *d, unsigned long long a, unsigned long long b,
                                    unsigned n, unsigned k) {
  if (blockDim.x % 128)
    nncc_fail("wgmma in a block that is no whole number of warpgroups");
  nncc_wgmma_queue &q = nncc_wgmma[threadIdx.x];
  if (q.count == 16)
    nncc_fail("more than 16 wgmma operations in flight");
  q.ops[q.count++] = {d, a, b, n, k, q.committed};
}
static inline void nncc_wgmma_m64n128k8_tf32(float (&d)[64], unsigned long long a,
                                             unsigned long long b) {
  nncc_wgmma_issue(d, a, b, 128, 8);
}
static inline void nncc_wgmma_m64n128k16_bf16(float (&d)[64], unsigned long long a,
                                              unsigned long long b) {
  nncc_wgmma_issue(d, a, b, 128, 16);
}
static inline void nncc_wgmma_m64n256k8_tf32(float (&d)[128], unsigned long long a,
                                             unsigned long long b) {
  nncc_wgmma_issue(d, a, b, 256, 8);
}
static inline void nncc_wgmma_m64n256k16_bf16(float (&d)[128], unsigned long long a,
                                              unsigned long long b) {
  nncc_wgmma_issue(d, a, b, 256, 16);
}
static inline void nncc_wgmma_fence() {}
static inline void nncc_wgmma_commit() { ++nncc_wgmma[threadIdx.x].committed; }
// wgmma.wait_group n: every committed group but the newest n lands, in
// order (operations not committed yet stay).
static inline void nncc_wgmma_wait(unsigned n) {
  nncc_wgmma_queue &q = nncc_wgmma[threadIdx.x];
  unsigned kept = 0;
  for (unsigned i = 0; i < q.count; ++i)
    if (q.ops[i].group + n < q.committed)
      nncc_wgmma_land(q.ops[i]);
    else
      q.ops[kept++] = q.ops[i];
  q.count = kept;
}
static inline void nncc_wgmma_wait0() { nncc_wgmma_wait(0); }
static inline void nncc_wgmma_wait1() { nncc_wgmma_wait(1); }
// Whether a wgmma operation in flight reads shared bytes [from, to): its
// A's 64 rows or B's n rows of 8-row atoms from its descriptors' starts.
static bool nncc_wgmma_reads(const nncc_wgmma_op &op, unsigned from, unsigned to) {
  for (int m = 0; m < 2; ++m) {
    const unsigned long long desc = m ? op.b : op.a;
    const unsigned start = ((unsigned)(desc & 0x3fff) << 4) & ~127u;
    const unsigned end = start + (m ? op.n : 64) / 8 * ((unsigned)((desc >> 32) & 0x3fff) << 4);
    if (start < to && from < end)
      return true;
  }
  return false;
}
static const char *nncc_tma_overwrites(unsigned from, unsigned to) {
  for (unsigned t = 0; t < blockDim.x; ++t)
    for (unsigned i = 0; i < nncc_wgmma[t].count; ++i)
      if (nncc_wgmma_reads(nncc_wgmma[t].ops[i], from, to)) {
        static char error[160];
        snprintf(error, sizeof error,
                 "a TMA copy into shared memory that thread %u's wgmma operations in flight "
                 "still read (its stage freed before wgmma.wait_group)",
                 t);
        return error;
      }
  return 0;
}
static inline void nncc_setmaxnreg_producer() {}
static inline void nncc_setmaxnreg_consumer() {}
// cvt.rna.tf32.f32 (to nearest, ties away from zero; Inf and NaN stay) and
// cvt.rn.bf16.f32 (to nearest even; a NaN stays one).
static inline float nncc_round_tf32(float x) {
  unsigned u;
  memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) != 0x7f800000u)
    u = (u + 0x1000u) & 0xffffe000u;
  memcpy(&x, &u, 4);
  return x;
}
static inline unsigned short nncc_round_bf16(float x) {
  unsigned u;
  memcpy(&u, &x, 4);
  return (u & 0x7fffffffu) > 0x7f800000u ? (unsigned short)((u >> 16) | 0x40)
                                         : (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
// A block starts with garbage in its shared memory and nothing in flight;
// it must end with every copy and product landed.
static void nncc_hopper_block_start(unsigned threads) {
  if (nncc_dynamic_smem)
    memset(nncc_dynamic_smem, 0xff, nncc_dynamic_bytes);
  nncc_tma_count = 0;
  for (unsigned t = 0; t < threads; ++t)
    nncc_wgmma[t].count = nncc_wgmma[t].committed = 0;
}
static const char *nncc_hopper_block_end(unsigned threads) {
  static char error[160];
  if (nncc_tma_count) {
    snprintf(error, sizeof error,
             "block (%u, %u) ended with %u TMA copies whose mbarrier phase never completed",
             blockIdx.x, blockIdx.y, nncc_tma_count);
    return error;
  }
  for (unsigned t = 0; t < threads; ++t)
    if (nncc_wgmma[t].count) {
      snprintf(error, sizeof error,
               "block (%u, %u): thread %u ended with wgmma operations it never waited for",
               blockIdx.x, blockIdx.y, t);
      return error;
    }
  return 0;
}
)hopper";

} // namespace nncc::test

#endif
