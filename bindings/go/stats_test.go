package raptoken

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestStatsCountHitsAndRequests(t *testing.T) {
	c, id := newTestClient(t, "basic")
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s != (Stats{}) {
		t.Fatalf("a new client's stats are not zero: %+v", s)
	}
	start := time.Now()
	for i := 0; i < 20; i++ {
		mustToken(t, c) // the first fetches, 19 come from the memo
	}
	for i := 0; i < 5; i++ {
		if _, err := c.TokenInfo(0); err != nil { // memo
			t.Fatal(err)
		}
		if _, err := c.fetch(0); err != nil { // the library's cache, through cgo
			t.Fatal(err)
		}
		if _, err := c.TokenSource().Token(); err != nil { // memo
			t.Fatal(err)
		}
	}
	s, err = c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.CacheHits != 19+5+5+5 || s.TokenRequests != 1 || s.DiscoveryRequests != 1 || s.FetchesOK != 1 {
		t.Fatalf("stats %+v; want 34 hits, 1 token and 1 discovery request, 1 fetch", s)
	}
	if s.FetchesFailed != 0 || s.Retries != 0 || s.Throttled != 0 || s.KeptServing != 0 || s.LastErrorStatus != StatusOK ||
		s.LastErrorHTTPStatus != 0 || !s.LastError.IsZero() || !s.ThrottledUntil.IsZero() {
		t.Fatalf("failure counters set after a success: %+v", s)
	}
	if s.LastSuccess.Before(start.Add(-time.Second)) || s.LastSuccess.After(time.Now().Add(time.Second)) {
		t.Fatalf("LastSuccess %s not during the test (started %s)", s.LastSuccess, start)
	}
	if n := tokenRequests(t, id); uint64(n) != s.TokenRequests {
		t.Fatalf("the server saw %d token requests, Stats says %d", n, s.TokenRequests)
	}

	// Hits from many goroutines at once are all counted (the counter is striped).
	const goroutines, calls = 8, 1000
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < calls; i++ {
				c.Token()
			}
		}()
	}
	wg.Wait()
	s2, _ := c.Stats()
	if s2.CacheHits != s.CacheHits+goroutines*calls || s2.TokenRequests != 1 {
		t.Fatalf("after %d concurrent calls: hits %d (before %d), token requests %d", goroutines*calls, s2.CacheHits, s.CacheHits, s2.TokenRequests)
	}

	// A failed fetch: the OAuth error's status and HTTP status.
	e := env(t)
	wrongID, _ := freshID(t, "basic")
	bad, err := New(WithClientCredentials(wrongID, "wrong-secret"), WithIssuer(e.issuer), WithCAFile(e.caFile))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if _, err := bad.Token(); !errors.Is(err, ErrOAuth) {
		t.Fatalf("want ErrOAuth, got %v", err)
	}
	if s, _ := bad.Stats(); s.FetchesFailed != 1 || s.LastErrorStatus != StatusOAuth || s.LastErrorHTTPStatus != 401 ||
		s.LastError.IsZero() || s.Retries != 0 || s.TokenRequests != 1 {
		t.Fatalf("after invalid_client: %+v", s)
	}

	c.Close()
	if _, err := c.Stats(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Stats after Close: %v", err)
	}
	var nilClient *Client
	if _, err := nilClient.Stats(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Stats on a nil client: %v", err)
	}
}
