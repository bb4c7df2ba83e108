package raptoken

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func mustToken(t testing.TB, c *Client) string {
	t.Helper()
	tok, err := c.Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok == "" {
		t.Fatal("Token returned an empty token without an error")
	}
	return tok
}

// apiStatus calls the test server's protected API with the token and returns the HTTP status.
func apiStatus(t testing.TB, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, env(t).api, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Transport: apiTransport(t)}).Do(req)
	if err != nil {
		t.Fatalf("API call: %v", err)
	}
	drain(resp)
	return resp.StatusCode
}

func TestVersion(t *testing.T) {
	if v := Version(); v != headerVersion || v == "" {
		t.Fatalf("Version() = %q, header says %q", v, headerVersion)
	}
}

func TestTokenFetchAndReuse(t *testing.T) {
	c, id := newTestClient(t, "basic")
	t1 := mustToken(t, c)
	if got := apiStatus(t, t1); got != 200 {
		t.Fatalf("the API answered %d to the token", got)
	}
	for i := 0; i < 100; i++ {
		if t2 := mustToken(t, c); t2 != t1 {
			t.Fatal("a warm Token call returned a different token")
		}
	}
	info, err := c.TokenInfo(0)
	if err != nil || info.Token != t1 {
		t.Fatalf("TokenInfo: %v, same token: %v", err, info.Token == t1)
	}
	// The library's own warm path (the cgo call the memo saves) returns the same token too.
	for i := 0; i < 10; i++ {
		if got, err := c.fetch(0); err != nil || got.Token != t1 {
			t.Fatalf("fetch: %v, same token: %v", err, got.Token == t1)
		}
	}
	if n := tokenRequests(t, id); n != 1 {
		t.Fatalf("server saw %d token requests, want 1", n)
	}
	now := time.Now()
	if info.Lifetime != time.Hour {
		t.Errorf("Lifetime = %s, want 1h", info.Lifetime)
	}
	if d := info.ExpiresAt.Sub(now); d < 59*time.Minute || d > time.Hour {
		t.Errorf("ExpiresAt is %s away, want about 1h", d)
	}
	if !info.RefreshAt.Before(info.ExpiresAt) || !info.RefreshAt.After(now) {
		t.Errorf("RefreshAt %s not between now and ExpiresAt %s", info.RefreshAt, info.ExpiresAt)
	}
	if s := fmt.Sprintf("%v %+v %#v", info, info, info); strings.Contains(s, t1) {
		t.Errorf("formatting a TokenInfo shows the token: %s", s)
	}
}

func TestTokenInfoMinValid(t *testing.T) {
	c, id := newTestClient(t, "basic")
	t1 := mustToken(t, c)
	// 10 minutes fit before the refresh instant of a 1-hour token: served from the memo.
	info, err := c.TokenInfo(10 * time.Minute)
	if err != nil || info.Token != t1 {
		t.Fatalf("TokenInfo(10m): %v, same token: %v", err, info.Token == t1)
	}
	// Longer than any 1-hour token can last: the library serves the freshest token it has.
	info, err = c.TokenInfo(2 * time.Hour)
	if err != nil || info.Token != t1 {
		t.Fatalf("TokenInfo(2h): %v, same token: %v", err, info.Token == t1)
	}
	if _, err := c.TokenInfo(-time.Second); err != nil {
		t.Fatalf("TokenInfo(negative): %v", err)
	}
	if n := tokenRequests(t, id); n != 1 {
		t.Fatalf("server saw %d token requests, want 1", n)
	}
}

func TestShortTokenRenewedAtRefreshInstant(t *testing.T) {
	c, id := newTestClient(t, "short")
	info, err := c.TokenInfo(0)
	if err != nil {
		t.Fatal(err)
	}
	if info.Lifetime != 3*time.Second {
		t.Fatalf("Lifetime = %s, want 3s", info.Lifetime)
	}
	// Until the refresh instant the same token comes back (from the memo).
	if tok := mustToken(t, c); tok != info.Token {
		t.Fatal("token changed before the refresh instant")
	}
	waitUntil(t, info.RefreshAt.Add(5*time.Millisecond), 5*time.Second)
	// From the refresh instant on, a call starts the renewal; callers get the current token
	// meanwhile (the renewal runs in a flight: see context.go), then the renewed one.
	t2 := mustToken(t, c)
	for deadline := time.Now().Add(5 * time.Second); t2 == info.Token; t2 = mustToken(t, c) {
		if time.Now().After(deadline) {
			t.Fatal("5 s after the refresh instant Token still returned the old token")
		}
		time.Sleep(5 * time.Millisecond) // until the renewal lands; bounded
	}
	if time.Now().After(info.ExpiresAt) {
		t.Fatal("the renewal landed only after the old token expired")
	}
	if n := tokenRequests(t, id); n != 2 {
		t.Fatalf("server saw %d token requests, want 2", n)
	}
	if got := apiStatus(t, t2); got != 200 {
		t.Fatalf("the API answered %d to the renewed token", got)
	}
}

func TestInvalidClientIsTypedError(t *testing.T) {
	e := env(t)
	id, _ := freshID(t, "basic")
	const wrong = "definitely-not-the-secret"
	c, err := New(WithClientCredentials(id, wrong), WithIssuer(e.issuer), WithCAFile(e.caFile))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tok, err := c.Token()
	if err == nil || tok != "" {
		t.Fatalf("Token with a wrong secret: %q, %v", tok, err)
	}
	if !errors.Is(err, ErrOAuth) || errors.Is(err, ErrTransport) || errors.Is(err, ErrClosed) {
		t.Fatalf("errors.Is: want ErrOAuth only, got %v", err)
	}
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("errors.As(*Error) failed for %T", err)
	}
	if re.Status != StatusOAuth || re.OAuthCode != "invalid_client" || re.HTTPStatus != 401 || re.Message == "" {
		t.Fatalf("error fields: %+v", *re)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Fatalf("the error message contains the secret: %s", err)
	}
	// Wrapped errors still match.
	wrapped := fmt.Errorf("calling rapidata: %w", err)
	if !errors.Is(wrapped, ErrOAuth) || !errors.As(wrapped, &re) {
		t.Fatal("a wrapped *Error no longer matches")
	}
}

func TestWrongCAIsTransportError(t *testing.T) {
	e := env(t)
	id, secret := freshID(t, "basic")
	c, err := New(WithClientCredentials(id, secret), WithIssuer(e.issuer), WithCAFile(e.wrongCAFile))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Token()
	var re *Error
	if !errors.Is(err, ErrTransport) || !errors.As(err, &re) || re.HTTPStatus != 0 {
		t.Fatalf("want a transport error, got %v", err)
	}
	if n := tokenRequests(t, id); n != 0 {
		t.Fatalf("a token request got through despite the wrong CA (%d)", n)
	}

	// A CA file that does not exist is a configuration error, reported by New.
	_, err = New(WithClientCredentials(id, secret), WithIssuer(e.issuer), WithCAFile(filepath.Join(t.TempDir(), "none.pem")))
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("missing CA file: want ErrConfig, got %v", err)
	}
}

func TestMisuseGivesClearErrors(t *testing.T) {
	e := env(t)
	creds := WithClientCredentials("basic-63", "secret-basic-63")
	cases := []struct {
		name string
		opts []Option
		want error
	}{
		{"empty client id", []Option{WithClientCredentials("", "secret")}, ErrInvalidArgument},
		{"empty secret", []Option{WithClientCredentials("id", "")}, ErrInvalidArgument},
		{"NUL in secret", []Option{WithClientCredentials("id", "se\x00cret")}, ErrInvalidArgument},
		{"empty issuer", []Option{creds, WithIssuer("")}, ErrInvalidArgument},
		{"plain http issuer", []Option{creds, WithIssuer("http://auth.example.com")}, ErrInvalidArgument},
		{"NUL in issuer", []Option{creds, WithIssuer(e.issuer + "\x00x")}, ErrInvalidArgument},
		{"empty environment", []Option{creds, WithEnvironment("")}, ErrInvalidArgument},
		{"bad environment", []Option{creds, WithEnvironment("not a domain")}, ErrInvalidArgument},
		{"empty token endpoint", []Option{creds, WithTokenEndpoint("")}, ErrInvalidArgument},
		{"bad scope", []Option{creds, WithScope("openid \"quoted\"")}, ErrInvalidArgument},
		{"empty CA file", []Option{creds, WithCAFile("")}, ErrInvalidArgument},
		{"empty credentials file", []Option{creds, WithCredentialsFile("")}, ErrInvalidArgument},
		{"unknown auth method", []Option{creds, WithAuthMethod(AuthMethod(7))}, ErrInvalidArgument},
		{"zero connect timeout", []Option{creds, WithConnectTimeout(0)}, ErrInvalidArgument},
		{"negative request timeout", []Option{creds, WithRequestTimeout(-time.Second)}, ErrInvalidArgument},
		{"zero request timeout", []Option{creds, WithRequestTimeout(0)}, ErrInvalidArgument},
		{"huge expiry margin", []Option{creds, WithExpiryMargin(100 * 24 * time.Hour)}, ErrInvalidArgument},
		{"negative refresh-ahead", []Option{creds, WithRefreshAhead(-1)}, ErrInvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.opts...)
			if c != nil || !errors.Is(err, tc.want) {
				t.Fatalf("New: client %v, error %v; want %v", c != nil, err, tc.want)
			}
			var re *Error
			if !errors.As(err, &re) || re.Message == "" || !strings.HasPrefix(err.Error(), "raptoken: ") {
				t.Fatalf("unclear error: %#v", err)
			}
			t.Logf("%s: %v", tc.name, err)
		})
	}

	// A nil Option is ignored; valid zero values are accepted.
	c, err := New(nil, creds, WithIssuer(e.issuer), WithCAFile(e.caFile), WithScope(""), WithRefreshAhead(0), WithExpiryMargin(0))
	if err != nil {
		t.Fatalf("New with nil option and zero values: %v", err)
	}
	c.Close()

	// A nil *Client reports ErrClosed instead of crashing.
	var nilClient *Client
	if _, err := nilClient.Token(); !errors.Is(err, ErrClosed) || !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("nil client Token: %v", err)
	}
	if _, err := nilClient.TokenInfo(0); !errors.Is(err, ErrClosed) {
		t.Fatalf("nil client TokenInfo: %v", err)
	}
	if nilClient.Invalidate("x") || nilClient.Close() != nil {
		t.Fatal("nil client Invalidate/Close")
	}
	// So does a zero Client.
	if _, err := new(Client).Token(); !errors.Is(err, ErrClosed) {
		t.Fatalf("zero client Token: %v", err)
	}

	// Invalidate with an empty or NUL-carrying token does nothing.
	c2, _ := newTestClient(t, "basic")
	tok := mustToken(t, c2)
	if c2.Invalidate("") || c2.Invalidate(tok+"\x00") || c2.Invalidate("not-the-token") {
		t.Fatal("Invalidate dropped something it should not have")
	}
	if mustToken(t, c2) != tok {
		t.Fatal("the token changed after no-op invalidations")
	}
}

func TestNoCredentials(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("RAPIDATA_CLIENT_ID", "")
	t.Setenv("RAPIDATA_CLIENT_SECRET", "")
	t.Setenv("RAPIDATA_CREDENTIALS_FILE", filepath.Join(home, "no-such-credentials.json"))
	for name, mk := range map[string]func() (*Client, error){
		"NewFromEnv": NewFromEnv,
		"New":        func() (*Client, error) { return New() },
	} {
		c, err := mk()
		var re *Error
		if c != nil || !errors.Is(err, ErrNoCredentials) || !errors.As(err, &re) || re.Message == "" {
			t.Fatalf("%s without credentials: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestNewFromEnv(t *testing.T) {
	e := env(t)
	id, secret := freshID(t, "basic")
	t.Setenv("RAPIDATA_CLIENT_ID", id)
	t.Setenv("RAPIDATA_CLIENT_SECRET", secret)
	t.Setenv("RAPIDATA_ISSUER", e.issuer)
	t.Setenv("RAPIDATA_CA_FILE", e.caFile)
	c, err := NewFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := apiStatus(t, mustToken(t, c)); got != 200 {
		t.Fatalf("API answered %d", got)
	}
	if n := tokenRequests(t, id); n != 1 {
		t.Fatalf("server saw %d token requests, want 1", n)
	}
}

func TestEveryOption(t *testing.T) {
	e := env(t)
	id, secret := freshID(t, "post")
	c, err := New(
		WithClientCredentials(id, secret),
		WithEnvironment("rabbitdata.ch"), // overridden by the explicit issuer
		WithIssuer(e.issuer),
		WithTokenEndpoint(e.tokenEndpoint),
		WithScope("openid email"),
		WithCAFile(e.caFile),
		WithCredentialsFile(filepath.Join(t.TempDir(), "unused.json")),
		WithAuthMethod(ClientSecretPost),
		WithConnectTimeout(2*time.Second),
		WithRequestTimeout(5*time.Second),
		WithExpiryMargin(time.Minute),
		WithRefreshAhead(2*time.Minute),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info, err := c.TokenInfo(0)
	if err != nil {
		t.Fatal(err)
	}
	// Refresh instant = expiry - margin - refresh-ahead window.
	if d := info.ExpiresAt.Sub(info.RefreshAt); d < 3*time.Minute-time.Second || d > 3*time.Minute+time.Second {
		t.Fatalf("ExpiresAt - RefreshAt = %s, want 3m (1m margin + 2m window)", d)
	}
	if got := apiStatus(t, info.Token); got != 200 {
		t.Fatalf("API answered %d", got)
	}

	// The auth method matters: a post-only client authenticating with Basic is refused.
	id2, secret2 := freshID(t, "post")
	c2, err := New(WithClientCredentials(id2, secret2), WithIssuer(e.issuer), WithCAFile(e.caFile), WithAuthMethod(ClientSecretBasic))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Token(); !errors.Is(err, ErrOAuth) {
		t.Fatalf("Basic for a post client: want ErrOAuth, got %v", err)
	}

	// Special characters in the secret survive both methods.
	for _, m := range []struct {
		id     string
		method AuthMethod
	}{{"special", ClientSecretBasic}, {"special-post", ClientSecretPost}} {
		c3, err := New(WithClientCredentials(m.id, "s3cr+t: /%&= x"), WithIssuer(e.issuer), WithCAFile(e.caFile), WithAuthMethod(m.method))
		if err != nil {
			t.Fatal(err)
		}
		mustToken(t, c3)
		c3.Close()
	}
}

func TestColdClientUnderContentionMakesOneRequest(t *testing.T) {
	// slow-* clients get their token response after the admin-set delay, so all 64 goroutines
	// are surely waiting while the one request is in flight.
	adminCall(t, http.MethodPost, "/delay?ms=300", nil)
	defer adminCall(t, http.MethodPost, "/delay?ms=0", nil)
	c, id := newTestClient(t, "slow")
	const n = 64
	var start, done sync.WaitGroup
	start.Add(1)
	tokens := make([]string, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		done.Add(1)
		go func(i int) {
			defer done.Done()
			start.Wait()
			tokens[i], errs[i] = c.Token()
		}(i)
	}
	start.Done()
	done.Wait()
	for i := range tokens {
		if errs[i] != nil || tokens[i] != tokens[0] || tokens[i] == "" {
			t.Fatalf("goroutine %d: %v (same token: %v)", i, errs[i], tokens[i] == tokens[0])
		}
	}
	if got := tokenRequests(t, id); got != 1 {
		t.Fatalf("%d goroutines on a cold client caused %d token requests, want 1", n, got)
	}
}

func TestInvalidateDropsMemo(t *testing.T) {
	c, id := newTestClient(t, "basic")
	t1 := mustToken(t, c)
	if !c.Invalidate(t1) {
		t.Fatal("Invalidate(current token) = false")
	}
	t2 := mustToken(t, c)
	if t2 == t1 {
		t.Fatal("Token returned the invalidated token")
	}
	if c.Invalidate(t1) {
		t.Fatal("Invalidate(stale token) = true")
	}
	if mustToken(t, c) != t2 {
		t.Fatal("a stale invalidation changed the token")
	}
	if n := tokenRequests(t, id); n != 2 {
		t.Fatalf("server saw %d token requests, want 2", n)
	}
}

func TestBufferTooSmallIsRetried(t *testing.T) {
	c, id := newTestClient(t, "basic")
	saved := scratchPool.New
	scratchPool = sync.Pool{New: func() any { return &scratch{buf: make([]byte, 1)} }}
	defer func() { scratchPool = sync.Pool{New: saved} }()
	info, err := c.fetch(0)
	if err != nil {
		t.Fatal(err)
	}
	if info.Token == "" || apiStatus(t, info.Token) != 200 {
		t.Fatal("the token read through a 1-byte starting buffer is not valid")
	}
	if tokenRequests(t, id) != 1 {
		t.Fatal("buffer growth caused extra token requests")
	}
}

func TestTokenSourceDrivesOAuth2Client(t *testing.T) {
	c, id := newTestClient(t, "basic")
	want := mustToken(t, c)
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+want {
			http.Error(w, "wrong bearer", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "hello")
	}))
	defer api.Close()

	ts := c.TokenSource()
	ot, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	info, _ := c.TokenInfo(0)
	if ot.AccessToken != want || ot.Type() != "Bearer" || ot.Expiry.IsZero() || !ot.Valid() {
		t.Fatalf("oauth2 token: same token %v, type %q, expiry %s, valid %v", ot.AccessToken == want, ot.Type(), ot.Expiry, ot.Valid())
	}
	if ot.Expiry.After(info.ExpiresAt) || !ot.Expiry.Equal(info.RefreshAt.Add(oauth2ExpiryDelta)) {
		t.Fatalf("Expiry %s; want RefreshAt+10s = %s (ExpiresAt %s)", ot.Expiry, info.RefreshAt.Add(oauth2ExpiryDelta), info.ExpiresAt)
	}

	hc := oauth2.NewClient(context.Background(), ts)
	for i := 0; i < 5; i++ {
		resp, err := hc.Get(api.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "hello" {
			t.Fatalf("API: %s %q", resp.Status, body)
		}
	}
	if calls.Load() != 5 || tokenRequests(t, id) != 1 {
		t.Fatalf("API calls %d, token requests %d", calls.Load(), tokenRequests(t, id))
	}

	// With the real API behind TLS: oauth2's client honours the context's HTTP client.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: apiTransport(t)})
	resp, err := oauth2.NewClient(ctx, ts).Get(env(t).api)
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	if resp.StatusCode != 200 {
		t.Fatalf("real API through oauth2.NewClient: %s", resp.Status)
	}
}

func TestTokenSourceShortTokenExpiry(t *testing.T) {
	c, _ := newTestClient(t, "short")
	ot, err := c.TokenSource().Token()
	if err != nil {
		t.Fatal(err)
	}
	info, _ := c.TokenInfo(0)
	// RefreshAt + 10 s is past a 3-second token's expiry: Expiry is the real expiry, so
	// oauth2's ReuseTokenSource asks raptoken on every call.
	if !ot.Expiry.Equal(info.ExpiresAt) || ot.Valid() {
		t.Fatalf("Expiry %s, ExpiresAt %s, oauth2 Valid %v", ot.Expiry, info.ExpiresAt, ot.Valid())
	}
}

// rejectingAPI answers 401 to the tokens in reject (or to the first token it sees, if
// rejectFirst), 200 otherwise, and records what it saw.
type rejectingAPI struct {
	mu          sync.Mutex
	rejectFirst bool
	reject      map[string]bool
	seen        []string
	bodies      []string
}

func (a *rejectingAPI) rejectToken(tok string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reject[tok] = true
}

// snapshot returns copies of the tokens and bodies seen so far.
func (a *rejectingAPI) snapshot() (seen, bodies []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...), append([]string(nil), a.bodies...)
}

func (a *rejectingAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	if a.reject == nil {
		a.reject = map[string]bool{}
	}
	if a.rejectFirst && len(a.seen) == 0 {
		a.reject[tok] = true
	}
	a.seen = append(a.seen, tok)
	a.bodies = append(a.bodies, string(body))
	bad := a.reject[tok]
	a.mu.Unlock()
	if bad {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "token rejected", http.StatusUnauthorized)
		return
	}
	io.WriteString(w, "ok:"+string(body))
}

func TestTransportRetriesOnceAfter401(t *testing.T) {
	c, id := newTestClient(t, "basic")
	api := &rejectingAPI{rejectFirst: true}
	srv := httptest.NewServer(api)
	defer srv.Close()
	hc := &http.Client{Transport: c.Transport(nil)}

	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	if resp.StatusCode != 200 {
		t.Fatalf("after a 401 and a renewal: %s", resp.Status)
	}
	seen, _ := api.snapshot()
	if len(seen) != 2 || seen[0] == seen[1] || tokenRequests(t, id) != 2 {
		t.Fatalf("API saw %d requests (distinct tokens: %v); token requests %d", len(seen), len(seen) == 2 && seen[0] != seen[1], tokenRequests(t, id))
	}

	// A POST with a replayable body (GetBody is set by http.NewRequest) is retried, body intact.
	api.rejectToken(seen[1])
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("payload"))
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok:payload" || tokenRequests(t, id) != 3 {
		t.Fatalf("replayable POST: %s %q, token requests %d", resp.Status, body, tokenRequests(t, id))
	}
	_, bodies := api.snapshot()
	if got := bodies[len(bodies)-2:]; got[0] != "payload" || got[1] != "payload" {
		t.Fatalf("bodies sent: %q", got)
	}

	// A body that cannot be replayed: the 401 is returned as it is (the token is still dropped).
	cur := mustToken(t, c)
	api.rejectToken(cur)
	req, _ = http.NewRequest(http.MethodPost, srv.URL, io.NopCloser(bytes.NewBufferString("once")))
	req.GetBody = nil
	seen, _ = api.snapshot()
	n := len(seen)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	seen, _ = api.snapshot()
	if resp.StatusCode != 401 || len(seen) != n+1 {
		t.Fatalf("non-replayable POST: %s, API requests %d", resp.Status, len(seen)-n)
	}
	if mustToken(t, c) == cur {
		t.Fatal("the rejected token was not invalidated")
	}

	// The caller's request is not modified.
	req, _ = http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	if req.Header.Get("Authorization") != "" {
		t.Fatal("RoundTrip modified the caller's request")
	}
}

func TestTransportConcurrent401sCauseOneRenewal(t *testing.T) {
	c, id := newTestClient(t, "basic")
	stale := mustToken(t, c)
	api := &rejectingAPI{reject: map[string]bool{stale: true}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	hc := &http.Client{Transport: c.Transport(nil)}

	const n = 32
	var start, done sync.WaitGroup
	start.Add(1)
	statuses := make([]int, n)
	for i := 0; i < n; i++ {
		done.Add(1)
		go func(i int) {
			defer done.Done()
			start.Wait()
			resp, err := hc.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			drain(resp)
			statuses[i] = resp.StatusCode
		}(i)
	}
	start.Done()
	done.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Fatalf("request %d: status %d", i, s)
		}
	}
	rejected := 0
	seen, _ := api.snapshot()
	for _, tok := range seen {
		if tok == stale {
			rejected++
		}
	}
	if got := tokenRequests(t, id); got != 2 {
		t.Fatalf("%d concurrent 401s (%d requests sent the stale token) caused %d token requests in all, want 2", n, rejected, got)
	}
	t.Logf("%d of %d requests sent the stale token; one renewal", rejected, n)
}

func TestTransportAgainstRealAPIAfterRevocation(t *testing.T) {
	c, id := newTestClient(t, "basic")
	hc := &http.Client{Transport: c.Transport(apiTransport(t))}
	get := func() int {
		resp, err := hc.Get(env(t).api)
		if err != nil {
			t.Fatal(err)
		}
		drain(resp)
		return resp.StatusCode
	}
	if s := get(); s != 200 {
		t.Fatalf("first call: %d", s)
	}
	// The server forgets the token (as after a key rotation or a revocation): the API answers
	// 401, the transport invalidates, renews and retries.
	adminCall(t, http.MethodPost, "/revoke?client_id="+id, nil)
	if s := get(); s != 200 {
		t.Fatalf("after revocation: %d", s)
	}
	if n := tokenRequests(t, id); n != 2 {
		t.Fatalf("token requests %d, want 2", n)
	}
}

func TestUseAfterClose(t *testing.T) {
	c, _ := newTestClient(t, "basic")
	tok := mustToken(t, c)
	if err := c.RetryNow(); err != nil {
		t.Fatalf("RetryNow: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	got, err := c.Token()
	var re *Error
	if got != "" || !errors.Is(err, ErrClosed) || !errors.As(err, &re) || re.Status != StatusInvalidArgument {
		t.Fatalf("Token after Close: %q, %v", got, err)
	}
	if info, err := c.TokenInfo(time.Minute); info.Token != "" || !errors.Is(err, ErrClosed) {
		t.Fatalf("TokenInfo after Close: %v", err)
	}
	if c.Invalidate(tok) {
		t.Fatal("Invalidate after Close = true")
	}
	if err := c.RetryNow(); !errors.Is(err, ErrClosed) {
		t.Fatalf("RetryNow after Close: %v", err)
	}
	if _, err := c.TokenSource().Token(); !errors.Is(err, ErrClosed) {
		t.Fatalf("TokenSource after Close: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, err = (&http.Client{Transport: c.Transport(nil)}).Get(srv.URL)
	var ue *url.Error
	if !errors.As(err, &ue) || !errors.Is(err, ErrClosed) {
		t.Fatalf("Transport after Close: %v", err)
	}
}

func TestCloseWhileInUse(t *testing.T) {
	for round := 0; round < 3; round++ {
		c, _ := newTestClient(t, "basic")
		mustToken(t, c)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var ok, closed atomic.Int64
		for g := 0; g < 16; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; ; i++ {
					var err error
					switch (g + i) % 4 {
					case 0:
						_, err = c.Token()
					case 1:
						_, err = c.TokenInfo(0)
					case 2:
						_, err = c.fetch(0) // the cgo path, not the memo
					case 3:
						c.Invalidate("not-the-token")
					}
					switch {
					case err == nil:
						ok.Add(1)
					case errors.Is(err, ErrClosed):
						closed.Add(1)
						select {
						case <-stop:
							return
						default:
						}
					default:
						t.Errorf("unexpected error: %v", err)
						return
					}
				}
			}(g)
		}
		time.Sleep(20 * time.Millisecond)
		var cw sync.WaitGroup
		for i := 0; i < 4; i++ { // concurrent Closes too
			cw.Add(1)
			go func() { defer cw.Done(); c.Close() }()
		}
		cw.Wait()
		close(stop)
		wg.Wait()
		if ok.Load() == 0 || closed.Load() == 0 {
			t.Fatalf("ok %d, closed %d: the race did not happen", ok.Load(), closed.Load())
		}
	}
}

func TestForgottenClientIsFreed(t *testing.T) {
	before := cleanupsRun.Load()
	func() {
		for i := 0; i < 3; i++ {
			c, err := New(WithClientCredentials("basic-63", "secret-basic-63"), WithIssuer(env(t).issuer), WithCAFile(env(t).caFile))
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				mustToken(t, c) // one with a token in it, two without
			}
			// no Close: the garbage collector must free it
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for cleanupsRun.Load() < before+3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 3 forgotten clients were freed after 10 s of GC", cleanupsRun.Load()-before)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	// A closed client is not freed a second time by its cleanup.
	c, _ := newTestClient(t, "basic")
	c.Close()
	c = nil
	n := cleanupsRun.Load()
	for i := 0; i < 5; i++ {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	if cleanupsRun.Load() != n {
		t.Fatal("the cleanup ran for a closed client")
	}
}

func TestErrorType(t *testing.T) {
	e := &Error{Status: StatusOAuth, Message: "the server refused the credentials", OAuthCode: "invalid_client", HTTPStatus: 401}
	if !errors.Is(e, ErrOAuth) || errors.Is(e, ErrHTTP) || errors.Is(e, ErrClosed) || e.Timeout() {
		t.Fatal("Is")
	}
	if got := e.Error(); got != "raptoken: OAuth error: the server refused the credentials (invalid_client)" {
		t.Fatalf("Error() = %q", got)
	}
	if !errors.Is(&Error{Status: StatusTimeout}, ErrTimeout) || !(&Error{Status: StatusTimeout}).Timeout() {
		t.Fatal("timeout")
	}
	if Status(42).String() != "status 42" || StatusNoCredentials.String() != "no credentials" {
		t.Fatal("Status.String")
	}
	if ErrNoCredentials.Error() != "raptoken: no credentials" {
		t.Fatalf("sentinel text %q", ErrNoCredentials.Error())
	}
}

// TestMain's re-exec needs the script; make sure the suite notices if it moves.
func TestServerScriptPresent(t *testing.T) {
	if _, err := os.Stat("../../testing/with-oidc-server.sh"); err != nil {
		t.Fatal(err)
	}
}
