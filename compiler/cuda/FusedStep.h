// A signature's launches as one persistent kernel (CudaFusedStep): where a
// step is made of small launches (the textbook MLP's training step: 21 of
// them, each a few microseconds of launch and ramp for a few of work), one
// launch runs them all, a grid-wide barrier between the phases that depend
// on each other.
#ifndef NNCC_COMPILER_CUDA_FUSEDSTEP_H
#define NNCC_COMPILER_CUDA_FUSEDSTEP_H

#include "proto/executable.pb.h"

#include <string>

namespace nncc::cuda {

/// Adds `sig`'s fused kernel to `source` (its launches' kernels become
/// __device__ bodies that their __global__ kernels call) and records it in
/// sig.fused, where every launch is small (see the rule in FusedStep.cpp);
/// does nothing otherwise.
void addFusedStep(exe::CudaProgram &program, exe::CudaSignature &sig, std::string &source);

/// The grid barrier of the fused kernels (nncc_grid_sync), for the source's
/// preamble where it has one.
std::string fusedPrelude();

} // namespace nncc::cuda

#endif
