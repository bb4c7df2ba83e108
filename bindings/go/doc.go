// Package raptoken gets and keeps OAuth 2.0 client-credentials bearer tokens for the Rapidata
// API. It is a thin cgo binding over the raptoken library's C API (include/raptoken.h): the
// cache, the expiry margin, refresh-ahead, one token request under contention, retries and
// conditional invalidation all live in the library.
//
// Replacing golang.org/x/oauth2/clientcredentials takes two lines:
//
//	client, err := raptoken.NewFromEnv() // or raptoken.New(raptoken.WithClientCredentials(id, secret))
//	httpClient := oauth2.NewClient(ctx, client.TokenSource())
//
// or, to also renew the token when the API answers 401:
//
//	httpClient := &http.Client{Transport: client.Transport(nil)}
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
