package raptoken

import (
	"context"
	"net/http"
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
// "raptoken-tokensource" is the oauth2.TokenSource adapter (one *oauth2.Token per call).
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
