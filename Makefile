# saguard — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BUILD_DIR   ?= build
BUILD_TYPE  ?= RelWithDebInfo
JOBS        ?= $(shell nproc)
# CI (CI=true) builds with -Werror.
WERROR      ?= $(if $(CI),ON,OFF)
CMAKE_FLAGS ?=
CP_DIR      ?= $(CURDIR)/.cache/demo-controlplane

##@ Development

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} \
	  /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } \
	  /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: deps
deps: ## Install the Debian packages needed to build and test (apt-get; fast when all are there)
	@bash .ci/install-packages.sh .ci/build-packages.txt .ci/test-packages.txt

.PHONY: demo
demo: deps build controlplane ## Run saguard's main job on a local control plane (KEEP=1 leaves it running)
	@bash tests/e2e/demo.sh

.PHONY: test
test: deps build controlplane ## Build everything and run every test (unit, integration, e2e, fuzz smoke)
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 1800 -j $(JOBS)
	$(MAKE) test-fuzz

FUZZ_SECONDS ?= 30
FUZZ_SEED    ?= 1
ASAN_DIR     ?= build-asan
TSAN_DIR     ?= build-tsan
# One clang build (ASAN_DIR) serves the fuzz targets and the ASan+UBSan runs of the unit and
# integration tests: the library code is compiled once, with ASan+UBSan and the fuzzers'
# coverage instrumentation (-fsanitize=fuzzer-no-link, controller/CMakeLists.txt), so
# libFuzzer is guided by the code it drives. clang, not gcc: libFuzzer needs it, and its
# ASan+UBSan compile is about a third faster than gcc 12's (README.md "Sanitizers").
# Every build of ASAN_DIR or TSAN_DIR holds a lock on DIR.lock: .ci/run builds both in the
# background while `make test` runs, and a folder is built by one ninja at a time.
.PHONY: test-fuzz
test-fuzz: deps ## Build the libFuzzer targets (clang, ASan+UBSan, in ASAN_DIR); run each FUZZ_SECONDS with seed FUZZ_SEED
	@flock $(ASAN_DIR).lock $(MAKE) --no-print-directory asan-folder ASAN_TARGETS=fuzz_targets
	cd $(ASAN_DIR) && ctest --output-on-failure -L fuzz -j $(JOBS)

# A finding fails the run: ASan aborts on its first report, UBSan too (with a stack).
# tests/sanitize/*.supp: uninstrumented third-party frames only, each with its reason.
ASAN_ENV := ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:strict_init_order=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitize/lsan.supp
TSAN_ENV := TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/sanitize/tsan.supp"
# Left out under the sanitizers only (they run in `make test`):
# - RelistsAfterCompactionWithoutMissingADelete: at sanitizer speed the restarted
#   kube-apiserver sometimes serves the resumed watch without the 410 the test sets up, so
#   its "exactly one relist" premise fails (an open item, not a sanitizer finding);
# - AFieldDeclaredByGitOpsToolsIsNeverWritten: 60 s of waiting for a write that must not
#   come, on code paths the other GitOps tests run too (the sanitizers find nothing in a wait).
SANITIZE_GTEST := GTEST_FILTER=-CacheInformerIntegration.RelistsAfterCompactionWithoutMissingADelete:ControllerTest.AFieldDeclaredByGitOpsToolsIsNeverWritten
ASAN_BINARIES := unit_tests integration_tests fuzz_targets
# Each folder is built (under its lock) just before its run, so that in .ci/run the TSan
# folder is still being built in the background while the ASan tests wait on their server.
.PHONY: test-sanitize
test-sanitize: deps controlplane ## clang ASan+UBSan: unit + integration tests; gcc TSan: queue, cache and evidence tests
	@flock $(ASAN_DIR).lock $(MAKE) --no-print-directory asan-folder ASAN_TARGETS="$(ASAN_BINARIES)"
	cd $(ASAN_DIR) && $(ASAN_ENV) $(SANITIZE_GTEST) ctest --output-on-failure -L 'unit|integration' -j $(JOBS)
	@flock $(TSAN_DIR).lock $(MAKE) --no-print-directory tsan-folder
	cd $(TSAN_DIR) && $(TSAN_ENV) $(SANITIZE_GTEST) ctest --output-on-failure -L 'unit|integration' -j $(JOBS)

# TSan covers the modules whose code runs on several threads: queue/ (workers), cache/
# (reflectors and informers) and evidence/ (the webhook server's I/O threads, the log
# follower, the ledger that the sources, the workers and the store share). The build is
# only those modules and the tests whose files start with cache, queue or evidence (one
# glob, SAGUARD_TEST_GLOB being one pattern: c/q/e, a/u/v, c/e/i, h/u/d picks cach*, queu*,
# evid* and, of today's files, nothing else; events_* is "even").
TSAN_MODULES := base;objects;codec;policy;kube;evidence;queue;cache
TSAN_TESTS := [ceq][auv][cei][hud]*
# The sanitizer builds alone (no server needed); the fuzz targets come with the ASan folder.
.PHONY: sanitize-build
sanitize-build: deps ## Build the ASan+UBSan (with the fuzz targets) and the TSan test binaries (test-sanitize runs them)
	@flock $(ASAN_DIR).lock $(MAKE) --no-print-directory asan-folder ASAN_TARGETS="$(ASAN_BINARIES)"
	@flock $(TSAN_DIR).lock $(MAKE) --no-print-directory tsan-folder

# Called under the folder's lock by the targets above. A folder configured by another
# compiler (gcc before 2026-12-07) is made again.
.PHONY: asan-folder tsan-folder
asan-folder:
	@grep -qs '^CMAKE_CXX_COMPILER:.*clang' $(ASAN_DIR)/CMakeCache.txt || rm -rf $(ASAN_DIR)
	@CXX=clang++ cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAGUARD_SANITIZE=ON \
	  -DSAGUARD_FUZZ=ON -DSAGUARD_TSAN=OFF -DSAGUARD_BENCH=OFF -DSAGUARD_ONLY="" -DSAGUARD_TEST_GLOB="*" \
	  -DSAGUARD_FUZZ_SECONDS=$(FUZZ_SECONDS) -DSAGUARD_FUZZ_SEED=$(FUZZ_SEED) >/dev/null
	$(ASAN_ENV) cmake --build $(ASAN_DIR) -j $(JOBS) --target $(ASAN_TARGETS)
tsan-folder:
	@CXX=g++ cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAGUARD_TSAN=ON \
	  -DSAGUARD_SANITIZE=OFF -DSAGUARD_BENCH=OFF -DSAGUARD_ONLY="$(TSAN_MODULES)" \
	  -DSAGUARD_TEST_GLOB="$(TSAN_TESTS)" >/dev/null
	$(TSAN_ENV) cmake --build $(TSAN_DIR) -j $(JOBS)

.PHONY: fuzz-long
fuzz-long: ## Run every fuzz target for 10 minutes with a fresh seed (findings land in build-asan/fuzz-artifacts)
	$(MAKE) test-fuzz FUZZ_SECONDS=600 FUZZ_SEED=0

.PHONY: test-unit
test-unit: build ## Run the unit tests only (no server)
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

.PHONY: test-integration
test-integration: build controlplane ## Run the integration tests against a local control plane
	cd $(BUILD_DIR) && ctest --output-on-failure -L integration

.PHONY: test-chart
test-chart: build controlplane ## Run the Helm chart, alert and image tests only (ctest -L 'chart|image')
	cd $(BUILD_DIR) && ctest --output-on-failure -L 'chart|image'

.PHONY: fmt
fmt: ## Format the C++ sources with clang-format
	find controller tests bench \( -name '*.cpp' -o -name '*.h' \) -print0 | xargs -0 clang-format -i

.PHONY: fmt-check
fmt-check: deps ## Fail when a C++ source differs from what .clang-format makes of it (CI runs this first)
	@find controller tests bench \( -name '*.cpp' -o -name '*.h' \) -print0 | xargs -0 clang-format --dry-run --Werror
	@echo "fmt-check: every C++ source is formatted"

.PHONY: lint
lint: build ## Run clang-tidy over the controller sources
	find controller -name '*.cpp' | xargs clang-tidy -p $(BUILD_DIR) --quiet

##@ Build

.PHONY: configure
configure:
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DSAGUARD_WERROR=$(WERROR) $(CMAKE_FLAGS) >/dev/null

.PHONY: build
build: configure ## Build the saguard binary and the tests
	cmake --build $(BUILD_DIR) -j $(JOBS)

.PHONY: controlplane
controlplane: ## Build etcd, kube-apiserver, kube-controller-manager, kubectl from Go modules (cached)
	@bash tests/controlplane/build.sh >/dev/null

.PHONY: controlplane-up
controlplane-up: controlplane ## Start a local control plane in CP_DIR (KUBECONFIG=$(CP_DIR)/kubeconfig)
	bash tests/controlplane/up.sh $(CP_DIR)

.PHONY: controlplane-down
controlplane-down: ## Stop the local control plane in CP_DIR
	bash tests/controlplane/down.sh $(CP_DIR)

.PHONY: manifests
manifests: ## Copy crd/ into manifests/crd/ and charts/saguard/files/crds/ (test chart-static checks both are crd/'s)
	cp crd/saguard.io_serviceaccountpolicies.yaml manifests/crd/
	cp crd/saguard.io_serviceaccountpolicies.yaml charts/saguard/files/crds/

##@ Benchmarks

BENCH_PODS ?= 1000 10000 50000
.PHONY: bench
bench: deps build controlplane ## saguard against the controller-runtime peer at BENCH_PODS pods: bench/results/<date>.md + plots
	BENCH_BUILD_DIR=$(CURDIR)/$(BUILD_DIR) bash bench/run.sh --pods "$(BENCH_PODS)"

.PHONY: bench-smoke
bench-smoke: deps build controlplane ## 1,000 pods (about 3 minutes); fails when saguard's RSS > 0.5x the peer's or its p99 > 1.2x the peer's and > the peer's + 1.5 ms, twice
	BENCH_BUILD_DIR=$(CURDIR)/$(BUILD_DIR) bash bench/run.sh --smoke || \
	  { echo "bench-smoke: failed once; a p99 of 600 samples is noisy, running it again"; \
	    BENCH_BUILD_DIR=$(CURDIR)/$(BUILD_DIR) bash bench/run.sh --smoke; }

##@ Deployment

KUBECTL ?= kubectl
.PHONY: deploy
deploy: manifests ## Install the CRD, RBAC and the controller into the current kubectl context
	$(KUBECTL) apply -k manifests/default

.PHONY: undeploy
undeploy: ## Remove what deploy installed (policies go with the CRD)
	$(KUBECTL) delete -k manifests/default --ignore-not-found

.PHONY: image-podman
image-podman: ## Build the Dockerfile with podman from Debian-made base images, run it as 65532 read-only (tests/image/README.md)
	@bash .ci/install-packages.sh tests/image/podman-packages.txt
	bash tests/image/podman-build.sh

.PHONY: docker-build
docker-build: ## Build the container image saguard:latest (needs a Docker engine)
	docker build -t saguard:latest .

.PHONY: clean
clean: ## Remove the build folder
	rm -rf $(BUILD_DIR)
