# saguard's container image: a Debian 12 build stage and a slim runtime stage with only
# the shared libraries the binary needs. The package lists are the same files that
# `make deps` reads (.ci/*-packages.txt).
FROM debian:12 AS build
COPY .ci/build-packages.txt .ci/install-packages.sh /tmp/ci/
RUN bash /tmp/ci/install-packages.sh /tmp/ci/build-packages.txt && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY controller/ controller/
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSAGUARD_TESTS=OFF -DSAGUARD_BENCH=OFF \
 && cmake --build /build --target saguard \
 && strip /build/controller/saguard

FROM debian:12-slim
COPY .ci/runtime-packages.txt .ci/install-packages.sh /tmp/ci/
RUN bash /tmp/ci/install-packages.sh /tmp/ci/runtime-packages.txt \
 && rm -rf /var/lib/apt/lists/* /tmp/ci
COPY --from=build /build/controller/saguard /usr/local/bin/saguard
# A numeric non-root user, so that runAsNonRoot can verify it without a passwd entry.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/saguard"]
CMD ["run"]
