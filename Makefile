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
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 1800
	$(MAKE) test-fuzz

FUZZ_DIR     ?= build-fuzz
FUZZ_SECONDS ?= 30
.PHONY: test-fuzz
test-fuzz: deps ## Build the libFuzzer targets with clang (ASan+UBSan) and run each for FUZZ_SECONDS
	@CXX=clang++ cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAGUARD_FUZZ=ON \
	  -DSAGUARD_SANITIZE=ON -DSAGUARD_TESTS=OFF -DSAGUARD_BENCH=OFF -DSAGUARD_ONLY="base;objects;codec;policy;kube;audit" \
	  -DSAGUARD_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	cmake --build $(FUZZ_DIR) -j $(JOBS)
	cd $(FUZZ_DIR) && ctest --output-on-failure -L fuzz

.PHONY: test-unit
test-unit: build ## Run the unit tests only (no server)
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

.PHONY: test-integration
test-integration: build controlplane ## Run the integration tests against a local control plane
	cd $(BUILD_DIR) && ctest --output-on-failure -L integration

.PHONY: fmt
fmt: ## Format the C++ sources with clang-format
	find controller tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

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
manifests: ## Copy crd/ into manifests/crd/ (kustomize reads only below its root)
	cp crd/saguard.io_serviceaccountpolicies.yaml manifests/crd/

##@ Deployment

KUBECTL ?= kubectl
.PHONY: deploy
deploy: manifests ## Install the CRD, RBAC and the controller into the current kubectl context
	$(KUBECTL) apply -k manifests/default

.PHONY: undeploy
undeploy: ## Remove what deploy installed (policies go with the CRD)
	$(KUBECTL) delete -k manifests/default --ignore-not-found

.PHONY: docker-build
docker-build: ## Build the container image saguard:latest (needs a Docker engine)
	docker build -t saguard:latest .

.PHONY: clean
clean: ## Remove the build folder
	rm -rf $(BUILD_DIR)
