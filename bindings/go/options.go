package raptoken

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

type stringSetter func(*C.RapidataOptions, *C.char, **C.RapidataError) C.enum_RapidataStatus

func (b *builder) setString(what, value string, secret bool, set stringSetter) error {
	cs, err := cString(value, what)
	if err != nil {
		return err
	}
	if secret {
		defer wipeCString(cs)
	} else {
		defer freeCString(cs)
	}
	var cerr *C.RapidataError
	if st := uint32(set(b.p, cs, &cerr)); st != C.RAPIDATA_STATUS_OK {
		return takeError(st, cerr)
	}
	return nil
}

type u32Setter func(*C.RapidataOptions, C.uint32_t, **C.RapidataError) C.enum_RapidataStatus

func (b *builder) setUint32(v uint32, set u32Setter) error {
	var cerr *C.RapidataError
	if st := uint32(set(b.p, C.uint32_t(v), &cerr)); st != C.RAPIDATA_STATUS_OK {
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

func (b *builder) setDuration(what string, d time.Duration, set u32Setter) error {
	ms, err := millis(d, what)
	if err != nil {
		return err
	}
	return b.setUint32(ms, set)
}

// WithClientCredentials sets the client id and secret (both non-empty). Without it the
// credentials chain is used: RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_SECRET, then the credentials
// file. The library keeps its own copy of the secret and wipes it on Close; the C copy this
// binding makes on the way is wiped at once.
func WithClientCredentials(clientID, clientSecret string) Option {
	return func(b *builder) error {
		if err := b.setString("client id", clientID, false, func(p *C.RapidataOptions, s *C.char, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_client_id(p, s, e)
		}); err != nil {
			return err
		}
		return b.setString("client secret", clientSecret, true, func(p *C.RapidataOptions, s *C.char, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_client_secret(p, s, e)
		})
	}
}

// WithIssuer sets the authorization server's issuer URL (default https://auth.rapidata.ai, or
// RAPIDATA_ISSUER). It must be https, or http to a loopback host. An issuer wins over
// WithEnvironment.
func WithIssuer(issuerURL string) Option {
	return func(b *builder) error {
		return b.setString("issuer", issuerURL, false, func(p *C.RapidataOptions, s *C.char, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_issuer(p, s, e)
		})
	}
}

// WithEnvironment sets a Rapidata environment, a base domain such as "rapidata.ai" or
// "rabbitdata.ch" (or RAPIDATA_ENVIRONMENT): the issuer becomes https://auth.<environment>.
func WithEnvironment(environment string) Option {
	return func(b *builder) error {
		return b.setString("environment", environment, false, func(p *C.RapidataOptions, s *C.char, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_environment(p, s, e)
		})
	}
}

// WithTokenEndpoint sets the token endpoint URL and skips OpenID discovery (or
// RAPIDATA_TOKEN_ENDPOINT). Same URL rules as WithIssuer.
func WithTokenEndpoint(url string) Option {
	return func(b *builder) error {
		return b.setString("token endpoint", url, false, func(p *C.RapidataOptions, s *C.char, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_token_endpoint(p, s, e)
		})
	}
}

// WithScope sets the space-separated scopes (default "openid roles email", or RAPIDATA_SCOPE);
// "" sends no scope.
func WithScope(scope string) Option {
	return func(b *builder) error {
		return b.setString("scope", scope, false, func(p *C.RapidataOptions, s *C.char, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_scope(p, s, e)
		})
	}
}

// WithCAFile sets a PEM file whose certificates replace the built-in trust roots for the token
// requests (or RAPIDATA_CA_FILE). It is read by New: an unreadable or empty file is ErrConfig.
func WithCAFile(pemPath string) Option {
	return func(b *builder) error {
		return b.setString("CA file", pemPath, false, func(p *C.RapidataOptions, s *C.char, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_ca_file(p, s, e)
		})
	}
}

// WithCredentialsFile sets where the credentials chain looks for the Rapidata SDK's
// credentials file (default ~/.config/rapidata/credentials.json, or RAPIDATA_CREDENTIALS_FILE).
func WithCredentialsFile(path string) Option {
	return func(b *builder) error {
		return b.setString("credentials file", path, false, func(p *C.RapidataOptions, s *C.char, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_credentials_file(p, s, e)
		})
	}
}

// AuthMethod is how the client authenticates to the token endpoint.
type AuthMethod uint32

const (
	// ClientSecretBasic sends the id and secret form-urlencoded in HTTP Basic (RFC 6749
	// §2.3.1). The default.
	ClientSecretBasic AuthMethod = 0
	// ClientSecretPost sends client_id and client_secret in the request body.
	ClientSecretPost AuthMethod = 1
)

// The Go constants must equal the header's: each line fails to compile if one ever differs.
var (
	_ = [1]int{}[ClientSecretBasic-C.RAPIDATA_AUTH_METHOD_CLIENT_SECRET_BASIC]
	_ = [1]int{}[C.RAPIDATA_AUTH_METHOD_CLIENT_SECRET_BASIC-ClientSecretBasic]
	_ = [1]int{}[ClientSecretPost-C.RAPIDATA_AUTH_METHOD_CLIENT_SECRET_POST]
	_ = [1]int{}[C.RAPIDATA_AUTH_METHOD_CLIENT_SECRET_POST-ClientSecretPost]
)

// WithAuthMethod sets how the client authenticates (or RAPIDATA_AUTH_METHOD).
func WithAuthMethod(method AuthMethod) Option {
	return func(b *builder) error {
		return b.setUint32(uint32(method), func(p *C.RapidataOptions, v C.uint32_t, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_auth_method(p, v, e)
		})
	}
}

// WithConnectTimeout sets the TCP+TLS connect timeout (default 5 s). Zero is refused.
func WithConnectTimeout(d time.Duration) Option {
	return func(b *builder) error {
		return b.setDuration("connect timeout", d, func(p *C.RapidataOptions, v C.uint32_t, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_connect_timeout_ms(p, v, e)
		})
	}
}

// WithRequestTimeout sets how long one HTTP request (discovery or token) may take in total
// (default 10 s). Zero is refused.
func WithRequestTimeout(d time.Duration) Option {
	return func(b *builder) error {
		return b.setDuration("request timeout", d, func(p *C.RapidataOptions, v C.uint32_t, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_request_timeout_ms(p, v, e)
		})
	}
}

// WithExpiryMargin sets the hard expiry margin: a token is not served once less than this
// remains. Default min(30 s, 10 % of the token's lifetime); capped at half the lifetime.
func WithExpiryMargin(d time.Duration) Option {
	return func(b *builder) error {
		return b.setDuration("expiry margin", d, func(p *C.RapidataOptions, v C.uint32_t, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_expiry_margin_ms(p, v, e)
		})
	}
}

// WithRefreshAhead sets the refresh-ahead window: this long before the expiry margin, one
// caller renews the token while all others keep getting the current one at once. Default
// min(5 min, 50 % of the lifetime); 0 turns refresh-ahead off.
func WithRefreshAhead(d time.Duration) Option {
	return func(b *builder) error {
		return b.setDuration("refresh-ahead window", d, func(p *C.RapidataOptions, v C.uint32_t, e **C.RapidataError) C.enum_RapidataStatus {
			return C.rapidata_options_set_refresh_ahead_ms(p, v, e)
		})
	}
}
