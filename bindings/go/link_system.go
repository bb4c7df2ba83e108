//go:build raptoken_system

package raptoken

// With -tags raptoken_system the header and library come from an installed raptoken (the
// release archive or `make install`) through pkg-config: set PKG_CONFIG_PATH to its
// lib/pkgconfig. raptoken.pc links libraptoken.so with an rpath to where it is installed.

// #cgo pkg-config: raptoken
import "C"
