// Package raptoken gets and keeps OAuth 2.0 client-credentials bearer tokens for the Rapidata
// API. It is a thin cgo binding over the raptoken library's C API (include/raptoken.h): the
// cache, the expiry margin, refresh-ahead, one token request under contention, retries and
// conditional invalidation all live in the library.
//
// Get a token with the caller's context:
//
//	client, err := raptoken.NewFromEnv() // or raptoken.New(raptoken.WithClientCredentials(id, secret))
//	token, err := client.TokenContext(ctx)
//
// or send requests with it (the request's context bounds the wait for a token, and a 401 renews
// the token once):
//
//	httpClient := &http.Client{Transport: client.Transport(nil)}
//
// Replacing golang.org/x/oauth2/clientcredentials takes two lines:
//
//	httpClient := oauth2.NewClient(ctx, client.TokenSource())
//
// # Contexts, and why a cgo call cannot be cancelled
//
// TokenContext and TokenInfoContext take a context; Token and TokenInfo are the same calls with
// context.Background(). A warm call answers from the memo at once, without looking at the
// context. A cold one (first call, after Invalidate, at the refresh instant) needs the library,
// and that is a blocking cgo call: Go cannot interrupt a goroutine that is inside C, and the
// library has no cancellation in its C API. So the binding never makes that call on the
// caller's goroutine. One goroutine per client makes it (a "flight"), every caller that misses
// meanwhile waits for that flight in a select with its own ctx.Done(), and a caller whose
// context ends returns at once with an error matching context.Canceled or
// context.DeadlineExceeded (errors.Is), also through Transport and net/http.
//
// What that means: the fetch goes on after its callers gave up. It ends within the client's
// deadline (WithDeadline, 30 s by default; WithRequestTimeout bounds each attempt), holding one
// goroutine and one OS thread until then, and its token is kept for the next caller. One
// caller's cancellation never cancels it for the others, and waiting goroutines hold no OS
// thread (100 goroutines on a cold client start no new threads; 100 cgo calls would start
// about 100). Near a token's end of life the library renews on a thread of its own and answers
// every call with the current token at once, so no caller waits for a renewal.
//
// # Go-side state
//
// The binding keeps one thing of its own: a read-only memo of the token the library last
// returned, with the library's refresh-ahead instant (RapidataTokenInfo.refresh_at_unix_ms).
// Until that instant the library would hand out the same token, so Token answers from the memo
// without a cgo call. Invalidate and Close drop the memo. Nothing else is decided in Go. The
// calls the memo answers are counted (striped, so goroutines on different cores do not contend),
// and Stats adds them to the library's cache hits.
//
// # Options
//
// Every setter of the C options builder has an Option: credentials, issuer or environment, token
// endpoint, scope, CA file, credentials file, auth method, timeouts, expiry margin and
// refresh-ahead; retries (WithMaxAttempts, WithRetryBackoff, WithMaxRetryAfter, WithDeadline),
// TLS roots (WithTrust) and proxy (WithProxy); sharing a token between processes
// (WithSharedCache, WithSharedCacheDir, WithTokenFile); and diagnostics (WithLogFunc). A test
// fails when the header gains a function the binding does not use.
//
// # Errors
//
// Every error is an *Error carrying the library's status, message, OAuth code and description,
// HTTP status and Retry-After. Test the kind with errors.Is against the sentinels (ErrOAuth,
// ErrTransport, ErrNoCredentials, ...) and read the fields with errors.As.
//
// # Building
//
// `go get github.com/rapidata/raptoken-go` brings the library with it: the module holds a
// prebuilt static archive per platform (lib/<goos>_<goarch>/), so `go build` needs cgo and a C
// compiler, nothing else, and programs need no libraptoken.so at run time. With -tags
// raptoken_system the package links an installed raptoken through pkg-config instead. In the
// raptoken repository, bindings/go is the development copy the module is generated from: it
// links target/release/libraptoken.a (run `cargo build --release` first). See README.md.
package raptoken
