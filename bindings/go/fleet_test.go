package raptoken

import (
	"errors"
	"os"
	"testing"
)

// The fleet cache through Redis (testing/with-redis.sh exports RAPTOKEN_TEST_REDIS_URL): two
// clients stand for two pods and share one token request; a URL that is not Redis is refused.
func TestSharedCacheURLOneRequestForTheFleet(t *testing.T) {
	url := os.Getenv("RAPTOKEN_TEST_REDIS_URL")
	if url == "" {
		t.Skip("no Redis: run under testing/with-redis.sh (scripts/test.d/30-go.sh does)")
	}
	withoutEnv(t, "RAPIDATA_SHARED_CACHE_URL")
	id, secret := freshID(t, "basic")
	c1 := sharedClient(t, id, secret, WithSharedCacheURL(url))
	c2 := sharedClient(t, id, secret, WithSharedCacheURL(url))
	t1 := mustToken(t, c1)
	if t2 := mustToken(t, c2); t2 != t1 {
		t.Fatal("the second client did not take the token from Redis")
	}
	if n := tokenRequests(t, id); n != 1 {
		t.Fatalf("two clients sharing Redis sent %d token requests, want 1", n)
	}
	// Redis unreachable: a token all the same (fetched directly).
	c3 := sharedClient(t, id, secret, WithSharedCacheURL("redis://127.0.0.1:1"))
	if t3 := mustToken(t, c3); t3 == "" {
		t.Fatal("no token with Redis unreachable")
	}
	_, err := New(WithClientCredentials(id, secret), WithSharedCacheURL("http://127.0.0.1:6379"))
	var re *Error
	if !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &re) || re.Message == "" {
		t.Fatalf("a non-Redis URL: %v; want ErrInvalidArgument", err)
	}
}
