package raptoken

// The hand-written half of the options: the Option type, the builder New applies them to, and
// the conversions the generated With functions (options_gen.go) use. Add an option to the Rust
// source and run scripts/gen-bindings; write one here only for what no convention covers.

/*
#include <stdlib.h>
#include "raptoken.h"
*/
import "C"

import (
	"math"
	"runtime/cgo"
	"time"
)

// Option configures New. Each Option mirrors one setter of the C options builder and is checked
// by the library when New runs; an unusable value makes New return an *Error matching
// ErrInvalidArgument that names the problem. Settings not given fall back to their RAPIDATA_*
// environment variable, then to the library's default.
type Option func(*builder) error

// builder wraps the C options builder while New applies the options.
type builder struct {
	p *C.RapidataOptions
	// logHandle is the user_data of the log callback (0 if none). The C options only borrow it:
	// New hands it to the Client, which deletes it after freeing the C client.
	logHandle cgo.Handle
}

// newBuilder makes the C options and applies opts to them (nil ones skipped), for New and
// Login. On success the caller frees b.p and owns b.logHandle; on error nothing is left over.
func newBuilder(opts []Option) (*builder, error) {
	var copts *C.RapidataOptions
	if st := uint32(C.rapidata_options_new(&copts)); st != C.RAPIDATA_STATUS_OK {
		return nil, takeError(st, nil)
	}
	b := &builder{p: copts}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(b); err != nil {
			releaseLog(b.logHandle)
			C.rapidata_options_free(copts)
			return nil, err
		}
	}
	return b, nil
}

// set makes one call of a C setter and turns its failure into an *Error.
func (b *builder) set(call func(*C.RapidataOptions, **C.RapidataError) C.enum_RapidataStatus) error {
	var cerr *C.RapidataError
	if st := uint32(call(b.p, &cerr)); st != C.RAPIDATA_STATUS_OK {
		return takeError(st, cerr)
	}
	return nil
}

// millis converts a duration for the C API: whole milliseconds, rounded up (so 1µs is 1 ms,
// not the 0 that means "off" or is refused), at most 2^32-1 ms (~49 days).
func millis(d time.Duration, what string) (uint32, error) {
	if d < 0 {
		return 0, invalidArgument("%s is negative (%s)", what, d)
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > math.MaxUint32 {
		return 0, invalidArgument("%s is too long (%s; at most %d ms)", what, d, uint32(math.MaxUint32))
	}
	return uint32(ms), nil
}

// uint32Arg converts a count for the C API, which checks the range it allows.
func uint32Arg(n int, what string) (uint32, error) {
	if n < 0 || uint64(n) > math.MaxUint32 {
		return 0, invalidArgument("%s %d is out of range", what, n)
	}
	return uint32(n), nil
}

// WithClientCredentials sets the client id and secret (both non-empty). Without it the
// credentials chain is used: RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_SECRET, then the credentials
// file. The library keeps its own copy of the secret and wipes it on Close; the C copy this
// binding makes on the way is wiped at once.
func WithClientCredentials(clientID, clientSecret string) Option {
	return both(withClientID(clientID), withClientSecret(clientSecret))
}

// WithClientKey sets the client id and the private key, as PEM text, it authenticates with
// instead of a secret: private_key_jwt (RFC 7523). Each token request then carries a fresh JWT
// signed with the key, which never leaves the process. PKCS#8 RSA (2048 to 4096 bits) or EC
// P-256, PKCS#1 RSA and SEC1 EC too; a PEM the library cannot use is refused at once
// (ErrInvalidArgument). The C copy of the PEM this binding makes is wiped at once.
func WithClientKey(clientID, pem string) Option {
	return both(withClientID(clientID), withClientKey(pem))
}

// WithClientKeyFile sets the client id and the PEM file holding its private key
// (private_key_jwt, as WithClientKey). The file is read by New, which fails with ErrConfig
// naming it if it is missing, malformed or open to group or others (chmod 600).
func WithClientKeyFile(clientID, path string) Option {
	return both(withClientID(clientID), withClientKeyFile(path))
}

func both(first, second Option) Option {
	return func(b *builder) error {
		if err := first(b); err != nil {
			return err
		}
		return second(b)
	}
}
