package raptoken_test

// These examples run as tests against the local test server that testing/with-oidc-server.sh
// starts; it exports RAPTOKEN_TEST_ISSUER, RAPTOKEN_TEST_CA_FILE and RAPTOKEN_TEST_API. In a
// real program the issuer defaults to https://auth.rapidata.ai and no CA file is needed.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"golang.org/x/oauth2"

	raptoken "github.com/rapidata/raptoken-go"
)

// testServerTLS trusts the test server's CA, for the API calls the examples make.
func testServerTLS() *http.Transport {
	pem, err := os.ReadFile(os.Getenv("RAPTOKEN_TEST_CA_FILE"))
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
}

func ExampleNew() {
	client, err := raptoken.New(
		raptoken.WithClientCredentials("demo-client", "demo-secret"),
		raptoken.WithIssuer(os.Getenv("RAPTOKEN_TEST_ISSUER")),
		raptoken.WithCAFile(os.Getenv("RAPTOKEN_TEST_CA_FILE")),
		raptoken.WithRequestTimeout(5*time.Second),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	token, err := client.Token()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("got a token:", token != "")
	// Output: got a token: true
}

func ExampleNewFromEnv() {
	// Normally the deployment sets these; the example sets them for itself.
	for k, v := range map[string]string{
		"RAPIDATA_CLIENT_ID":     "demo-client",
		"RAPIDATA_CLIENT_SECRET": "demo-secret",
		"RAPIDATA_ISSUER":        os.Getenv("RAPTOKEN_TEST_ISSUER"),
		"RAPIDATA_CA_FILE":       os.Getenv("RAPTOKEN_TEST_CA_FILE"),
	} {
		os.Setenv(k, v)
		defer os.Unsetenv(k)
	}

	client, err := raptoken.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	token, err := client.Token()
	fmt.Println("got a token:", token != "", err)
	// Output: got a token: true <nil>
}

func newDemoClient() *raptoken.Client {
	client, err := raptoken.New(
		raptoken.WithClientCredentials("demo-client", "demo-secret"),
		raptoken.WithIssuer(os.Getenv("RAPTOKEN_TEST_ISSUER")),
		raptoken.WithCAFile(os.Getenv("RAPTOKEN_TEST_CA_FILE")),
	)
	if err != nil {
		log.Fatal(err)
	}
	return client
}

func ExampleClient_Token() {
	client := newDemoClient()
	defer client.Close()

	first, _ := client.Token()  // fetches
	second, _ := client.Token() // served from the cache
	fmt.Println("same token:", first == second)
	// Output: same token: true
}

func ExampleClient_TokenInfo() {
	client := newDemoClient()
	defer client.Close()

	// A token that stays valid for at least 10 more minutes, e.g. before a long upload.
	info, err := client.TokenInfo(10 * time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("lifetime:", info.Lifetime)
	fmt.Println("valid for 10 minutes:", time.Until(info.ExpiresAt) > 10*time.Minute)
	fmt.Println("renewed before it expires:", info.RefreshAt.Before(info.ExpiresAt))
	// Output:
	// lifetime: 1h0m0s
	// valid for 10 minutes: true
	// renewed before it expires: true
}

func ExampleClient_Invalidate() {
	client := newDemoClient()
	defer client.Close()

	token, _ := client.Token()
	// The API answered 401 to token: report it, so the next Token call fetches a new one.
	fmt.Println("dropped:", client.Invalidate(token))
	fresh, _ := client.Token()
	fmt.Println("new token:", fresh != token)
	// Reporting the old token again does nothing: the cache already holds a newer one.
	fmt.Println("dropped again:", client.Invalidate(token))
	// Output:
	// dropped: true
	// new token: true
	// dropped again: false
}

func ExampleClient_Close() {
	client := newDemoClient()
	client.Close()
	client.Close() // idempotent

	_, err := client.Token()
	fmt.Println(errors.Is(err, raptoken.ErrClosed))
	// Output: true
}

func ExampleClient_TokenSource() {
	client := newDemoClient()
	defer client.Close()

	// Where a program had clientcredentials.Config.Client(ctx):
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: testServerTLS()})
	httpClient := oauth2.NewClient(ctx, client.TokenSource())

	resp, err := httpClient.Get(os.Getenv("RAPTOKEN_TEST_API"))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}

func ExampleClient_Transport() {
	client := newDemoClient()
	defer client.Close()

	// Sets the bearer header, and on a 401 renews the token and retries once.
	httpClient := &http.Client{Transport: client.Transport(testServerTLS())}

	resp, err := httpClient.Get(os.Getenv("RAPTOKEN_TEST_API"))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}

func ExampleError() {
	client, err := raptoken.New(
		raptoken.WithClientCredentials("demo-client", "a-wrong-secret"),
		raptoken.WithIssuer(os.Getenv("RAPTOKEN_TEST_ISSUER")),
		raptoken.WithCAFile(os.Getenv("RAPTOKEN_TEST_CA_FILE")),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	_, err = client.Token()
	if errors.Is(err, raptoken.ErrOAuth) {
		var e *raptoken.Error
		errors.As(err, &e)
		fmt.Println(e.OAuthCode, e.HTTPStatus)
	}
	// Output: invalid_client 401
}

func ExampleWithRefreshAhead() {
	client, err := raptoken.New(
		raptoken.WithClientCredentials("demo-client", "demo-secret"),
		raptoken.WithIssuer(os.Getenv("RAPTOKEN_TEST_ISSUER")),
		raptoken.WithCAFile(os.Getenv("RAPTOKEN_TEST_CA_FILE")),
		raptoken.WithExpiryMargin(time.Minute),    // never serve a token with less than 1 min left
		raptoken.WithRefreshAhead(10*time.Minute), // renew 10 min before that, in one caller
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	info, err := client.TokenInfo(0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("renewed this long before expiry:", info.ExpiresAt.Sub(info.RefreshAt).Round(time.Second))
	// Output: renewed this long before expiry: 11m0s
}

func ExampleVersion() {
	fmt.Println(raptoken.Version() != "")
	// Output: true
}

// Log in once on a workstation: the person approves in the browser, and the credentials file
// then holds an API client that New (without credentials) and Rapidata's Python SDK use.
func ExampleLogin() {
	err := raptoken.Login(context.Background(), func(url string) {
		fmt.Println("Open this URL to log in to Rapidata:", url)
	})
	if err != nil {
		log.Fatal(err)
	}
	client, err := raptoken.New()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
}
