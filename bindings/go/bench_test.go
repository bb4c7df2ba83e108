package raptoken

import (
	"context"
	"net/http"
	"runtime/pprof"
	"sync"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// BenchmarkToken measures a warm Token() call beside golang.org/x/oauth2's answer to the same
// job, clientcredentials.Config.TokenSource (an oauth2.ReuseTokenSource over the client
// credentials grant), against the same local server, serial and with b.RunParallel:
//
//	../../testing/with-oidc-server.sh go test -run '^$' -bench BenchmarkToken -benchmem
//
// "raptoken" is the public Token(), served from the Go-side memo; "raptoken-cgo" is the
// library's own warm path through cgo (what every call would cost without the memo);
// "raptoken-tokensource" is the oauth2.TokenSource adapter (one *oauth2.Token per call);
// "raptoken-context" is TokenContext with a cancellable context (the same memo path as Token).
func BenchmarkToken(b *testing.B) {
	e := env(b)
	c, id := newTestClient(b, "basic")
	want := mustToken(b, c)

	cfg := clientcredentials.Config{
		ClientID:     id,
		ClientSecret: "secret-" + id,
		TokenURL:     e.tokenEndpoint,
		Scopes:       []string{"openid", "roles", "email"},
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: apiTransport(b)})
	ots := cfg.TokenSource(ctx)
	if t, err := ots.Token(); err != nil || t.AccessToken == "" {
		b.Fatalf("oauth2: %v", err)
	}
	rts := c.TokenSource()

	check := func(b *testing.B, tok string, err error) {
		if err != nil || tok != want {
			b.Fatalf("token changed or failed: %v", err)
		}
	}
	b.Run("raptoken", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			tok, err := c.Token()
			if err != nil || len(tok) == 0 {
				b.Fatal(err)
			}
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.Run("raptoken-context", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			tok, err := c.TokenContext(ctx)
			if err != nil || len(tok) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("oauth2", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			t, err := ots.Token()
			if err != nil || len(t.AccessToken) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("raptoken-cgo", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			info, err := c.fetch(0)
			if err != nil || len(info.Token) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("raptoken-tokensource", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			t, err := rts.Token()
			if err != nil || len(t.AccessToken) == 0 {
				b.Fatal(err)
			}
		}
	})
	b.Run("raptoken-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				tok, err := c.Token()
				if err != nil || len(tok) == 0 {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("raptoken-context-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				tok, err := c.TokenContext(ctx)
				if err != nil || len(tok) == 0 {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("oauth2-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				t, err := ots.Token()
				if err != nil || len(t.AccessToken) == 0 {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("raptoken-cgo-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				info, err := c.fetch(0)
				if err != nil || len(info.Token) == 0 {
					b.Error(err)
					return
				}
			}
		})
	})
	tok, err := c.Token()
	check(b, tok, err)
}

// BenchmarkTokenColdBurst counts the OS threads a cold-start burst creates: 100 goroutines
// asking a cold client for a token while the test server holds token responses back 1 s (its
// slow-* clients, POST /delay). "cgo-per-caller" is how Token worked before TokenContext: each
// goroutine makes its own blocking cgo call, and each blocked cgo call holds an OS thread, so
// the runtime starts new ones for the other goroutines. "shared-flight" is Token now: one
// goroutine per client makes the cgo call and the callers wait on a channel. The metric is
// threads created (runtime/pprof's threadcreate profile); ns/op is not meaningful. Each burst
// runs once per process, whatever b.N and however often the framework calls the function
// (threads, once created, stay for reuse: a second burst would count none); the shared flight
// goes first, so threads the other leaves behind cannot serve it.
func BenchmarkTokenColdBurst(b *testing.B) {
	run := func(name string, call func(c *Client) error) {
		b.Run(name, func(b *testing.B) {
			burstOnce.Lock()
			defer burstOnce.Unlock()
			n, done := burstThreads[name]
			if !done {
				n = coldBurst(b, call)
				burstThreads[name] = n
			}
			b.ReportMetric(float64(n), "threads")
			b.ReportMetric(0, "ns/op")
		})
	}
	run("shared-flight", func(c *Client) error { _, err := c.TokenContext(context.Background()); return err })
	run("cgo-per-caller", func(c *Client) error { _, err := c.fetch(0); return err })
}

var (
	burstOnce    sync.Mutex
	burstThreads = map[string]int{}
)

func coldBurst(b *testing.B, call func(c *Client) error) int {
	adminCall(b, http.MethodPost, "/delay?ms=1000", nil)
	defer adminCall(b, http.MethodPost, "/delay?ms=0", nil)
	c, _ := newTestClient(b, "slow")
	threads := pprof.Lookup("threadcreate")
	before := threads.Count()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- call(c) }()
	}
	wg.Wait()
	created := threads.Count() - before
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return created
}
