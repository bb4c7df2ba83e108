//go:build !raptoken_system

package raptoken

// Linking in this checkout: the static archive `cargo build --release` writes at the repository
// root, plus exactly the system libraries rustc reports for it (--print native-static-libs).
// Static linking means programs need no LD_LIBRARY_PATH or rpath and carry no run-time
// dependency on libraptoken.so.
//
// `make dist` replaces this file in the published module (github.com/rapidata/raptoken-go) with
// one that links the prebuilt archive for each GOOS/GOARCH under lib/ (scripts/dist/go-module.sh).

// #cgo CFLAGS: -I${SRCDIR}/../../include
// #cgo LDFLAGS: ${SRCDIR}/../../target/release/libraptoken.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
import "C"
