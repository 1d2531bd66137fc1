# pgtui: see README.md. `make run` opens the cockpit; `make test` runs every test.
GO        ?= go
BIN       := bin/pgtui
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/pgtui/pgtui/internal/version.Version=$(VERSION)
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TESTFLAGS ?= -count=1 -timeout 25m

.PHONY: all deps image-deps bench-deps build image test fuzz bench chaos soak run clean

all: build

# deps installs the PostgreSQL server and client, tmux (the cockpit's
# end-to-end test), iproute2 (network namespaces of the netns and hosts
# tests) and pgBackRest (backups), when missing (Debian/Ubuntu).
deps:
	@need=; command -v psql >/dev/null 2>&1 || need=1; \
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need=1; \
	command -v tmux >/dev/null 2>&1 || need=1; \
	command -v ip >/dev/null 2>&1 || need=1; \
	command -v pgbackrest >/dev/null 2>&1 || need=1; \
	if [ -n "$$need" ]; then \
		echo "installing postgresql (server + client), tmux, iproute2 and pgbackrest with apt-get"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql postgresql-client tmux iproute2 pgbackrest >/dev/null || exit 1; \
	fi
	@command -v psql >/dev/null || { echo "psql still missing after install"; exit 1; }
	@command -v tmux >/dev/null || { echo "tmux still missing after install"; exit 1; }
	@command -v pgbackrest >/dev/null || { echo "pgbackrest still missing after install"; exit 1; }

# image-deps installs what `make image` and the image test need, when
# missing: debootstrap (the base), umoci (OCI layout), podman (runs the
# image in TestHostsImage*) and runc (crun, podman's default runtime,
# refuses hosts with cgroup v1 beside a v2 hierarchy; see docs/DEPLOY.md).
image-deps:
	@need=; for t in debootstrap umoci podman runc; do command -v $$t >/dev/null 2>&1 || need="$$need $$t"; done; \
	if [ -n "$$need" ]; then \
		echo "installing$$need with apt-get"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq$$need >/dev/null || exit 1; \
	fi

# image builds the node image with no registry as an OCI archive,
# bin/pgtui-node.oci.tar: a debootstrapped Debian root with PostgreSQL
# (cached in /var/cache/pgtui/image) plus a static pgtui. It prints the
# image's size. See docs/DEPLOY.md, "The image".
image: image-deps
	$(SUDO) env "PATH=$$PATH" $(GO) run ./internal/image/mkimage -version $(VERSION)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/pgtui

test: deps image-deps build
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt'd (run gofmt -w): $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) ./...
	$(MAKE) fuzz

# fuzz runs every fuzz target briefly (their seed corpora also run in `go test`).
FUZZTIME ?= 3s
FUZZ_TARGETS := FuzzValidateName:./backend FuzzCreateRequest:./backend FuzzValidateIdentifier:./backend \
	FuzzDecode:./nodeimage/cluster FuzzDecodeState:./backend/agent FuzzAPIDecode:./backend/agent \
	FuzzConnInfo:./nodeimage/pg
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; \
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg >/tmp/pgtui-fuzz.out 2>&1 || { cat /tmp/pgtui-fuzz.out; exit 1; }; \
	done

# bench runs every benchmark in turn (failover, create 1/2/3, proxy vs
# direct vs HAProxy, tunnel, check cost, cockpit, a short soak, pgtui
# beside Patroni and pg_auto_failover) and writes what they print to
# docs/BENCHMARKS.md. BENCHES picks some of them.
BENCHES ?= failover,create,proxy,tunnel,checks,cockpit,soak,peers
BENCH_SOAK_SECONDS ?= 120
bench: deps bench-deps build
	SOAK_SECONDS=$(BENCH_SOAK_SECONDS) $(GO) run ./internal/bench/all -run $(BENCHES) -out docs/BENCHMARKS.md

# bench-deps installs, when missing, HAProxy (the proxy bench) and the
# peers the peers bench runs: Patroni, etcd-server and pg_auto_failover.
bench-deps:
	@need=; for t in haproxy:haproxy patroni:patroni etcd:etcd-server pg_autoctl:pg-auto-failover-cli; do \
		command -v $${t%%:*} >/dev/null 2>&1 || need="$$need $${t#*:}"; done; \
	ls /usr/lib/postgresql/15/lib/pgautofailover.so >/dev/null 2>&1 || need="$$need postgresql-15-auto-failover"; \
	if [ -n "$$need" ]; then \
		echo "installing$$need with apt-get"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq$$need >/dev/null || exit 1; \
	fi

# soak runs pgbench saturating the machine for SOAK_SECONDS (default 600)
# and fails on any leader change.
soak: deps build
	$(GO) run ./internal/bench/soak

# chaos injects CHAOS_FAULTS (default 100) faults with CHAOS_SEED into a
# real cluster under load and writes docs/RELIABILITY.md (CHAOS_REPORT);
# CHAOS_KINDS="partition,store outage" injects only the kinds named.
# CHAOS_HOSTS=3 spreads the cluster over three hosts (network namespaces,
# an etcd cluster over TLS) with host kill, host partition and etcd member
# faults, and writes docs/RELIABILITY-HOSTS.md.
chaos: deps build
	$(GO) run ./internal/chaos

run: deps build
	./$(BIN)

clean:
	rm -rf bin
