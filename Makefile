# weir's build, test and lint. `make build` is also what the Dockerfile runs.

GO          ?= go
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test lint generate fuzz clean

all: build

# cgo stays on: the librdkafka client links librdkafka statically through cgo.
build:
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/weir ./cmd/weir

# The one test command: README and CI run exactly this. scripts/test-tools.sh
# installs kcat, which the end-to-end interoperability test needs (and, with
# WEIR_REQUIRE_INTEROP=1, fails without instead of skipping).
test: lint
	sh scripts/test-tools.sh
	WEIR_REQUIRE_INTEROP=1 $(GO) test -race -count=1 ./...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt: not formatted: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Regenerate what is generated from the schemas: the CRDs and the bundled
# schema editors fetch. Tests fail when these are out of date.
generate:
	$(GO) run ./cmd/weir crds --out schemas/crds
	$(GO) run ./cmd/weir schema > schemas/weir.schema.json

fuzz:
	$(GO) test ./spec -run '^$$' -fuzz FuzzLoad -fuzztime 2m

clean:
	rm -rf bin

# Exactly-once throughput, latency and peak RSS: the passthrough reference
# against the enrich-and-route sample with each client (see bench/doc.go).
# Flags go in BENCHFLAGS, e.g. make bench BENCHFLAGS='-n 100000 --rate 20000'.
.PHONY: bench
BENCHFLAGS ?=
bench:
	CGO_ENABLED=1 $(GO) run ./cmd/weir bench $(BENCHFLAGS)
