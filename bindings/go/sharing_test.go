package raptoken

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sharedClient makes a client for id with the test server's settings and extra options.
func sharedClient(t *testing.T, id, secret string, extra ...Option) *Client {
	t.Helper()
	e := env(t)
	c, err := New(append([]Option{WithClientCredentials(id, secret), WithIssuer(e.issuer), WithCAFile(e.caFile)}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSharedCacheDirOneRequestForTwoClients(t *testing.T) {
	withoutEnv(t, "RAPIDATA_SHARED_CACHE")
	dir := filepath.Join(t.TempDir(), "cache") // created by the library
	id, secret := freshID(t, "basic")
	c1 := sharedClient(t, id, secret, WithSharedCacheDir(dir))
	c2 := sharedClient(t, id, secret, WithSharedCacheDir(dir))
	t1 := mustToken(t, c1)
	if t2 := mustToken(t, c2); t2 != t1 {
		t.Fatal("the second client did not take the token from the shared cache")
	}
	if n := tokenRequests(t, id); n != 1 {
		t.Fatalf("two clients sharing a cache sent %d token requests, want 1", n)
	}
	s1, _ := c1.Stats()
	s2, _ := c2.Stats()
	if s1.TokenRequests != 1 || s2.TokenRequests != 0 {
		t.Fatalf("token requests by client: %d and %d, want 1 and 0", s1.TokenRequests, s2.TokenRequests)
	}

	// Modes: directory 0700, files 0600; the secret is written nowhere.
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("cache directory: %v, mode %v", err, fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	jsons := 0
	for _, de := range entries {
		fi, _ := de.Info()
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", de.Name(), fi.Mode().Perm())
		}
		data, _ := os.ReadFile(filepath.Join(dir, de.Name()))
		if strings.Contains(string(data), secret) {
			t.Errorf("%s contains the client secret", de.Name())
		}
		if strings.HasSuffix(de.Name(), ".json") {
			jsons++
		}
	}
	if jsons != 1 {
		t.Fatalf("want one token file in the cache directory, got %v", entries)
	}

	// The last of WithSharedCacheDir and WithSharedCache wins: off means a request of its own.
	c3 := sharedClient(t, id, secret, WithSharedCacheDir(dir), WithSharedCache(false))
	mustToken(t, c3)
	if n := tokenRequests(t, id); n != 2 {
		t.Fatalf("with the shared cache turned off: %d token requests, want 2", n)
	}
	// RAPIDATA_SHARED_CACHE turns it on for clients without the option; WithSharedCache(false)
	// overrides the variable.
	t.Setenv("RAPIDATA_SHARED_CACHE", dir)
	if mustToken(t, sharedClient(t, id, secret)) != t1 || tokenRequests(t, id) != 2 {
		t.Fatal("a client with RAPIDATA_SHARED_CACHE did not share the token")
	}
	mustToken(t, sharedClient(t, id, secret, WithSharedCache(false)))
	if n := tokenRequests(t, id); n != 3 {
		t.Fatalf("WithSharedCache(false) under RAPIDATA_SHARED_CACHE: %d token requests, want 3", n)
	}
}

func TestSharedCacheDefaultDirectory(t *testing.T) {
	withoutEnv(t, "RAPIDATA_SHARED_CACHE")
	xdg := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", xdg)
	id, secret := freshID(t, "basic")
	t1 := mustToken(t, sharedClient(t, id, secret, WithSharedCache(true)))
	if t2 := mustToken(t, sharedClient(t, id, secret, WithSharedCache(true))); t2 != t1 || tokenRequests(t, id) != 1 {
		t.Fatalf("same token %v, token requests %d", t2 == t1, tokenRequests(t, id))
	}
	if files, _ := filepath.Glob(filepath.Join(xdg, "raptoken", "*.json")); len(files) != 1 {
		t.Fatalf("want one token file under $XDG_CACHE_HOME/raptoken, got %v", files)
	}
}

// writeTokenFile writes Rapidata's token-file format with the given mode.
func writeTokenFile(t *testing.T, path, token string, expiresAt int64, mode os.FileMode) {
	t.Helper()
	doc := fmt.Sprintf(`{"access_token": %q, "token_type": "Bearer", "expires_at": %d}`, token, expiresAt)
	if err := os.WriteFile(path, []byte(doc), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is filtered by the umask
		t.Fatal(err)
	}
}

func TestTokenFile(t *testing.T) {
	withoutEnv(t, "RAPIDATA_TOKEN_FILE", "RAPIDATA_CLIENT_ID", "RAPIDATA_CLIENT_SECRET", "RAPIDATA_SHARED_CACHE")
	// A real token from the server, as a maintainer process would have written it.
	maintainer, id := newTestClient(t, "basic")
	tok := mustToken(t, maintainer)
	path := filepath.Join(t.TempDir(), "rapidata_token.json")
	expiresAt := time.Now().Add(10 * time.Minute).Unix()
	writeTokenFile(t, path, tok, expiresAt, 0o600)

	// No client credentials needed, no request sent.
	c, err := New(WithTokenFile(path), WithIssuer(env(t).issuer))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info, err := c.TokenInfo(0)
	if err != nil {
		t.Fatal(err)
	}
	// The library converts between clocks, so it may report up to a few ms early.
	if d := time.Unix(expiresAt, 0).Sub(info.ExpiresAt); info.Token != tok || d < 0 || d > time.Second {
		t.Fatalf("same token %v, ExpiresAt %s (want %s)", info.Token == tok, info.ExpiresAt, time.Unix(expiresAt, 0))
	}
	if got := apiStatus(t, mustToken(t, c)); got != 200 {
		t.Fatalf("API answered %d to the token from the file", got)
	}
	if s, _ := c.Stats(); s.TokenRequests != 0 || s.DiscoveryRequests != 0 || tokenRequests(t, id) != 1 {
		t.Fatalf("reading a token file sent requests: %+v, server count %d", s, tokenRequests(t, id))
	}

	// The token file wins over explicit credentials, as in Rapidata's SDK.
	other, otherSecret := freshID(t, "basic")
	if mustToken(t, sharedClient(t, other, otherSecret, WithTokenFile(path))) != tok || tokenRequests(t, other) != 0 {
		t.Fatal("explicit credentials won over the token file")
	}

	// Missing, expired and world-writable files are configuration errors naming the file.
	for name, prepare := range map[string]func(p string){
		"missing":        func(p string) {},
		"expired":        func(p string) { writeTokenFile(t, p, tok, 1000, 0o600) },
		"world-writable": func(p string) { writeTokenFile(t, p, tok, expiresAt, 0o666) },
		"malformed": func(p string) {
			if err := os.WriteFile(p, []byte(`{"access_token": 42}`), 0o600); err != nil {
				t.Fatal(err)
			}
		},
	} {
		p := filepath.Join(t.TempDir(), name+".json")
		prepare(p)
		c, err := New(WithTokenFile(p))
		if err != nil {
			t.Fatalf("%s: New: %v", name, err)
		}
		_, err = c.Token()
		c.Close()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), p) {
			t.Fatalf("%s token file: want ErrConfig naming %s, got %v", name, p, err)
		}
		if strings.Contains(err.Error(), tok) {
			t.Fatalf("%s: the error shows the token", name)
		}
		t.Logf("%s: %v", name, err)
	}
}
