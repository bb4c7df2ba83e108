package raptoken_test

// Examples of the options for resilience, diagnostics and sharing tokens between processes. Like
// example_test.go, they run against the local test server.

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	raptoken "github.com/rapidata/raptoken-go"
)

func ExampleWithDeadline() {
	client, err := raptoken.New(
		raptoken.WithClientCredentials("demo-client", "demo-secret"),
		raptoken.WithIssuer(os.Getenv("RAPTOKEN_TEST_ISSUER")),
		raptoken.WithCAFile(os.Getenv("RAPTOKEN_TEST_CA_FILE")),
		raptoken.WithMaxAttempts(5),                                    // retry connection errors, timeouts, 429, 5xx
		raptoken.WithRetryBackoff(200*time.Millisecond, 5*time.Second), // full jitter between attempts
		raptoken.WithDeadline(10*time.Second),                          // one fetch, retries included, ends by then
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	_, err = client.Token()
	fmt.Println("error:", err)
	// Output: error: <nil>
}

func ExampleWithLogFunc() {
	var mu sync.Mutex
	var lines []string
	client, err := raptoken.New(
		raptoken.WithClientCredentials("demo-client", "demo-secret"),
		raptoken.WithIssuer(os.Getenv("RAPTOKEN_TEST_ISSUER")),
		raptoken.WithCAFile(os.Getenv("RAPTOKEN_TEST_CA_FILE")),
		// Called on whichever goroutine fetches, possibly several at once: guard shared state.
		// A service would pass the line to its logger (slog.Log, ...). Lines hold no secrets.
		raptoken.WithLogFunc(raptoken.LogInfo, func(level raptoken.LogLevel, msg string) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, level.String()+" "+msg)
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	client.Token()
	mu.Lock()
	defer mu.Unlock()
	for _, l := range lines {
		if strings.Contains(l, "token fetch") {
			fmt.Println(strings.Join(strings.Fields(l)[:4], " "), "...")
		}
	}
	// Output:
	// INFO token fetch started ...
	// INFO token fetch succeeded ...
}

func ExampleClient_Stats() {
	client := newDemoClient()
	defer client.Close()

	for i := 0; i < 10; i++ {
		client.Token()
	}
	s, err := client.Stats()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token requests:", s.TokenRequests, "cache hits:", s.CacheHits, "failed fetches:", s.FetchesFailed)
	// Output: token requests: 1 cache hits: 9 failed fetches: 0
}

func ExampleWithSharedCacheDir() {
	dir, err := os.MkdirTemp("", "raptoken-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cache := filepath.Join(dir, "cache") // created with mode 0700

	// Two clients stand for two processes of the same user on this host.
	var requests uint64
	var tokens []string
	for i := 0; i < 2; i++ {
		client, err := raptoken.New(
			raptoken.WithClientCredentials("demo-client", "demo-secret"),
			raptoken.WithIssuer(os.Getenv("RAPTOKEN_TEST_ISSUER")),
			raptoken.WithCAFile(os.Getenv("RAPTOKEN_TEST_CA_FILE")),
			raptoken.WithSharedCacheDir(cache),
		)
		if err != nil {
			log.Fatal(err)
		}
		token, _ := client.Token()
		s, _ := client.Stats()
		requests += s.TokenRequests
		tokens = append(tokens, token)
		client.Close()
	}
	fmt.Println("same token:", tokens[0] == tokens[1], "token requests:", requests)
	// Output: same token: true token requests: 1
}

func ExampleWithTokenFile() {
	dir, err := os.MkdirTemp("", "raptoken-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "rapidata_token.json")

	// One process keeps the file fresh (normally `raptoken maintain --token-file PATH` or
	// Rapidata's Python SDK); this example writes it once.
	maintainer := newDemoClient()
	defer maintainer.Close()
	info, err := maintainer.TokenInfo(0)
	if err != nil {
		log.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"access_token": info.Token, "token_type": "Bearer", "expires_at": info.ExpiresAt.Unix()})
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		log.Fatal(err)
	}

	// Workers read it and need no client credentials.
	worker, err := raptoken.New(raptoken.WithTokenFile(path))
	if err != nil {
		log.Fatal(err)
	}
	defer worker.Close()
	token, err := worker.Token()
	fmt.Println("same token:", token == info.Token, err)
	// Output: same token: true <nil>
}
