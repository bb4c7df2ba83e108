//go:build !cgo

package raptoken

// The binding calls the raptoken C library, so it needs cgo: a C compiler on PATH and
// CGO_ENABLED=1 (the default when one is installed). Without cgo, say so at compile time
// instead of with a list of undefined C symbols.
var _ = raptoken_needs_cgo__set_CGO_ENABLED_1_and_install_a_C_compiler
