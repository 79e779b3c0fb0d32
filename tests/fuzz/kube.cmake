# libFuzzer target for kube/'s kubeconfig parser (YAML, base64 *-data fields, PEM
# validation, context/cluster/user resolution). Meant to be include()d next to codec.cmake;
# builds nothing unless SAGUARD_FUZZ is on. Configure with clang, e.g.
#   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DSAGUARD_FUZZ=ON -DSAGUARD_SANITIZE=ON
# Under ctest it runs for SAGUARD_FUZZ_SECONDS (label "fuzz") from the seeds in
# corpus/kube_kubeconfig/, writing what it finds to SAGUARD_FUZZ_CORPUS_RUN (git-ignored).
if(SAGUARD_FUZZ AND TARGET saguard_kube)
  set(SAGUARD_FUZZ_CORPUS_RUN "${PROJECT_SOURCE_DIR}/tests/fuzz/corpus-run" CACHE PATH
      "Where fuzz runs keep the inputs they discover")
  set(SAGUARD_FUZZ_SECONDS 30 CACHE STRING "Length of each fuzz run under ctest, in seconds")
  set(name kube_kubeconfig)
  add_executable(${name}_fuzz ${CMAKE_CURRENT_LIST_DIR}/${name}_fuzz.cpp)
  target_link_libraries(${name}_fuzz PRIVATE saguard_kube)
  target_compile_options(${name}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
  target_link_options(${name}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  file(MAKE_DIRECTORY ${SAGUARD_FUZZ_CORPUS_RUN}/${name})
  add_test(NAME fuzz.${name}
           COMMAND ${name}_fuzz -max_total_time=${SAGUARD_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=4096
                   ${SAGUARD_FUZZ_CORPUS_RUN}/${name} ${CMAKE_CURRENT_LIST_DIR}/corpus/${name})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT 300)
endif()
