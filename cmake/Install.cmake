# `cmake --install build --prefix P`: bin/nncc, the runtime's and the
# compiler's libraries, headers under include/nncc/ (<nncc/runtime.h>,
# <nncc/nncc.h> for C, <nncc/compiler.h>, <nncc/graph.h>), the CMake package
# (find_package(nncc) -> nncc::runtime, nncc::compiler), pkg-config's
# nncc-runtime.pc; `cpack -G DEB` packs them as runtime, compiler and dev
# packages.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(NNCC_INCLUDE ${CMAKE_INSTALL_INCLUDEDIR}/nncc)
set(NNCC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nncc)
# Installed programs find the libraries beside them.
set_target_properties(nncc PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}"
                                      INSTALL_RPATH_USE_LINK_PATH TRUE)
# The runtime finds libnncc_proto beside it.
set_target_properties(nncc_runtime PROPERTIES INSTALL_RPATH "$ORIGIN")

# The runtime: its headers are included as "runtime/..." and "proto/...".
foreach(t nncc_runtime nncc_proto)
  target_include_directories(${t} INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
                                            $<INSTALL_INTERFACE:${NNCC_INCLUDE}>)
endforeach()
install(TARGETS nncc_runtime nncc_proto EXPORT nnccRuntimeTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(EXPORT nnccRuntimeTargets NAMESPACE nncc:: DESTINATION ${NNCC_CMAKE_DIR} COMPONENT dev)
install(FILES include/nncc/nncc.h include/nncc/runtime.h DESTINATION ${NNCC_INCLUDE}
        COMPONENT dev)
install(DIRECTORY runtime/ DESTINATION ${NNCC_INCLUDE}/runtime COMPONENT dev
        FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/proto/graph.pb.h ${PROJECT_BINARY_DIR}/proto/executable.pb.h
              ${PROJECT_BINARY_DIR}/proto/checkpoint.pb.h
        DESTINATION ${NNCC_INCLUDE}/proto COMPONENT dev)

# The compiler: static libraries over the shared LLVM and MLIR 19.
set(NNCC_COMPILER_LIBS NNDriver NNImport NNExport NNCpu NNCuda NNTransforms NNDialect NNFrontend
    NNKeras nncc_onnx_proto nncc_mlir)
foreach(t ${NNCC_COMPILER_LIBS})
  get_target_property(type ${t} TYPE)
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${t} INTERFACE $<INSTALL_INTERFACE:${NNCC_INCLUDE}>)
  endif()
endforeach()
add_library(nncc_compiler INTERFACE)
target_link_libraries(nncc_compiler INTERFACE NNDriver NNExport NNKeras NNFrontend nncc_runtime)
set_target_properties(nncc_compiler PROPERTIES EXPORT_NAME compiler)
set_target_properties(nncc_runtime PROPERTIES EXPORT_NAME runtime)
set_target_properties(nncc_proto PROPERTIES EXPORT_NAME proto)
install(TARGETS nncc_compiler ${NNCC_COMPILER_LIBS} EXPORT nnccCompilerTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(EXPORT nnccCompilerTargets NAMESPACE nncc:: DESTINATION ${NNCC_CMAKE_DIR} COMPONENT dev)
install(FILES include/nncc/compiler.h include/nncc/graph.h DESTINATION ${NNCC_INCLUDE}
        COMPONENT dev)
install(DIRECTORY compiler/ DESTINATION ${NNCC_INCLUDE}/compiler COMPONENT dev
        FILES_MATCHING PATTERN "*.h")
install(DIRECTORY dialects/nn/ DESTINATION ${NNCC_INCLUDE}/nn COMPONENT dev
        FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_BINARY_DIR}/dialects/nn/ DESTINATION ${NNCC_INCLUDE}/nn COMPONENT dev
        FILES_MATCHING PATTERN "*.h.inc" PATTERN "CMakeFiles" EXCLUDE)
install(DIRECTORY ${PROJECT_BINARY_DIR}/compiler/ DESTINATION ${NNCC_INCLUDE}/compiler
        COMPONENT dev FILES_MATCHING PATTERN "*.h.inc" PATTERN "CMakeFiles" EXCLUDE)
install(FILES ${PROJECT_BINARY_DIR}/proto/onnx.pb.h DESTINATION ${NNCC_INCLUDE}/proto
        COMPONENT dev)

install(TARGETS nncc RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT compiler)
# The CLI's MPI collective (nncc train --data-parallel), beside the runtime.
if(NNCC_MPI)
  set_target_properties(nncc_mpi PROPERTIES INSTALL_RPATH "$ORIGIN" INSTALL_RPATH_USE_LINK_PATH TRUE)
  install(TARGETS nncc_mpi LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT compiler)
endif()

configure_package_config_file(cmake/nnccConfig.cmake.in ${PROJECT_BINARY_DIR}/nnccConfig.cmake
                              INSTALL_DESTINATION ${NNCC_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/nnccConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/nnccConfig.cmake ${PROJECT_BINARY_DIR}/nnccConfigVersion.cmake
        DESTINATION ${NNCC_CMAKE_DIR} COMPONENT dev)
# The .pc file finds the prefix from where it lies (install --prefix moves it).
file(RELATIVE_PATH NNCC_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(cmake/nncc-runtime.pc.in ${PROJECT_BINARY_DIR}/nncc-runtime.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/nncc-runtime.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# Debian packages: nncc-runtime (the libraries), nncc (the CLI), nncc-dev.
set(CPACK_PACKAGE_NAME nncc)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "nncc developers <nncc@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "nncc, a neural-network graph compiler, and its runtime")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime compiler dev)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME nncc-runtime)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "libprotobuf32, zlib1g")
set(CPACK_DEBIAN_COMPILER_PACKAGE_NAME nncc)
set(CPACK_DEBIAN_COMPILER_PACKAGE_DEPENDS "nncc-runtime (= ${PROJECT_VERSION}), libmlir-19, libllvm19, clang-19")
if(NNCC_MPI)
  string(APPEND CPACK_DEBIAN_COMPILER_PACKAGE_DEPENDS ", libopenmpi3")
endif()
set(CPACK_DEBIAN_DEV_PACKAGE_NAME nncc-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "nncc-runtime (= ${PROJECT_VERSION}), libprotobuf-dev")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
