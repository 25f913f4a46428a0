// Open MPI as nncc's collective (runtime/Collective.h), in a library of its
// own (libnncc_mpi) so that only what trains across processes links MPI:
// the nncc CLI, an application that calls initializeMpi.
#ifndef NNCC_RUNTIME_MPI_MPICOLLECTIVE_H
#define NNCC_RUNTIME_MPI_MPICOLLECTIVE_H

#include "runtime/Collective.h"

namespace nncc::rt::mpi {

/// MPI initialized (once per process; threads serialized) and
/// MPI_COMM_WORLD as a Collective. MPI is finalized when the last copy goes.
Expected<std::shared_ptr<Collective>> initializeMpi();

} // namespace nncc::rt::mpi

#endif
