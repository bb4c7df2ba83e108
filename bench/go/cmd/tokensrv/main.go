// Command tokensrv is the benchmarks' token endpoint: a minimal OAuth 2.0 client-credentials
// server on loopback that answers fast (so the client, not the server, is what gets measured),
// issues tokens of any size (a ~1 KB JWT-sized one by default), can answer slowly on demand and
// counts the requests it sees per benchmark.
//
//	tokensrv -dir DIR
//
// prints one JSON line when ready, {"http":...,"https":...,"ca_file":...}, also written to
// DIR/server.json, and exits when stdin reaches EOF or on SIGTERM.
//
// POST /token/ID?size=N&life=S&delay=MS&delay_from=K answers request number K, K+1, ... for ID
// (counted from 1) after MS milliseconds (&status=503 answers that status instead of a token);
// GET /count?id=ID returns how many requests ID made.
// TLS is HTTP/1.1 only, so every client measured speaks the same protocol.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var counters sync.Map // id -> *atomic.Int64

func counter(id string) *atomic.Int64 {
	c, _ := counters.LoadOrStore(id, new(atomic.Int64))
	return c.(*atomic.Int64)
}

func intParam(r *http.Request, name string, def int) int {
	if v := r.URL.Query().Get(name); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return n
		}
	}
	return def
}

// filler is base64url text, the alphabet of a real JWT, sliced to the size asked for.
var filler = strings.Repeat("eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9_abcdefghijklmnopqrstuvwxyz-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 1024)

func token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/token/")
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_request"}`)
		return
	}
	if _, _, ok := r.BasicAuth(); !ok && r.PostForm.Get("client_id") == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client"}`)
		return
	}
	n := counter(id).Add(1)
	if d := intParam(r, "delay", 0); d > 0 && n >= int64(intParam(r, "delay_from", 1)) {
		time.Sleep(time.Duration(d) * time.Millisecond)
	}
	// An outage on demand: every request answered with this status (e.g. 503).
	if st := intParam(r, "status", 0); st >= 400 && st <= 599 {
		w.WriteHeader(st)
		io.WriteString(w, "unavailable")
		return
	}
	size := min(max(intParam(r, "size", 1024), 16), len(filler))
	// Unique per request, so a renewed token is told apart from the one it replaces.
	prefix := fmt.Sprintf("%s.%010d.", id, n)
	tok := (prefix + filler)[:size]
	if len(prefix) > size {
		tok = fmt.Sprintf("%0*d", size, n)[:size]
	}
	body, _ := json.Marshal(map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   intParam(r, "life", 3600),
		"scope":        "openid roles email",
	})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.Write(body)
}

func count(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "%d\n", counter(r.URL.Query().Get("id")).Load())
}

// certificates makes a throwaway CA and a localhost certificate signed by it (rustls refuses a
// CA certificate used as the server's own).
func certificates(dir string) (tls.Certificate, string) {
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "raptoken bench CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(err)
	ca, err := x509.ParseCertificate(caDER)
	must(err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	must(err)
	caFile := filepath.Join(dir, "ca.pem")
	must(os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644))
	return tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}, caFile
}

func main() {
	dir := flag.String("dir", "", "directory for ca.pem and server.json (required)")
	flag.Parse()
	if *dir == "" {
		log.Fatal("tokensrv: -dir is required")
	}
	cert, caFile := certificates(*dir)

	mux := http.NewServeMux()
	mux.HandleFunc("/token/", token)
	mux.HandleFunc("/count", count)

	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	secure, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	quiet := log.New(io.Discard, "", 0) // clients that hang up mid-benchmark are expected
	go (&http.Server{Handler: mux, ErrorLog: quiet}).Serve(plain)
	tlsSrv := &http.Server{
		Handler: mux, ErrorLog: quiet,
		TLSConfig:    &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}},
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}, // no HTTP/2
	}
	go tlsSrv.ServeTLS(secure, "", "")

	ready, _ := json.Marshal(map[string]string{
		"http":    "http://" + plain.Addr().String(),
		"https":   "https://" + secure.Addr().String(),
		"ca_file": caFile,
	})
	if err := os.WriteFile(filepath.Join(*dir, "server.json"), append(ready, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(ready))

	done := make(chan struct{}, 2)
	go func() { io.Copy(io.Discard, os.Stdin); done <- struct{}{} }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; done <- struct{}{} }()
	<-done
}
