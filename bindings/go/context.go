package raptoken

import (
	"context"
	"errors"
	"math"
	"time"
)

// The context-aware calls. The cgo call stays blocking (and cannot be interrupted); what a
// context bounds is the wait for it:
//
//   - A hit (the memo serves) returns at once, without looking at the context.
//   - A miss runs the cgo call on a goroutine of the client's (a "flight"), shared by every
//     caller that misses while it runs; callers select on it and on ctx.Done(). A caller whose
//     context ends stops waiting; the flight goes on for the others and ends within the
//     client's deadline (WithDeadline). So 100 waiting goroutines hold no OS thread, where 100
//     cgo calls would hold 100.
//   - Refresh-ahead never blocks: past the refresh instant the library renews on a thread of
//     its own and answers every call, the flight's included, with the current token at once.

// flight is one cgo call made for the callers that missed the memo. info and err are written
// before done is closed and only read after.
type flight struct {
	minValidMs uint32
	gen        uint64 // the client's invalidation count when it started
	done       chan struct{}
	info       TokenInfo
	err        error
}

// TokenContext is Token with a context: it returns the current access token, fetching one if
// none is usable, and gives up waiting when ctx is done. A warm call answers from the memo, as
// Token does, without looking at ctx (no cgo call, no allocation). Otherwise one goroutine per
// client makes the cgo call and every concurrent caller waits for it; a caller whose ctx ends
// first gets an error for which errors.Is(err, context.Canceled) or errors.Is(err,
// context.DeadlineExceeded) holds, and the fetch goes on for the other callers: one caller's
// context never cancels it.
//
// A cgo call cannot be interrupted, so the fetch itself runs to its own end: within the
// client's deadline (WithDeadline, 30 s by default; WithRequestTimeout bounds each attempt). Its
// goroutine and OS thread are busy until then, whoever still waits; its result is kept, so the
// next call is served at once.
func (c *Client) TokenContext(ctx context.Context) (string, error) {
	if c != nil {
		if m := c.memo.Load(); m != nil && time.Until(m.until) > 0 {
			c.hits.add()
			return m.info.Token, nil
		}
	}
	info, err := c.wait(ctx, 0)
	return info.Token, err
}

// TokenInfoContext is TokenInfo with a context: a token that stays valid for at least minValid
// more, with its instants; waiting and cancellation as in TokenContext.
func (c *Client) TokenInfoContext(ctx context.Context, minValid time.Duration) (TokenInfo, error) {
	if minValid < 0 {
		minValid = 0
	}
	if c != nil {
		// The library would return the memoized token while it is before the refresh instant
		// and (refresh instant <= usable-until) the token has minValid left.
		if m := c.memo.Load(); m != nil && time.Until(m.until) > minValid {
			c.hits.add()
			return m.info, nil
		}
	}
	return c.wait(ctx, minValid)
}

// wait joins (or starts) the flights for minValid and waits for the first to land or for ctx.
func (c *Client) wait(ctx context.Context, minValid time.Duration) (TokenInfo, error) {
	if c == nil {
		return TokenInfo{}, closedError()
	}
	if ctx == nil {
		ctx = context.Background()
	}
	f := c.join(minValid)
	select {
	case <-f.done:
		return f.info, f.err
	case <-ctx.Done():
		return TokenInfo{}, contextError(ctx)
	}
}

// join returns the flight for minValid that a caller arriving now waits for, starting it if
// there is none.
func (c *Client) join(minValid time.Duration) *flight {
	ms := minValidMillis(minValid)
	gen := c.invalidations.Load()
	c.flightMu.Lock()
	defer c.flightMu.Unlock()
	for _, f := range c.flights {
		// A flight from before an Invalidate may bring the invalidated token: not joined.
		if f.minValidMs == ms && f.gen == gen {
			return f
		}
	}
	f := &flight{minValidMs: ms, gen: gen, done: make(chan struct{})}
	c.flights = append(c.flights, f)
	c.flightsStarted++
	go c.fly(f)
	return f
}

// fly makes the cgo call for f, then lands it: out of the list first, so a caller that finds a
// flight finds one still running, then done.
func (c *Client) fly(f *flight) {
	f.info, f.err = c.fetch(f.minValidMs)
	c.flightMu.Lock()
	for i, g := range c.flights {
		if g == f {
			c.flights = append(c.flights[:i], c.flights[i+1:]...)
			break
		}
	}
	c.flightMu.Unlock()
	close(f.done)
}

// minValidMillis is millis (options.go) for a min_valid_ms argument (d >= 0): longer than the
// C API can say means "as long as it can", not an error.
func minValidMillis(d time.Duration) uint32 {
	ms, err := millis(d, "minValid")
	if err != nil {
		return math.MaxUint32
	}
	return ms
}

// waitError is the error of a caller whose context ended before its token came. It is not an
// *Error (the library did not fail): it wraps ctx.Err() (and the cancel cause, if one was
// given), so errors.Is(err, context.Canceled) or errors.Is(err, context.DeadlineExceeded) holds.
type waitError struct {
	err   error // ctx.Err()
	cause error // context.Cause(ctx) if it differs, else nil
}

func contextError(ctx context.Context) error {
	e := &waitError{err: ctx.Err()}
	if cause := context.Cause(ctx); cause != nil && cause != e.err {
		e.cause = cause
	}
	return e
}

func (e *waitError) Error() string {
	s := "raptoken: stopped waiting for the token request: " + e.err.Error()
	if e.cause != nil {
		s += " (" + e.cause.Error() + ")"
	}
	return s
}

func (e *waitError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.err, e.cause}
	}
	return []error{e.err}
}

// Timeout reports whether the context's deadline passed (net/http's url.Error asks).
func (e *waitError) Timeout() bool { return errors.Is(e.err, context.DeadlineExceeded) }
