package raptoken

/*
#include "raptoken.h"
*/
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// Client gets and keeps an OAuth 2.0 client-credentials token for the Rapidata API. All token
// logic (cache, expiry margin, refresh-ahead, one request under contention, conditional
// invalidation) lives in the raptoken library; Client is a thin wrapper over its C API.
//
// A Client is safe for concurrent use by any number of goroutines. Create one per set of
// credentials and share it; Close it when done (a forgotten Client is freed when the garbage
// collector finds it unreachable).
type Client struct {
	// memo is the one piece of Go-side state: the token the library last returned, kept until
	// the library's refresh-ahead instant. Until then the library itself would return the same
	// token, so Token can answer without a cgo call. Invalidate and Close replace it with an
	// empty memo (a "tombstone"), so a token is never served from here after either.
	memo atomic.Pointer[memo]

	// hits counts calls the memo answered: the library never sees them, and Stats adds them to
	// its cache hits. A separate allocation, so that its stripes, written by every call, share no
	// cache line with the memo pointer, read by every call.
	hits *hitCounter

	// The cgo calls in flight for callers that missed the memo (context.go), and how many were
	// started (for tests). invalidations counts Invalidate calls: a caller never joins a flight
	// that started before the latest one.
	flightMu       sync.Mutex
	flights        []*flight
	flightsStarted int
	invalidations  atomic.Uint64

	// mu keeps ptr alive during C calls: calls hold it shared, Close holds it exclusively.
	mu      sync.RWMutex
	ptr     *C.RapidataClient // nil after Close
	log     cgo.Handle        // user_data of the log callback, 0 if none; deleted after ptr is freed
	cleanup runtime.Cleanup
}

// memo is immutable once published. A tombstone has an empty token and a zero deadline.
type memo struct {
	until time.Time // the library's refresh-ahead instant, on the monotonic clock
	info  TokenInfo
	ot    *oauth2.Token // the same token for TokenSource, shared like oauth2.ReuseTokenSource's
}

// TokenInfo is a token with the instants that govern it.
type TokenInfo struct {
	Token     string        // the access token (a secret: do not log it)
	ExpiresAt time.Time     // when the server says it expires (counted from when it was requested)
	RefreshAt time.Time     // from this instant on, the next call renews it
	Lifetime  time.Duration // the lifetime the server granted
}

// String describes the token without revealing it.
func (t TokenInfo) String() string {
	return fmt.Sprintf("TokenInfo{Token: [%d bytes redacted], ExpiresAt: %s, RefreshAt: %s, Lifetime: %s}",
		len(t.Token), t.ExpiresAt.Format(time.RFC3339Nano), t.RefreshAt.Format(time.RFC3339Nano), t.Lifetime)
}

// GoString describes the token without revealing it, for %#v.
func (t TokenInfo) GoString() string { return t.String() }

// cleanupsRun counts clients freed by the garbage collector (for tests).
var cleanupsRun atomic.Int64

// owned is what a Client frees: the C client, then the handle its log callback receives.
type owned struct {
	p   *C.RapidataClient
	log cgo.Handle
}

func freeForgotten(o owned) {
	C.rapidata_free(o.p)
	releaseLog(o.log)
	cleanupsRun.Add(1)
}

// wrap takes ownership of a new C client and of the handle its log callback uses (0 if none).
func wrap(p *C.RapidataClient, log cgo.Handle) *Client {
	c := &Client{ptr: p, log: log, hits: new(hitCounter)}
	c.memo.Store(&memo{})
	c.cleanup = runtime.AddCleanup(c, freeForgotten, owned{p, log})
	return c
}

// New creates a client. Without WithClientCredentials, the client id and secret come from the
// credentials chain (RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_SECRET, then the Rapidata SDK's
// credentials file); every setting not given as an Option comes from its RAPIDATA_* environment
// variable or the library's default. New does no network I/O: the first Token call fetches.
//
// Errors are *Error values: ErrInvalidArgument for an unusable option value, ErrNoCredentials
// when no credentials were found, ErrConfig for a broken credentials file, CA file or
// environment variable.
func New(opts ...Option) (*Client, error) {
	b, err := newBuilder(opts)
	if err != nil {
		return nil, err
	}
	// The C options may be freed before the client: the client copies what it needs, and the
	// log handle passes to the Go Client, which outlives the C client.
	defer C.rapidata_options_free(b.p)
	var p *C.RapidataClient
	var cerr *C.RapidataError
	if st := uint32(C.rapidata_client_new_with_options(b.p, &p, &cerr)); st != C.RAPIDATA_STATUS_OK {
		releaseLog(b.logHandle)
		return nil, takeError(st, cerr)
	}
	return wrap(p, b.logHandle), nil
}

// NewFromEnv creates a client from the environment alone: the credentials chain
// (RAPIDATA_CLIENT_ID and RAPIDATA_CLIENT_SECRET, then RAPIDATA_CREDENTIALS_FILE or
// ~/.config/rapidata/credentials.json) and the RAPIDATA_* settings (RAPIDATA_ISSUER,
// RAPIDATA_ENVIRONMENT, RAPIDATA_CA_FILE, ...). It is New with no options.
func NewFromEnv() (*Client, error) {
	var p *C.RapidataClient
	var cerr *C.RapidataError
	if st := uint32(C.rapidata_client_new(nil, nil, &p, &cerr)); st != C.RAPIDATA_STATUS_OK {
		return nil, takeError(st, cerr)
	}
	return wrap(p, 0), nil
}

// Token returns the current access token, fetching one if none is usable. Concurrent callers
// share one token request; near the end of a token's life one caller renews it while the others
// keep getting the current one (refresh-ahead). On the warm path it makes no cgo call and
// allocates nothing. It is TokenContext(context.Background()): it waits for a fetch for as long
// as the fetch takes (at most the client's deadline).
//
// Errors are *Error values (errors.Is(err, ErrOAuth), ErrTransport, ...; ErrClosed after Close).
func (c *Client) Token() (string, error) {
	return c.TokenContext(context.Background())
}

// TokenInfo returns a token that stays valid for at least minValid more (for example before a
// long upload), with its expiry and refresh instants. If no token of the server's lifetime can
// last that long, the freshest token is returned. A negative minValid counts as zero. It is
// TokenInfoContext(context.Background(), minValid).
func (c *Client) TokenInfo(minValid time.Duration) (TokenInfo, error) {
	return c.TokenInfoContext(context.Background(), minValid)
}

// fetch asks the library (a cgo call, blocking until it answers) and updates the memo. The
// public calls reach it through a flight (context.go).
func (c *Client) fetch(minValidMs uint32) (TokenInfo, error) {
	if c == nil {
		return TokenInfo{}, closedError()
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return TokenInfo{}, closedError()
	}
	loaded := c.memo.Load()
	old := loaded
	if old == nil {
		old = &memo{}
	}
	tok, ci, err := getToken(c.ptr, minValidMs, old.info.Token)
	runtime.KeepAlive(c)
	if err != nil {
		return TokenInfo{}, err
	}
	now := time.Now()
	refreshMs := int64(ci.refresh_at_unix_ms)
	info := TokenInfo{
		Token:     tok,
		ExpiresAt: time.UnixMilli(int64(ci.expires_at_unix_ms)),
		RefreshAt: time.UnixMilli(refreshMs),
		Lifetime:  time.Duration(int64(ci.lifetime_ms)) * time.Millisecond,
	}
	if tok == old.info.Token && info.RefreshAt.Equal(old.info.RefreshAt) {
		return old.info, nil // nothing new to remember (e.g. a refresh is in flight elsewhere)
	}
	// The library reports Unix milliseconds, truncated; one millisecond less keeps the memo from
	// outliving the library's own instant. The deadline carries a monotonic clock reading.
	until := now.Add(time.Duration(refreshMs-now.UnixMilli()-1) * time.Millisecond)
	// Publish only if nothing changed since this call started: an Invalidate or Close in between
	// replaced the memo with a fresh tombstone, and the token this call got may be the one just
	// invalidated. The library only moves forward, so a successful swap never replaces a newer
	// token with an older one.
	c.memo.CompareAndSwap(loaded, &memo{until: until, info: info, ot: oauth2Token(info)})
	return info, nil
}

// Invalidate reports that token was rejected (an API answered 401). The library drops it if it
// is still the cached token, so the next Token call fetches a new one; if the cache already
// holds a newer token nothing happens, so N goroutines reporting the same stale token cause one
// renewal. Invalidate returns whether the token was dropped; it returns false for an empty
// token, a token containing NUL, a nil client and after Close.
func (c *Client) Invalidate(token string) bool {
	if c == nil || token == "" || strings.IndexByte(token, 0) >= 0 {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return false
	}
	ct := C.CString(token)
	defer wipeCString(ct)
	var dropped C.bool
	st := uint32(C.rapidata_invalidate_token(c.ptr, ct, &dropped, nil))
	runtime.KeepAlive(c)
	// Always after the C call, and always a new pointer: a fetch that started before this
	// call and may have got the invalidated token fails its compare-and-swap, and no caller
	// joins its flight any more.
	c.invalidations.Add(1)
	c.memo.Store(&memo{})
	return st == C.RAPIDATA_STATUS_OK && bool(dropped)
}

// RetryNow ends the back-off window that follows a failed fetch: the next Token call that
// needs a token sends a request at once instead of returning the last error (use it once the
// cause is fixed). A server's Retry-After still holds. It returns an error matching ErrClosed
// after Close.
func (c *Client) RetryNow() error {
	if c == nil {
		return closedError()
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return closedError()
	}
	var cerr *C.RapidataError
	st := uint32(C.rapidata_retry_now(c.ptr, &cerr))
	runtime.KeepAlive(c)
	if st != C.RAPIDATA_STATUS_OK {
		return takeError(st, cerr)
	}
	return nil
}

// Close frees the client and wipes its token and secret in the library. It waits for calls in
// progress on other goroutines to finish. Close is idempotent; after it, Token and TokenInfo
// return an error matching ErrClosed, and Invalidate returns false.
func (c *Client) Close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return nil
	}
	c.memo.Store(&memo{})
	c.cleanup.Stop()
	C.rapidata_free(c.ptr)
	c.ptr = nil
	releaseLog(c.log) // only now: the library no longer calls back
	c.log = 0
	return nil
}
