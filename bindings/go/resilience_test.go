package raptoken

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestRetriesAgainstAClosedPort(t *testing.T) {
	rec := &logRecorder{}
	c, err := New(WithClientCredentials("retry-id", "retry-secret-value"), WithIssuer("http://"+refusingAddr(t)),
		WithMaxAttempts(2), WithRetryBackoff(10*time.Millisecond, 20*time.Millisecond), WithLogFunc(LogDebug, rec.add))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Token()
	var re *Error
	if !errors.Is(err, ErrTransport) || !errors.As(err, &re) || re.HTTPStatus != 0 {
		t.Fatalf("want ErrTransport, got %v", err)
	}
	s, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	// Connection refused is retried: 2 attempts at discovery, no token request, one failed fetch.
	if s.DiscoveryRequests != 2 || s.Retries != 1 || s.TokenRequests != 0 || s.FetchesFailed != 1 || s.FetchesOK != 0 {
		t.Fatalf("stats %+v", s)
	}
	if s.LastErrorStatus != StatusTransport || s.LastErrorHTTPStatus != 0 || time.Since(s.LastError) > time.Minute || !s.LastSuccess.IsZero() {
		t.Fatalf("stats %+v", s)
	}
	rec.assertNoneContain(t, "retry-secret-value")

	// One attempt: no retry.
	c1, err := New(WithClientCredentials("retry-id", "retry-secret-value"), WithIssuer("http://"+refusingAddr(t)), WithMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	if _, err := c1.Token(); !errors.Is(err, ErrTransport) {
		t.Fatalf("want ErrTransport, got %v", err)
	}
	if s, _ := c1.Stats(); s.DiscoveryRequests != 1 || s.Retries != 0 {
		t.Fatalf("max attempts 1: stats %+v", s)
	}
}

func TestDeadlineBoundsRetryWaits(t *testing.T) {
	// Backoffs of up to a minute inside a 300 ms deadline: a retry whose wait would pass the
	// deadline is not made, so the call ends with the error instead of waiting a minute.
	c, err := New(WithClientCredentials("retry-id", "retry-secret-value"), WithIssuer("http://"+refusingAddr(t)),
		WithMaxAttempts(3), WithRetryBackoff(time.Minute, time.Minute), WithDeadline(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, err = c.Token()
	took := time.Since(start)
	if !errors.Is(err, ErrTransport) {
		t.Fatalf("want ErrTransport, got %v", err)
	}
	if took > 10*time.Second {
		t.Fatalf("the call took %s: the 300 ms deadline did not bound the 1-minute backoff", took)
	}
	if s, _ := c.Stats(); s.DiscoveryRequests < 1 || s.DiscoveryRequests > 3 || s.FetchesFailed != 1 {
		t.Fatalf("stats %+v", s)
	}
	t.Logf("failed after %s", took)
}

func TestDeadlineBoundsASlowServer(t *testing.T) {
	// The server holds slow-* token responses for 3 s; a 400 ms deadline ends the fetch with a
	// timeout long before that, although the request timeout alone would allow 10 s.
	adminCall(t, http.MethodPost, "/delay?ms=3000", nil)
	defer adminCall(t, http.MethodPost, "/delay?ms=0", nil)
	c, id := newTestClient(t, "slow", WithRequestTimeout(10*time.Second), WithDeadline(400*time.Millisecond), WithMaxAttempts(3))
	start := time.Now()
	_, err := c.Token()
	took := time.Since(start)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want ErrTimeout, got %v", err)
	}
	var re *Error
	if !errors.As(err, &re) || !re.Timeout() {
		t.Fatalf("Timeout() false for %v", err)
	}
	if took > 2500*time.Millisecond {
		t.Fatalf("the call took %s: the 400 ms deadline did not cut the 3 s response short", took)
	}
	if s, _ := c.Stats(); s.LastErrorStatus != StatusTimeout || s.FetchesFailed != 1 || s.TokenRequests < 1 {
		t.Fatalf("stats %+v", s)
	}
	if n := tokenRequests(t, id); n < 1 {
		t.Fatalf("the server saw %d token requests", n)
	}
}

// withoutEnv unsets variables for the rest of the test (restored afterwards).
func withoutEnv(t *testing.T, names ...string) {
	for _, n := range names {
		t.Setenv(n, "")
		os.Unsetenv(n)
	}
}

func TestTrust(t *testing.T) {
	e := env(t)
	withoutEnv(t, "SSL_CERT_FILE", "SSL_CERT_DIR", "RAPIDATA_CA_FILE")
	creds := func() Option { id, secret := freshID(t, "basic"); return WithClientCredentials(id, secret) }

	// Neither the built-in roots nor the system's know the throwaway test CA.
	for _, tr := range []Trust{TrustBuiltin, TrustSystem} {
		c, err := New(creds(), WithIssuer(e.issuer), WithTrust(tr))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Token(); !errors.Is(err, ErrTransport) {
			t.Fatalf("%s without the test CA: want ErrTransport, got %v", tr, err)
		}
		c.Close()
	}
	// The system's roots plus the CA file: trusted.
	c, err := New(creds(), WithIssuer(e.issuer), WithTrust(TrustSystem), WithCAFile(e.caFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := apiStatus(t, mustToken(t, c)); got != 200 {
		t.Fatalf("API answered %d", got)
	}
	c.Close()
	// The system's roots are read from SSL_CERT_FILE.
	t.Setenv("SSL_CERT_FILE", e.caFile)
	c, err = New(creds(), WithIssuer(e.issuer), WithTrust(TrustSystem))
	if err != nil {
		t.Fatal(err)
	}
	mustToken(t, c)
	c.Close()
	// Built-in roots cannot be combined with a CA file or the system's roots.
	for _, opts := range [][]Option{{WithTrust(TrustBuiltin), WithCAFile(e.caFile)}, {WithTrust(TrustBuiltin | TrustSystem)}} {
		if _, err := New(append([]Option{creds(), WithIssuer(e.issuer)}, opts...)...); !errors.Is(err, ErrConfig) {
			t.Fatalf("want ErrConfig, got %v", err)
		}
	}
	for tr, want := range map[Trust]string{TrustBuiltin: "TrustBuiltin", TrustBuiltin | TrustSystem: "TrustBuiltin|TrustSystem", 0: "Trust(0x0)", 6: "TrustSystem|Trust(0x4)"} {
		if tr.String() != want {
			t.Errorf("Trust(%d).String() = %q, want %q", uint32(tr), tr.String(), want)
		}
	}
}

func TestProxy(t *testing.T) {
	deadProxy := "http://" + refusingAddr(t)
	// The environment's proxy is used when no proxy option is given...
	t.Setenv("HTTPS_PROXY", deadProxy)
	withoutEnv(t, "NO_PROXY", "no_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
	c, id := newTestClient(t, "basic", WithMaxAttempts(1))
	if _, err := c.Token(); !errors.Is(err, ErrTransport) {
		t.Fatalf("through the dead proxy from HTTPS_PROXY: want ErrTransport, got %v", err)
	}
	if n := tokenRequests(t, id); n != 0 {
		t.Fatalf("%d requests reached the server past a dead proxy", n)
	}
	// ...and "" overrides it: direct.
	c, id = newTestClient(t, "basic", WithProxy(""))
	if got := apiStatus(t, mustToken(t, c)); got != 200 || tokenRequests(t, id) != 1 {
		t.Fatalf("WithProxy(\"\"): API %d, token requests %d", got, tokenRequests(t, id))
	}

	// An explicit proxy wins over the environment; its password shows up nowhere.
	withoutEnv(t, "HTTPS_PROXY")
	const password = "pw-secret-4711"
	rec := &logRecorder{}
	c, id = newTestClient(t, "basic", WithProxy("http://user:"+password+"@"+strings.TrimPrefix(deadProxy, "http://")),
		WithMaxAttempts(1), WithLogFunc(LogDebug, rec.add))
	_, err := c.Token()
	if !errors.Is(err, ErrTransport) || strings.Contains(err.Error(), password) {
		t.Fatalf("through a dead explicit proxy: want ErrTransport without the password, got %v", err)
	}
	if n := tokenRequests(t, id); n != 0 {
		t.Fatalf("%d requests reached the server past a dead proxy", n)
	}
	rec.assertNoneContain(t, password)
	if _, err := New(WithClientCredentials("basic-63", "secret-basic-63"), WithProxy("http://user:"+password+"@[bad")); !errors.Is(err, ErrInvalidArgument) || strings.Contains(err.Error(), password) {
		t.Fatalf("malformed proxy URL: want ErrInvalidArgument without the password, got %v", err)
	}
}

func TestResilienceOptionsMisuse(t *testing.T) {
	creds := WithClientCredentials("basic-63", "secret-basic-63")
	cases := []struct {
		name string
		opt  Option
	}{
		{"zero attempts", WithMaxAttempts(0)},
		{"11 attempts", WithMaxAttempts(11)},
		{"negative attempts", WithMaxAttempts(-1)},
		{"zero backoff base", WithRetryBackoff(0, time.Second)},
		{"backoff limit below base", WithRetryBackoff(30*time.Millisecond, 20*time.Millisecond)},
		{"negative backoff", WithRetryBackoff(-time.Millisecond, time.Second)},
		{"negative max Retry-After", WithMaxRetryAfter(-time.Second)},
		{"zero deadline", WithDeadline(0)},
		{"huge deadline", WithDeadline(100 * 24 * time.Hour)},
		{"no trust flags", WithTrust(0)},
		{"unknown trust flag", WithTrust(4)},
		{"NUL in proxy", WithProxy("http://p\x00:3128")},
		{"not a proxy URL", WithProxy("http://[bad")},
		{"empty token file", WithTokenFile("")},
		{"NUL in token file", WithTokenFile("a\x00b")},
		{"empty shared cache dir", WithSharedCacheDir("")},
		{"log level 0", WithLogFunc(0, func(LogLevel, string) {})},
		{"log level 5", WithLogFunc(5, func(LogLevel, string) {})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(creds, tc.opt)
			var re *Error
			if c != nil || !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &re) || re.Message == "" {
				t.Fatalf("New: client %v, error %v; want ErrInvalidArgument", c != nil, err)
			}
			t.Logf("%s: %v", tc.name, err)
		})
	}
	// Boundary values that are valid.
	c, err := New(creds, WithIssuer(env(t).issuer), WithMaxAttempts(1), WithMaxAttempts(10), WithMaxRetryAfter(0),
		WithRetryBackoff(time.Millisecond, time.Millisecond), WithDeadline(time.Microsecond), WithTrust(TrustSystem))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestEveryResilienceOption(t *testing.T) {
	rec := &logRecorder{}
	c, id := newTestClient(t, "basic",
		WithMaxAttempts(4),
		WithRetryBackoff(50*time.Millisecond, time.Second),
		WithMaxRetryAfter(5*time.Second),
		WithDeadline(20*time.Second),
		WithTrust(TrustSystem), // with the CA file newTestClient sets: system roots plus the test CA
		WithProxy(""),
		WithSharedCache(false),
		WithLogFunc(LogInfo, rec.add),
	)
	info, err := c.TokenInfo(0)
	if err != nil {
		t.Fatal(err)
	}
	if got := apiStatus(t, info.Token); got != 200 || tokenRequests(t, id) != 1 {
		t.Fatalf("API %d, token requests %d", got, tokenRequests(t, id))
	}
	if rec.count(LogInfo, "") == 0 || rec.count(LogDebug, "") != 0 {
		t.Fatalf("log lines at LogInfo: %v", rec.snapshot())
	}
}
