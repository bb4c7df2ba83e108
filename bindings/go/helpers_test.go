package raptoken

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The tests run against the real test OIDC server (testing/oidc-server), started by
// testing/with-oidc-server.sh, which exports RAPTOKEN_TEST_*. Run directly with `go test`, the
// test binary starts itself again under that script.
func TestMain(m *testing.M) {
	if os.Getenv("RAPTOKEN_TEST_ISSUER") == "" {
		script, _ := filepath.Abs("../../testing/with-oidc-server.sh")
		jwtClients, _ := filepath.Abs("../../testing/with-jwt-clients.sh")
		if os.Getenv("RAPTOKEN_GO_REEXEC") == "" {
			if _, err := os.Stat(script); err == nil {
				cmd := exec.Command(script, append([]string{jwtClients}, os.Args...)...)
				cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
				cmd.Env = append(os.Environ(), "RAPTOKEN_GO_REEXEC=1")
				err := cmd.Run()
				var exit *exec.ExitError
				if errors.As(err, &exit) {
					os.Exit(exit.ExitCode())
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "raptoken: could not run the tests under", script+":", err)
					os.Exit(1)
				}
				os.Exit(0)
			}
		}
		fmt.Fprintln(os.Stderr, "raptoken: these tests need the test OIDC server; run them as\n"+
			"  testing/with-oidc-server.sh testing/with-jwt-clients.sh go test ./...   (from bindings/go: ../../testing/...)")
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// testEnv is what testing/with-oidc-server.sh exported.
type testEnv struct {
	issuer, tokenEndpoint, api, admin, caFile, wrongCAFile string
}

func env(t testing.TB) testEnv {
	t.Helper()
	e := testEnv{
		issuer:        os.Getenv("RAPTOKEN_TEST_ISSUER"),
		tokenEndpoint: os.Getenv("RAPTOKEN_TEST_TOKEN_ENDPOINT"),
		api:           os.Getenv("RAPTOKEN_TEST_API"),
		admin:         os.Getenv("RAPTOKEN_TEST_ADMIN"),
		caFile:        os.Getenv("RAPTOKEN_TEST_CA_FILE"),
		wrongCAFile:   os.Getenv("RAPTOKEN_TEST_WRONG_CA_FILE"),
	}
	if e.issuer == "" || e.admin == "" || e.caFile == "" {
		t.Fatal("RAPTOKEN_TEST_* not set: run under testing/with-oidc-server.sh")
	}
	return e
}

// The server has clients basic-0..63, post-0..63, short-0..63 (3-second tokens) and slow-0..15,
// with secrets "secret-<id>". Each test takes fresh ids so the server's per-client request
// counts belong to that test alone. Examples use demo-client.
var nextID = map[string]*atomic.Int32{"basic": {}, "post": {}, "short": {}, "slow": {}}
var idLimit = map[string]int32{"basic": 64, "post": 64, "short": 64, "slow": 16}

func freshID(t testing.TB, kind string) (id, secret string) {
	t.Helper()
	n := nextID[kind].Add(1) - 1
	if n >= idLimit[kind] {
		t.Fatalf("out of %s-* test clients", kind)
	}
	id = fmt.Sprintf("%s-%d", kind, n)
	return id, "secret-" + id
}

// newTestClient makes a client for a fresh id of the given kind, pointed at the test server,
// closed when the test ends.
func newTestClient(t testing.TB, kind string, extra ...Option) (*Client, string) {
	t.Helper()
	e := env(t)
	id, secret := freshID(t, kind)
	opts := []Option{WithClientCredentials(id, secret), WithIssuer(e.issuer), WithCAFile(e.caFile)}
	if kind == "post" {
		opts = append(opts, WithAuthMethod(ClientSecretPost))
	}
	c, err := New(append(opts, extra...)...)
	if err != nil {
		t.Fatalf("New(%s): %v", id, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, id
}

// tokenRequests is the server's count of token requests made by clientID.
func tokenRequests(t testing.TB, clientID string) int {
	t.Helper()
	var out struct {
		TokenRequests int `json:"token_requests"`
	}
	adminCall(t, http.MethodGet, "/stats?client_id="+clientID, &out)
	return out.TokenRequests
}

func adminCall(t testing.TB, method, path string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, env(t).admin+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("admin %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("admin %s %s: %s", method, path, resp.Status)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

var (
	caTransportOnce sync.Once
	caTransport     *http.Transport
)

// apiTransport trusts the test CA, for calls to the test server's API.
func apiTransport(t testing.TB) *http.Transport {
	t.Helper()
	caTransportOnce.Do(func() {
		pem, err := os.ReadFile(env(t).caFile)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			t.Fatal("no certificate in the test CA file")
		}
		caTransport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	})
	return caTransport
}

// waitUntil sleeps until t (at most max), failing the test if t is further away than max.
func waitUntil(tb testing.TB, at time.Time, max time.Duration) {
	tb.Helper()
	d := time.Until(at)
	if d > max {
		tb.Fatalf("%s is %s away, more than the %s this test waits", at, d, max)
	}
	if d > 0 {
		time.Sleep(d)
	}
}

// refusingAddr returns "127.0.0.1:PORT" where connections are refused for the whole test: a TCP
// socket is bound to the port (so nothing else can take it) but never listens.
func refusingAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
}
