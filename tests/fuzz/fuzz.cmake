# libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined). Included from the
# top-level CMakeLists.txt when SAGUARD_FUZZ is on; `make test-fuzz` builds them in the clang
# ASan+UBSan folder (build-asan) that `make test-sanitize` shares, target fuzz_targets.
#
# Each target is also a ctest test (label "fuzz") that runs for SAGUARD_FUZZ_SECONDS
# from its seed corpus in corpus/<name>/, writing what it discovers to
# SAGUARD_FUZZ_CORPUS_RUN (git-ignored) so the reviewed seeds stay small.
# SAGUARD_FUZZ_SEED fixes libFuzzer's seed: CI runs with a fixed one so that a failure
# there is reproducible with the same command; 0 lets libFuzzer pick (the long local
# runs of `make fuzz-long` explore with fresh seeds). A finding is written to
# SAGUARD_FUZZ_ARTIFACTS as crash-*/leak-*/timeout-*; add it to the seed corpus as
# regression_* once fixed.
set(SAGUARD_FUZZ_CORPUS_RUN "${PROJECT_SOURCE_DIR}/tests/fuzz/corpus-run" CACHE PATH
    "Where fuzz runs keep the inputs they discover")
set(SAGUARD_FUZZ_ARTIFACTS "${CMAKE_BINARY_DIR}/fuzz-artifacts" CACHE PATH
    "Where fuzz runs write the inputs that failed")
set(SAGUARD_FUZZ_SECONDS 60 CACHE STRING "Length of each fuzz run under ctest, in seconds")
set(SAGUARD_FUZZ_SEED 1 CACHE STRING "libFuzzer -seed for the ctest runs (0: random)")
file(MAKE_DIRECTORY ${SAGUARD_FUZZ_ARTIFACTS})

# saguard_fuzz_target(NAME LIBRARY...): tests/fuzz/NAME_fuzz.cpp linked with the LIBRARYs
# (skipped unless all of them are built).
add_custom_target(fuzz_targets)
function(saguard_fuzz_target name library)
  foreach(lib IN ITEMS ${library} ${ARGN})
    if(NOT TARGET ${lib})
      return()
    endif()
  endforeach()
  add_executable(${name}_fuzz ${CMAKE_CURRENT_LIST_DIR}/${name}_fuzz.cpp)
  add_dependencies(fuzz_targets ${name}_fuzz)
  target_link_libraries(${name}_fuzz PRIVATE ${library} ${ARGN})
  target_compile_options(${name}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
  target_link_options(${name}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  file(MAKE_DIRECTORY ${SAGUARD_FUZZ_CORPUS_RUN}/${name})
  math(EXPR timeout "${SAGUARD_FUZZ_SECONDS} + 240")
  add_test(NAME fuzz.${name}
           COMMAND ${name}_fuzz -max_total_time=${SAGUARD_FUZZ_SECONDS} -seed=${SAGUARD_FUZZ_SEED}
                   -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
                   -artifact_prefix=${SAGUARD_FUZZ_ARTIFACTS}/${name}-
                   ${SAGUARD_FUZZ_CORPUS_RUN}/${name} ${CMAKE_CURRENT_LIST_DIR}/corpus/${name})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT ${timeout})
endfunction()

saguard_fuzz_target(codec_watch saguard_codec)      # watch-event framing and decoding
saguard_fuzz_target(codec_list saguard_codec)       # list pages, streaming lists, objects
saguard_fuzz_target(codec_protobuf saguard_codec)   # protobuf watch frames, lists, objects
saguard_fuzz_target(codec_audit saguard_codec saguard_policy)  # audit events, then tokenUseOf
saguard_fuzz_target(kube_kubeconfig saguard_kube)   # the kubeconfig parser
saguard_fuzz_target(audit_manifest saguard_audit)   # the manifest reader of saguard lint
saguard_fuzz_target(policy_selector saguard_policy) # globs, label selectors, parsePolicy
