package raptoken

// Options for a slow, failing or rate-limiting auth server and for the network path to it:
// retries, backoff, Retry-After, the overall deadline, trust roots and the proxy. See the
// repository README, section "Resilience".

/*
#include "raptoken.h"
*/
import "C"

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// WithMaxAttempts sets how many attempts one fetch makes, 1 (no retries) to 10 (default 3).
// Only failures worth repeating are retried: connection errors, resets, timeouts, HTTP 408, 429
// and 5xx, and the OAuth errors server_error and temporarily_unavailable; never invalid_client.
func WithMaxAttempts(n int) Option {
	return func(b *builder) error {
		if n < 0 || n > math.MaxUint32 {
			return invalidArgument("max attempts %d is out of range (1 to 10)", n)
		}
		return b.setUint32(uint32(n), func(p *C.RapidataOptions, v C.uint32_t, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_max_attempts(p, v, e)
		})
	}
}

// WithRetryBackoff sets the backoff between attempts: a random wait up to base·2^(n-1), at most
// limit (full jitter). After a failed refresh while the current token is still served, the next
// try comes after 2·base, doubling up to limit. Defaults 500 ms and 30 s. base must be positive
// and limit at least base.
func WithRetryBackoff(base, limit time.Duration) Option {
	return func(b *builder) error {
		baseMs, err := millis(base, "retry backoff base")
		if err != nil {
			return err
		}
		maxMs, err := millis(limit, "retry backoff limit")
		if err != nil {
			return err
		}
		var cerr *C.RapidataError
		if st := uint32(C.rapidata_options_set_retry_backoff_ms(b.p, C.uint32_t(baseMs), C.uint32_t(maxMs), &cerr)); st != C.RAPIDATA_STATUS_OK {
			return takeError(st, cerr)
		}
		return nil
	}
}

// WithMaxRetryAfter sets the longest Retry-After the client honours (default 1 min): a server
// asking for longer is called again after d. Until then no token request is sent, and calls
// without a usable token fail at once with an *Error whose RetryAfter is set.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(b *builder) error {
		return b.setDuration("max Retry-After", d, func(p *C.RapidataOptions, v C.uint32_t, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_max_retry_after_ms(p, v, e)
		})
	}
}

// WithDeadline sets the overall deadline of one fetch (default 30 s): discovery, every attempt
// and the waits between them. A retry that could only start after it is not made, and callers
// waiting for another goroutine's fetch wait at most this long (plus 1 s). Zero is refused.
func WithDeadline(d time.Duration) Option {
	return func(b *builder) error {
		return b.setDuration("deadline", d, func(p *C.RapidataOptions, v C.uint32_t, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_deadline_ms(p, v, e)
		})
	}
}

// Trust says which certificate authorities TLS trusts (RapidataTrust flags; combine with |).
type Trust uint32

const (
	// TrustBuiltin is Mozilla's root certificates compiled into the library: the default when
	// no CA file is set. It cannot be combined with TrustSystem or a CA file (New returns
	// ErrConfig).
	TrustBuiltin Trust = 1
	// TrustSystem is the system's bundle: SSL_CERT_FILE and SSL_CERT_DIR if set, else the
	// distribution's file. With WithCAFile, the file's certificates are added to it.
	TrustSystem Trust = 2
)

// The Go constants must equal the header's: each line fails to compile if one ever differs.
var (
	_ = [1]int{}[TrustBuiltin-C.RAPIDATA_TRUST_BUILTIN] + [1]int{}[C.RAPIDATA_TRUST_BUILTIN-TrustBuiltin]
	_ = [1]int{}[TrustSystem-C.RAPIDATA_TRUST_SYSTEM] + [1]int{}[C.RAPIDATA_TRUST_SYSTEM-TrustSystem]
)

// String names the flags, e.g. "TrustBuiltin|TrustSystem".
func (t Trust) String() string {
	var names []string
	if t&TrustBuiltin != 0 {
		names = append(names, "TrustBuiltin")
	}
	if t&TrustSystem != 0 {
		names = append(names, "TrustSystem")
	}
	if rest := t &^ (TrustBuiltin | TrustSystem); rest != 0 || len(names) == 0 {
		names = append(names, fmt.Sprintf("Trust(%#x)", uint32(rest)))
	}
	return strings.Join(names, "|")
}

// WithTrust sets which roots TLS trusts. Default: TrustBuiltin, or only the CA file when
// WithCAFile is given. Zero and unknown flags are refused.
func WithTrust(flags Trust) Option {
	return func(b *builder) error {
		return b.setUint32(uint32(flags), func(p *C.RapidataOptions, v C.uint32_t, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_trust(p, v, e)
		})
	}
}

// WithProxy sets the proxy for every request of this client, e.g. "http://proxy.internal:3128"
// (user:password@ allowed; never logged, and the binding's C copy is wiped). "" means no proxy,
// even if HTTPS_PROXY is set. Without this option the environment decides: ALL_PROXY,
// HTTPS_PROXY, HTTP_PROXY and NO_PROXY.
func WithProxy(proxyURL string) Option {
	return func(b *builder) error {
		return b.setString("proxy URL", proxyURL, true, func(p *C.RapidataOptions, s *C.char, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_proxy(p, s, e)
		})
	}
}
