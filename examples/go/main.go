// A Go program that calls the Rapidata API with a token from raptoken, as a new user would
// write it. Credentials and settings come from the environment:
//
//	RAPIDATA_CLIENT_ID, RAPIDATA_CLIENT_SECRET   (or ~/.config/rapidata/credentials.json)
//	RAPIDATA_ISSUER / RAPIDATA_ENVIRONMENT      (default https://auth.rapidata.ai)
//	RAPTOKEN_EXAMPLE_API                        the URL to GET (default https://api.rapidata.ai/)
//
// Build the library first (`cargo build --release` at the repository root), then `go run .`.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	raptoken "github.com/rapidata/raptoken-go"
)

func main() {
	client, err := raptoken.NewFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	// Every request gets "Authorization: Bearer <token>"; a 401 renews the token and retries once.
	httpClient := &http.Client{Transport: client.Transport(nil), Timeout: 30 * time.Second}

	api := os.Getenv("RAPTOKEN_EXAMPLE_API")
	if api == "" {
		api = "https://api.rapidata.ai/"
	}
	resp, err := httpClient.Get(api)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("status:", resp.Status)

	info, err := client.TokenInfo(0) // the cached token and its expiry: no second request
	if err != nil {
		log.Fatal(err)
	}
	// A token is a secret: show only its first characters.
	fmt.Printf("token: %s... (%d characters)\n", info.Token[:min(8, len(info.Token))], len(info.Token))
	fmt.Println("expires:", info.ExpiresAt.UTC().Format(time.RFC3339))
}
