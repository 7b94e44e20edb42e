# mcpload: `make run` runs the quickstart against the embedded mock;
# `make test` runs the whole suite. Everything the tests need is installed
# from here, so a fresh machine with Go needs nothing else.

GO        ?= go
BIN       := bin
MCPLOAD   := $(BIN)/mcpload
VEGETA    := $(BIN)/vegeta
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS   := -X main.buildVersion=$(VERSION)
SCENARIO  ?= quickstart
STATICCHECK_VERSION := v0.8.2
export GOTOOLCHAIN := local

.PHONY: all build install man image run test test-short lint fuzz bench browser prometheus node clean

all: build

build: $(MCPLOAD)

$(MCPLOAD): $(shell find . -name '*.go' -o -name '*.yaml' -o -name 'go.mod' | grep -v '^./results/')
	$(GO) build -ldflags "$(LDFLAGS)" -o $@ ./cmd/mcpload

# go install, with the version from git tags.
install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/mcpload

# One man page per command, in man/.
man: $(MCPLOAD)
	./$(MCPLOAD) man man

# The container image (Dockerfile), where a Docker engine runs.
image:
	docker build --build-arg VERSION=$(VERSION) -t mcpload:$(VERSION) .

# The quickstart: about 10 s against the in-process mock, no network, no key.
run: $(MCPLOAD)
	./$(MCPLOAD) run $(SCENARIO)

# The whole suite, with the race detector. The browser test of report.html
# and the MCP conformance suite must run here, not skip: Chromium and the
# suite are installed first, and so is Prometheus, which scrapes a live run
# in live/'s test. -parallel 6: most end-to-end tests of cmd/mcpload wait on
# runs of a fixed length, not on the cores. The tests that run mcpload as a
# process outside cmd/mcpload (docs, deploy/kubernetes) share the one binary
# built here (MCPLOAD_BIN) rather than each compile it again mid-suite.
test: browser prometheus node $(MCPLOAD)
	$(GO) vet ./...
	MCPLOAD_BIN=$(abspath $(MCPLOAD)) MCPLOAD_REQUIRE_BROWSER=1 MCPLOAD_REQUIRE_PROMETHEUS=1 MCPLOAD_REQUIRE_NODE=1 $(GO) test -race -count=1 -timeout 14m -parallel 6 ./...

test-short:
	$(GO) test -short -count=1 ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Every fuzz target, as package:Target (docs/fuzzing.md). Go fuzzes one
# target per invocation, so the loop gives each an equal share of
# FUZZ_SECONDS, about 10 minutes in all, and goes on past a failure so that
# every target runs; the failures are listed at the end. Minimising a new
# input is capped at 5 s: Go's default of a minute each ate the budget.
FUZZ_TARGETS := \
	scenarios:FuzzParse scenarios:FuzzParseThreshold \
	attacker/llm:FuzzDialectJSON attacker/llm:FuzzDialectStream attacker/llm:FuzzChatStream \
	attacker/llm:FuzzSSEReader attacker/mcp:FuzzMCPResponse attacker/secrets:FuzzCredentials \
	mockprovider:FuzzAdminBodies \
	report:FuzzRunFolder report:FuzzSummaryJSON report/pricing:FuzzParse
FUZZ_SECONDS ?= 600
#
# Go 1.26's fuzz coordinator can fail a target with a bare "context
# deadline exceeded" as -fuzztime runs out on a loaded machine, with no
# crasher (go.dev/issue/75804, fixed in Go 1.27): that is reported, not
# counted as a failure.
fuzz:
	@per=$$(( $(FUZZ_SECONDS) / $(words $(FUZZ_TARGETS)) )); failed=; \
	out=$$(mktemp); trap 'rm -f $$out $$out.rc' EXIT; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "make fuzz: $$name in ./$$pkg for $${per}s"; \
		{ $(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$${per}s -fuzzminimizetime=5s ./$$pkg/; echo $$? >$$out.rc; } 2>&1 | tee $$out; \
		test "$$(cat $$out.rc)" = 0 && continue; \
		if grep -q 'Failing input written' $$out || ! grep -q 'context deadline exceeded' $$out; then \
			failed="$$failed $$pkg:$$name"; \
		else echo "make fuzz: $$name: Go's end-of-fuzztime race (go.dev/issue/75804), no crasher"; fi; \
	done; \
	test -z "$$failed" || { echo "make fuzz: failed:$$failed (crashers are in each package's testdata/fuzz/)"; exit 1; }

# Raw vegeta, at the version go.mod pins, for the benchmark's baseline.
$(VEGETA): go.mod
	GOBIN=$(abspath $(BIN)) $(GO) install github.com/tsenart/vegeta/v12@$$($(GO) list -m -f '{{.Version}}' github.com/tsenart/vegeta/v12)

# Mock capacity, mcpload's maximum sustained rate and raw vegeta's, against
# the same mock endpoint in one run; prints the ratios the README quotes.
bench: $(MCPLOAD) $(VEGETA)
	$(GO) run ./cmd/mcpload-bench -mcpload $(MCPLOAD) -vegeta $(VEGETA)

# Debian's Chromium, for the browser test of report.html
# (report/htmlreport/browser_test.go), when it is missing. CI runs as root.
# apt waits up to 5 minutes for a lock another apt holds, and the install is
# tried three times, so that a concurrent apt run does not fail the build.
CHROMIUM := /usr/bin/chromium
APT      := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300
browser:
	@test -x $(CHROMIUM) || for try in 1 2 3; do \
		{ $(APT) update && $(APT) install -y --no-install-recommends chromium; } && break; \
		test $$try = 3 && { echo "make browser: could not install chromium (run as root, or install it yourself)"; exit 1; }; \
		echo "make browser: apt failed (a lock?); retrying in 20 s"; sleep 20; \
	done
	@$(CHROMIUM) --version 2>/dev/null | grep -i chromium

# Debian's Prometheus, for the test that scrapes a live run
# (live/prometheus_test.go), when it is missing; as browser, with the same
# lock timeout and retries. The test starts its own server on loopback with
# a temporary config and storage, so the package's service is stopped and
# disabled here: nothing depends on it, and it should not keep running.
PROMETHEUS := /usr/bin/prometheus
prometheus:
	@test -x $(PROMETHEUS) || for try in 1 2 3; do \
		{ $(APT) update && $(APT) install -y --no-install-recommends prometheus; } && break; \
		test $$try = 3 && { echo "make prometheus: could not install prometheus (run as root, or install it yourself)"; exit 1; }; \
		echo "make prometheus: apt failed (a lock?); retrying in 20 s"; sleep 20; \
	done
	@-systemctl disable --now prometheus >/dev/null 2>&1 || service prometheus stop >/dev/null 2>&1 || true
	@$(PROMETHEUS) --version 2>&1 | head -1

# The MCP conformance suite, for mockprovider's TestMCPConformanceSuite:
# the version pinned here (the newest that runs on Node 20), from npm, in
# .cache/node (gitignored). Needs node and npm.
# The MCP reference server (@modelcontextprotocol/server-everything) too,
# for the stdio test against it (attacker/mcp/everything_test.go).
# Portkey's open-source AI gateway (@portkey-ai/gateway), for the test of
# what a gateway hides (cmd/mcpload/portkey_test.go): it runs on loopback in
# front of the mock and retries the mock's faults.
CONFORMANCE_VERSION := 0.1.10
EVERYTHING_VERSION := 2026.8.31
PORTKEY_VERSION := 1.15.2
CONFORMANCE := .cache/node/node_modules/@modelcontextprotocol/conformance
node: $(CONFORMANCE)/.installed-$(CONFORMANCE_VERSION)-$(EVERYTHING_VERSION)-$(PORTKEY_VERSION)

$(CONFORMANCE)/.installed-$(CONFORMANCE_VERSION)-$(EVERYTHING_VERSION)-$(PORTKEY_VERSION):
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "make node: node and npm are needed for the MCP conformance suite"; exit 1; }
	npm install --prefix .cache/node --save-exact --no-audit --no-fund @modelcontextprotocol/conformance@$(CONFORMANCE_VERSION) @modelcontextprotocol/server-everything@$(EVERYTHING_VERSION) @portkey-ai/gateway@$(PORTKEY_VERSION)
	touch $@

clean:
	rm -rf $(BIN) man
