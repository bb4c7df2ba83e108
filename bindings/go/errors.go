package raptoken

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// sentinel is the type of the Err* values: errors.Is(err, ErrOAuth) matches any *Error whose
// Status is StatusOAuth.
type sentinel Status

func (s sentinel) Error() string { return "raptoken: " + Status(s).String() }

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
