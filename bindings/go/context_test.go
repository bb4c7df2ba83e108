package raptoken

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"
)

// The context-aware calls during a stalled token request: the real test server behind a
// stallingFront that holds the request until the test releases it. Every wait is bounded; the
// stall ends when the test says, so nothing races a timer.

const bound = 20 * time.Second

func flightsStarted(c *Client) int {
	c.flightMu.Lock()
	defer c.flightMu.Unlock()
	return c.flightsStarted
}

// goroutinesBackTo waits (bounded) until the goroutine count is at most baseline: goroutines
// that have finished their work exit asynchronously.
func goroutinesBackTo(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, baseline %d:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTokenContextStall(t *testing.T) {
	// http.DefaultClient (the admin API) keeps idle connections, each with goroutines: none
	// may blur the count.
	http.DefaultClient.CloseIdleConnections()
	baseline := runtime.NumGoroutine()
	front := newStallingFront(t)
	c, id := front.client(t, "basic")

	// 100 goroutines on a cold client while the token request is held.
	const n = 100
	type result struct {
		tok string
		err error
	}
	results := make(chan result, n)
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	for i := 0; i < n; i++ {
		go func() {
			tok, err := c.TokenContext(ctx)
			results <- result{tok, err}
		}()
	}
	front.waitStalls(t, 1, bound)
	stallStart := time.Now()

	// A caller with a 50 ms timeout gives up in time, with context.DeadlineExceeded. The
	// request is held all along, so the wait cannot end any other way; under 100 ms from the
	// call leaves 50 ms for the timer and the scheduler on a loaded machine (-race, GOGC=1).
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	began := time.Now()
	tok, err := c.TokenContext(short)
	took := time.Since(began)
	if tok != "" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a 50 ms caller during the stall got %q, %v; want context.DeadlineExceeded", tok, err)
	}
	var timeout interface{ Timeout() bool }
	if !errors.As(err, &timeout) || !timeout.Timeout() {
		t.Errorf("the deadline error does not report Timeout(): %v", err)
	}
	if took >= 100*time.Millisecond {
		t.Errorf("the 50 ms caller returned after %s, want under 100 ms", took)
	}
	select {
	case r := <-results:
		t.Fatalf("a caller finished while the request was held: %v", r.err)
	default:
	}

	// The stall lasts 1 s in all; then the one request goes through.
	time.Sleep(time.Until(stallStart.Add(time.Second)))
	front.unhold()
	var first string
	for i := 0; i < n; i++ {
		select {
		case r := <-results:
			if r.err != nil || r.tok == "" {
				t.Fatalf("caller: %v", r.err)
			}
			if first == "" {
				first = r.tok
			} else if r.tok != first {
				t.Fatal("callers got different tokens")
			}
		case <-time.After(bound):
			t.Fatalf("only %d of %d callers finished after the release", i, n)
		}
	}
	if got := flightsStarted(c); got != 1 {
		t.Fatalf("%d flights for %d cold callers and a cancelled one, want 1", got, n+1)
	}
	if tok, err := c.Token(); err != nil || tok != first {
		t.Fatalf("Token after the stall: %v (same token: %v)", err, tok == first)
	}

	// Nothing of the client (or the front) is left running.
	front.close()
	c.Close()
	goroutinesBackTo(t, baseline)
	if got := tokenRequests(t, id); got != 1 {
		t.Fatalf("server saw %d token requests, want 1", got)
	}
}

func TestTransportCancelledDuringStallReturnsPromptly(t *testing.T) {
	var seen []string
	var mu sync.Mutex
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer api.Close()
	front := newStallingFront(t)
	c, id := front.client(t, "basic")
	hc := &http.Client{Transport: c.Transport(nil)}

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		err error
		at  time.Time
	}
	done := make(chan outcome, 1)
	go func() {
		resp, err := hc.Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		done <- outcome{err, time.Now()}
	}()
	front.waitStalls(t, 1, bound)
	cancelled := time.Now()
	cancel()
	var o outcome
	select {
	case o = <-done:
	case <-time.After(bound):
		t.Fatal("the request did not end after its context was cancelled")
	}
	if !errors.Is(o.err, context.Canceled) {
		t.Fatalf("err = %v, want one matching context.Canceled", o.err)
	}
	// From the cancel to Do returning is a channel wake-up, not a network wait; 100 ms is
	// generous for that on a loaded machine, and the request is held, so nothing else ends it.
	if took := o.at.Sub(cancelled); took >= 100*time.Millisecond {
		t.Errorf("Do returned %s after the cancel, want under 100 ms", took)
	}
	mu.Lock()
	if len(seen) != 0 {
		t.Errorf("%d requests reached the API without a token", len(seen))
	}
	mu.Unlock()

	// The fetch went on; the next request gets its token.
	front.unhold()
	resp, err := hc.Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tok := mustToken(t, c)
	mu.Lock()
	if len(seen) != 1 || seen[0] != "Bearer "+tok {
		t.Errorf("the API saw %d requests, or not the client's token", len(seen))
	}
	mu.Unlock()
	if got := tokenRequests(t, id); got != 1 {
		t.Fatalf("server saw %d token requests, want 1", got)
	}
}

func TestTokenContextWarmAllocatesNothing(t *testing.T) {
	c, _ := newTestClient(t, "basic")
	want := mustToken(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := flightsStarted(c)
	allocs := testing.AllocsPerRun(1000, func() {
		if tok, err := c.TokenContext(ctx); err != nil || tok != want {
			t.Fatal("warm TokenContext failed")
		}
		if info, err := c.TokenInfoContext(ctx, time.Minute); err != nil || info.Token != want {
			t.Fatal("warm TokenInfoContext failed")
		}
	})
	if allocs != 0 {
		t.Errorf("warm TokenContext + TokenInfoContext: %v allocations per run, want 0", allocs)
	}
	if got := flightsStarted(c); got != before {
		t.Errorf("warm calls started %d flights", got-before)
	}
}

func TestRenewalAheadDoesNotBlockContextCallers(t *testing.T) {
	// A 3 s token: renewal starts 1.2 s after the request, the token is served until 2.7 s.
	// Past the refresh instant, with the renewal request held, callers still get the current
	// token at once, as they do from the library.
	front := newStallingFront(t)
	front.unhold()
	c, id := front.client(t, "short")
	first, err := c.TokenInfo(0)
	if err != nil {
		t.Fatal(err)
	}
	front.hold()
	waitUntil(t, first.RefreshAt.Add(50*time.Millisecond), 5*time.Second)

	ctx, cancel := context.WithDeadline(context.Background(), first.ExpiresAt.Add(-300*time.Millisecond))
	defer cancel()
	for i := 0; i < 5; i++ {
		tok, err := c.TokenContext(ctx)
		if err != nil {
			t.Fatalf("during the renewal: %v (callers waited for the held request)", err)
		}
		if tok != first.Token {
			t.Fatal("during the renewal: not the current token")
		}
	}
	front.waitStalls(t, 1, bound) // the renewal is the one held
	front.unhold()
	deadline := time.Now().Add(bound)
	for {
		tok, err := c.TokenContext(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if tok != first.Token {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the renewal never landed")
		}
		time.Sleep(10 * time.Millisecond) // until the released renewal lands; bounded
	}
	if got := tokenRequests(t, id); got != 2 {
		t.Fatalf("server saw %d token requests, want 2", got)
	}
}

func TestFailedFetchReachesEveryWaiterAndIsRetried(t *testing.T) {
	e := env(t)
	id, _ := freshID(t, "basic")
	c, err := New(WithClientCredentials(id, "not-the-secret"), WithIssuer(e.issuer), WithCAFile(e.caFile))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func(i int) { defer wg.Done(); _, errs[i] = c.TokenContext(context.Background()) }(i)
	}
	wg.Wait()
	for _, err := range errs {
		var re *Error
		if !errors.Is(err, ErrOAuth) || !errors.As(err, &re) || re.OAuthCode != "invalid_client" {
			t.Fatalf("err = %v, want invalid_client", err)
		}
	}
	before := flightsStarted(c)
	if _, err := c.TokenInfoContext(context.Background(), 0); !errors.Is(err, ErrOAuth) {
		t.Fatalf("second try: %v", err)
	}
	if flightsStarted(c) != before+1 {
		t.Fatal("a failed fetch was not tried again by the next caller")
	}
}

func TestContextCallsAfterCloseAndOnNil(t *testing.T) {
	c, _ := newTestClient(t, "basic")
	c.Close()
	if _, err := c.TokenContext(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("TokenContext after Close: %v", err)
	}
	var nilClient *Client
	if _, err := nilClient.TokenInfoContext(context.Background(), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("TokenInfoContext on nil: %v", err)
	}
}

func TestCancelCauseIsKept(t *testing.T) {
	front := newStallingFront(t)
	c, _ := front.client(t, "basic")
	ctx, cancel := context.WithCancelCause(context.Background())
	why := errors.New("the user went away")
	cancel(why)
	_, err := c.TokenContext(ctx)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, why) {
		t.Fatalf("err = %v, want context.Canceled and the cause", err)
	}
	var re *Error
	if errors.As(err, &re) {
		t.Fatal("a cancelled wait is not a library error")
	}
	front.unhold()
}
