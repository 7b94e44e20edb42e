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

.PHONY: all build run test test-short lint fuzz bench clean

all: build

build: $(MCPLOAD)

$(MCPLOAD): $(shell find . -name '*.go' -o -name '*.yaml' -o -name 'go.mod' | grep -v '^./results/')
	$(GO) build -ldflags "$(LDFLAGS)" -o $@ ./cmd/mcpload

# The quickstart: about 10 s against the in-process mock, no network, no key.
run: $(MCPLOAD)
	./$(MCPLOAD) run $(SCENARIO)

# The whole suite, with the race detector.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 9m ./...

test-short:
	$(GO) test -short -count=1 ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=30s ./scenarios/

# Raw vegeta, at the version go.mod pins, for the benchmark's baseline.
$(VEGETA): go.mod
	GOBIN=$(abspath $(BIN)) $(GO) install github.com/tsenart/vegeta/v12@$$($(GO) list -m -f '{{.Version}}' github.com/tsenart/vegeta/v12)

# Mock capacity, mcpload's maximum sustained rate and raw vegeta's, against
# the same mock endpoint in one run; prints the ratios the README quotes.
bench: $(MCPLOAD) $(VEGETA)
	$(GO) run ./cmd/mcpload-bench -mcpload $(MCPLOAD) -vegeta $(VEGETA)

clean:
	rm -rf $(BIN)
