# The front door: `make demo` to see it work, `make test` to run every suite.
PREFIX ?= /usr/local

.PHONY: all build demo test bench install dist header-check clean

all: build

build:
	bash scripts/build.sh

# Builds everything, starts the local OpenID provider, runs the C, C++, Go and C# examples and the CLI.
demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

# Runs every benchmark on loopback and writes BENCHMARKS.md (and the README's headline table).
bench:
	bash scripts/bench.sh

# Installs the library, header, pkg-config file (and CMake package) into $(PREFIX).
install:
	bash scripts/install.sh "$(PREFIX)"

# The release artifacts in target/dist/: the archive (+ SHA256SUMS), the Go module with its
# GOPROXY directory, the NuGet package. See docs/install.md.
dist:
	bash scripts/dist.sh

header-check: build
	git diff --exit-code -- include/raptoken.h

clean:
	cargo clean
