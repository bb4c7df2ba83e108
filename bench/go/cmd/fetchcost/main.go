// Command fetchcost is benchmark 4's Go column: client CPU (getrusage of this process, so the
// server's is not counted) and wall time per token fetch with golang.org/x/oauth2's
// clientcredentials, in the modes of bench/c/fetch_cost.c: one http.Client kept alive, and a new
// transport (so a new connection and TLS handshake, CA file read) per fetch. One warm-up fetch
// per mode. HTTP/1.1, as for every client measured.
//
//	fetchcost -url URL -ca CA.pem -n N -results RESULTS.jsonl
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func transport(caFile string) *http.Transport {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: false}
}

func main() {
	url := flag.String("url", "", "token endpoint")
	caFile := flag.String("ca", "", "CA file")
	n := flag.Int("n", 100, "fetches per mode")
	results := flag.String("results", "", "JSON lines output (appended)")
	flag.Parse()

	cfg := clientcredentials.Config{
		ClientID: "bench-client", ClientSecret: "bench-secret", TokenURL: *url,
		Scopes: []string{"openid", "roles", "email"}, AuthStyle: oauth2.AuthStyleInHeader,
	}
	fetch := func(tr *http.Transport) {
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: tr})
		if _, err := cfg.Token(ctx); err != nil { // Config.Token always asks the server
			log.Fatal(err)
		}
	}
	kept := transport(*caFile)
	modes := []struct {
		name string
		once func()
	}{
		{"kept-alive", func() { fetch(kept) }},
		{"new connection", func() {
			tr := transport(*caFile)
			fetch(tr)
			tr.CloseIdleConnections()
		}},
	}
	impl := "Go x/oauth2 clientcredentials (" + runtime.Version() + ")"
	out, err := os.OpenFile(*results, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	for _, m := range modes {
		m.once()
		c0, t0 := cpu(), time.Now()
		for range *n {
			m.once()
		}
		cpuUS := float64(cpu()-c0) / float64(*n) / 1e3
		wallUS := float64(time.Since(t0)) / float64(*n) / 1e3
		fmt.Printf("  %-22s %-14s %9.1f us CPU  %9.1f us wall  per fetch (%d fetches)\n", impl, m.name, cpuUS, wallUS, *n)
		line, _ := json.Marshal(map[string]any{"bench": "fetch_cost", "impl": impl, "mode": m.name, "fetches": *n,
			"cpu_us": cpuUS, "wall_us": wallUS})
		fmt.Fprintln(out, string(line))
	}
}
