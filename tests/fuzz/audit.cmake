# libFuzzer target for audit/ (the manifest reader and linter of `saguard lint`).
# Included from the top-level CMakeLists.txt next to codec.cmake and kube.cmake; builds
# nothing unless SAGUARD_FUZZ is on (see codec.cmake for how to configure). It runs for
# SAGUARD_FUZZ_SECONDS as the ctest test fuzz.audit_manifest (label "fuzz"), starting
# from the seed corpus in corpus/audit_manifest/.
if(SAGUARD_FUZZ AND TARGET saguard_audit)
  set(SAGUARD_FUZZ_CORPUS_RUN "${PROJECT_SOURCE_DIR}/tests/fuzz/corpus-run" CACHE PATH
      "Where fuzz runs keep the inputs they discover")
  set(SAGUARD_FUZZ_SECONDS 30 CACHE STRING "Length of each fuzz run under ctest, in seconds")
  add_executable(audit_manifest_fuzz ${CMAKE_CURRENT_LIST_DIR}/audit_manifest_fuzz.cpp)
  target_link_libraries(audit_manifest_fuzz PRIVATE saguard_audit)
  target_compile_options(audit_manifest_fuzz PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
  target_link_options(audit_manifest_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  file(MAKE_DIRECTORY ${SAGUARD_FUZZ_CORPUS_RUN}/audit_manifest)
  add_test(NAME fuzz.audit_manifest
           COMMAND audit_manifest_fuzz -max_total_time=${SAGUARD_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=4096
                   ${SAGUARD_FUZZ_CORPUS_RUN}/audit_manifest ${CMAKE_CURRENT_LIST_DIR}/corpus/audit_manifest)
  set_tests_properties(fuzz.audit_manifest PROPERTIES LABELS fuzz TIMEOUT 300)
endif()
