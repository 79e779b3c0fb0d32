# libFuzzer targets for codec/ (line framing, watch events, lists). Meant to be
# include()d from tests/fuzz/CMakeLists.txt (or tests/CMakeLists.txt); builds nothing
# unless SAGUARD_FUZZ is on. Configure with clang and the sanitizers, e.g.
#   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DSAGUARD_FUZZ=ON -DSAGUARD_SANITIZE=ON
# Each target also runs for about 30 s as a ctest test (label "fuzz"): it starts from the
# seed corpus in corpus/codec_*/ and writes what it finds to SAGUARD_FUZZ_CORPUS_RUN
# (git-ignored), so the seeds stay small and reviewed.
if(SAGUARD_FUZZ AND TARGET saguard_codec)
  set(SAGUARD_FUZZ_CORPUS_RUN "${PROJECT_SOURCE_DIR}/tests/fuzz/corpus-run" CACHE PATH
      "Where fuzz runs keep the inputs they discover")
  set(SAGUARD_FUZZ_SECONDS 30 CACHE STRING "Length of each fuzz run under ctest, in seconds")
  foreach(name codec_watch codec_list)
    add_executable(${name}_fuzz ${CMAKE_CURRENT_LIST_DIR}/${name}_fuzz.cpp)
    target_link_libraries(${name}_fuzz PRIVATE saguard_codec)
    target_compile_options(${name}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer)
    target_link_options(${name}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
    file(MAKE_DIRECTORY ${SAGUARD_FUZZ_CORPUS_RUN}/${name})
    add_test(NAME fuzz.${name}
             COMMAND ${name}_fuzz -max_total_time=${SAGUARD_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=4096
                     ${SAGUARD_FUZZ_CORPUS_RUN}/${name} ${CMAKE_CURRENT_LIST_DIR}/corpus/${name})
    set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT 300)
  endforeach()
endif()
