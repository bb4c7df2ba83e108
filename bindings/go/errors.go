package raptoken

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is the outcome of a raptoken call: the C ABI's RapidataStatus. Values are stable.
type Status int

// The statuses of the C ABI (include/raptoken.h), with the same numbers.
const (
	StatusOK              Status = 0  // success
	StatusInvalidArgument Status = 1  // an empty, malformed or out-of-range argument; also use after Close
	StatusNoCredentials   Status = 2  // no client id/secret in options, environment or credentials file
	StatusBufferTooSmall  Status = 3  // internal: the binding retries with a larger buffer
	StatusConfig          Status = 4  // broken configuration: credentials file, CA file, issuer, discovery
	StatusTransport       Status = 5  // network failure: DNS, connect, TLS, reset
	StatusTimeout         Status = 6  // a timeout or deadline passed
	StatusHTTP            Status = 7  // an HTTP error status without an OAuth error document
	StatusOAuth           Status = 8  // an RFC 6749 error answer; see Error.OAuthCode
	StatusProtocol        Status = 9  // the server's answer is not a valid token response
	StatusPanic           Status = 10 // a bug inside raptoken was caught at the boundary
)

var statusNames = [...]string{
	StatusOK:              "ok",
	StatusInvalidArgument: "invalid argument",
	StatusNoCredentials:   "no credentials",
	StatusBufferTooSmall:  "buffer too small",
	StatusConfig:          "configuration error",
	StatusTransport:       "transport error",
	StatusTimeout:         "timeout",
	StatusHTTP:            "HTTP error",
	StatusOAuth:           "OAuth error",
	StatusProtocol:        "protocol error",
	StatusPanic:           "internal error",
}

// String names the status, e.g. "OAuth error".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status %d", int(s))
}

// sentinel is the type of the Err* values: errors.Is(err, ErrOAuth) matches any *Error whose
// Status is StatusOAuth.
type sentinel Status

func (s sentinel) Error() string { return "raptoken: " + Status(s).String() }

// Sentinel errors, one per status, for errors.Is. The error itself is always an *Error (use
// errors.As to read its fields).
var (
	ErrInvalidArgument error = sentinel(StatusInvalidArgument)
	ErrNoCredentials   error = sentinel(StatusNoCredentials)
	ErrBufferTooSmall  error = sentinel(StatusBufferTooSmall)
	ErrConfig          error = sentinel(StatusConfig)
	ErrTransport       error = sentinel(StatusTransport)
	ErrTimeout         error = sentinel(StatusTimeout)
	ErrHTTP            error = sentinel(StatusHTTP)
	ErrOAuth           error = sentinel(StatusOAuth)
	ErrProtocol        error = sentinel(StatusProtocol)
	ErrPanic           error = sentinel(StatusPanic)
)

// ErrClosed is matched (errors.Is) by the error every method returns after Close, and for a
// nil *Client. Such an error is an *Error with StatusInvalidArgument.
var ErrClosed = errors.New("raptoken: the client is closed")

// Error is the one error type of this package. It carries everything the library reports
// about a failure; it never contains a secret or a token.
type Error struct {
	Status           Status    // what kind of failure; errors.Is(err, ErrXxx) tests it
	Message          string    // for humans: what failed and what to fix
	OAuthCode        string    // RFC 6749 "error", e.g. "invalid_client"; "" if the server sent none
	OAuthDescription string    // RFC 6749 "error_description" (scrubbed); "" if none
	HTTPStatus       int       // HTTP status of the response behind the failure; 0 if none
	RetryAfter       time.Time // when the server asked to be retried (Retry-After); zero if it did not say

	wrapped error // ErrClosed for use after Close
}

// Error formats the failure as "raptoken: <kind>: <message>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("raptoken: ")
	b.WriteString(e.Status.String())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.OAuthCode != "" && !strings.Contains(e.Message, e.OAuthCode) {
		b.WriteString(" (")
		b.WriteString(e.OAuthCode)
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's status (ErrOAuth for StatusOAuth, ...).
func (e *Error) Is(target error) bool {
	s, ok := target.(sentinel)
	return ok && Status(s) == e.Status
}

// Unwrap returns ErrClosed for errors caused by use after Close, nil otherwise.
func (e *Error) Unwrap() error { return e.wrapped }

// Timeout reports whether the failure was a timeout (as net.Error does).
func (e *Error) Timeout() bool { return e.Status == StatusTimeout }

func invalidArgument(format string, args ...any) *Error {
	return &Error{Status: StatusInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

func closedError() *Error {
	return &Error{Status: StatusInvalidArgument, Message: "the client is closed (Close was called) or nil", wrapped: ErrClosed}
}
