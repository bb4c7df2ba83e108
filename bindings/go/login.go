package raptoken

// This file holds the //export of the login URL callback, so its preamble may only declare: the
// C shim that calls raptokenGoLoginURL and the call of rapidata_login live in login_cgo.go.

/*
#include <stdint.h>
#include "raptoken.h"
*/
import "C"

import (
	"context"
	"log"
	"runtime/cgo"
)

// Login logs in on a workstation, as Rapidata's Python SDK does on first use: it starts a login
// at the issuer's login bridge, has the person open a URL and approve in a browser, then creates
// an API client ("<hostname> - raptoken") and stores its id and secret in the credentials file
// (~/.config/rapidata/credentials.json, the SDK's format; other entries are kept). A Client
// created afterwards without WithClientCredentials, and the SDK, use them. The login's own
// access token is never stored.
//
// onURL receives the URL the person must open, once, before the wait (a GUI shows it; a CLI
// prints it). It runs on the goroutine that called Login and must return promptly. A nil onURL
// makes the library try $BROWSER, then xdg-open (with a display) or open (macOS), without
// waiting for the browser, and print the URL on stderr.
//
// The options that matter: WithIssuer or WithEnvironment, WithCAFile, WithTrust, WithProxy,
// WithConnectTimeout, WithRequestTimeout, WithCredentialsFile, WithLogFunc and WithLoginTimeout
// (how long to wait for the approval; 300 s by default). Client credentials are not used.
//
// Login blocks its goroutine and one OS thread until the login ends. When ctx is done first,
// the library stops waiting (within 20 ms, or when its current HTTP request ends) and Login
// returns an error for which errors.Is(err, ErrCancelled) and errors.Is(err, ctx.Err()) hold.
// Errors are *Error values: ErrConfig for an issuer without Rapidata's login bridge or a
// credentials file that cannot be written (checked before onURL is called); ErrOAuth with
// OAuthCode "access_denied" when the person refused; ErrTimeout when nobody approved within the
// login timeout; ErrHTTP, ErrTransport, ErrProtocol for the server's failures.
func Login(ctx context.Context, onURL func(url string), opts ...Option) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return &Error{Status: StatusCancelled, Message: "the login was cancelled before it started: " + err.Error(), wrapped: err}
	}
	b, berr := newBuilder(opts)
	if berr != nil {
		return berr
	}
	defer C.rapidata_options_free(b.p)
	// The log callback's handle lives until the login has returned.
	defer releaseLog(b.logHandle)
	var h cgo.Handle
	if onURL != nil {
		h = cgo.NewHandle(&urlSink{fn: onURL})
		defer h.Delete()
	}
	err := login(ctx, b.p, h)
	if err != nil && err.Status == StatusCancelled && ctx.Err() != nil {
		err.wrapped = ctx.Err()
	}
	if err != nil {
		return err
	}
	return nil
}

// urlSink is what the cgo.Handle passed as user_data refers to.
type urlSink struct {
	fn func(string)
}

//export raptokenGoLoginURL
func raptokenGoLoginURL(handle C.uintptr_t, url *C.char) {
	// Nothing may unwind into the library's frames.
	defer func() {
		if r := recover(); r != nil {
			log.Printf("raptoken: the login URL function panicked (%v); the login goes on", r)
		}
	}()
	cgo.Handle(handle).Value().(*urlSink).fn(C.GoString(url))
}
