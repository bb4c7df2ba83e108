// Command refresh is benchmark 2's comparison: the same run as bench/c/under_refresh.c with
// golang.org/x/oauth2's ReuseTokenSource (the cache clientcredentials.Config.TokenSource
// returns), which holds its mutex while it fetches. 4 goroutines ask Token() for the token every
// 100 us across a renewal the server answers in 200 ms; calls are scheduled, timed from when
// they were due (on a timeline of time spent in Token() only), classified and summarised exactly as in the C
// benchmark, the goroutine that renewed is set aside, and a per-millisecond timeline of the
// others goes to a CSV.
//
// ReuseTokenSource renews 10 s before expiry, so the token lives 11 s: the renewal starts 1 s in.
//
//	refresh -url URL -ca CA.pem -timeline OUT.csv -results RESULTS.jsonl
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"math/bits"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const (
	workers = 4
	nb      = 2000 // 1 ms buckets from -1000 ms to +1000 ms around the renewal
	delayMS = 200
	hbins   = 1024
	period  = 100 * time.Microsecond
)

// hist is bench/c/bench.h's histogram: 1 ns bins below 256 ns, then 32 per power of two.
type hist struct {
	n          [hbins]uint64
	count, max uint64
}

func bin(ns uint64) int {
	if ns < 256 {
		return int(ns)
	}
	lg := 63 - bits.LeadingZeros64(ns)
	b := 256 + (lg-8)*32 + int((ns>>(lg-5))&31)
	return min(b, hbins-1)
}

func lower(b int) uint64 {
	if b < 256 {
		return uint64(b)
	}
	lg := (b-256)/32 + 8
	return uint64(32+(b-256)%32) << (lg - 5)
}

func (h *hist) add(ns uint64) {
	h.n[bin(ns)]++
	h.count++
	h.max = max(h.max, ns)
}

func (h *hist) merge(o *hist) {
	for i := range h.n {
		h.n[i] += o.n[i]
	}
	h.count += o.count
	h.max = max(h.max, o.max)
}

func (h *hist) quantile(q float64) uint64 {
	if h.count == 0 {
		return 0
	}
	rank, seen := uint64(q*float64(h.count-1)), uint64(0)
	for i, n := range h.n {
		seen += n
		if seen > rank {
			return lower(i)
		}
	}
	return h.max
}

type state struct {
	h            [3]hist
	slowest      uint64
	cnt, sum, mx [nb]uint64
}

func main() {
	base := flag.String("url", "", "token server base URL (https)")
	caFile := flag.String("ca", "", "CA file")
	timeline := flag.String("timeline", "", "CSV output")
	results := flag.String("results", "", "JSON lines output (appended)")
	flag.Parse()

	pem, err := os.ReadFile(*caFile)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	id := fmt.Sprintf("refresh-go-%d", os.Getpid())
	cfg := clientcredentials.Config{
		ClientID: "bench-client", ClientSecret: "bench-secret", Scopes: []string{"openid", "roles", "email"},
		TokenURL:  fmt.Sprintf("%s/token/%s?size=1024&life=11&delay=%d&delay_from=2", *base, id, delayMS),
		AuthStyle: oauth2.AuthStyleInHeader,
	}
	ts := cfg.TokenSource(ctx) // an oauth2.ReuseTokenSource
	first, err := ts.Token()
	if err != nil {
		log.Fatal(err)
	}
	// ReuseTokenSource treats a token as expired 10 s early; 5 ms more, as in the C benchmark.
	origin := time.Now()
	refresh := first.Expiry.Add(-10*time.Second - 5*time.Millisecond).Sub(origin)
	warmFrom, end := 50*time.Millisecond, refresh+800*time.Millisecond
	var landed atomic.Int64 // ns since origin, 0 = not yet

	states := make([]*state, workers)
	var wg sync.WaitGroup
	for w := range workers {
		s := &state{}
		states[w] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			base := time.Since(origin)
			var vend time.Duration
			for k := time.Duration(0); ; k++ {
				due := base + k*period
				if due >= end {
					return
				}
				if d := due - time.Since(origin); d > 0 {
					time.Sleep(d)
				}
				t0 := time.Since(origin)
				tok, err := ts.Token()
				if err != nil {
					log.Fatal(err)
				}
				t1 := time.Since(origin)
				// The virtual timeline of bench/c/under_refresh.c: only time inside Token() counts.
				vend = max(vend, due) + (t1 - t0)
				lat, ref := uint64(vend-due), due
				l := time.Duration(landed.Load())
				phase := 1
				if ref < refresh {
					phase = 0
				} else if l != 0 && ref >= l {
					phase = 2
				}
				if phase != 0 || ref >= warmFrom {
					s.h[phase].add(lat)
				}
				if phase == 1 {
					s.slowest = max(s.slowest, lat)
				}
				rel := ref - refresh
				b := int(rel/time.Millisecond) + nb/2
				if rel < 0 {
					b = int((rel-time.Millisecond+1)/time.Millisecond) + nb/2
				}
				if b >= 0 && b < nb {
					s.cnt[b]++
					s.sum[b] += lat
					s.mx[b] = max(s.mx[b], lat)
				}
				if l == 0 && tok.AccessToken != first.AccessToken {
					landed.CompareAndSwap(0, int64(t1))
				}
			}
		}()
	}
	wg.Wait()

	renewer := 0
	for i, s := range states {
		if s.slowest > states[renewer].slowest {
			renewer = i
		}
	}
	renewerNS := states[renewer].slowest
	if renewerNS < delayMS*900000 {
		log.Fatalf("no renewal was seen (slowest call %.3f ms)", float64(renewerNS)/1e6)
	}
	var h [3]hist
	for i, s := range states {
		if i != renewer {
			for p := range h {
				h[p].merge(&s.h[p])
			}
		}
	}

	f, err := os.Create(*timeline)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(f, "ms,calls,mean_ns,max_ns")
	for b := range nb {
		var cnt, sum, mx uint64
		for i, s := range states {
			if i == renewer {
				continue
			}
			cnt += s.cnt[b]
			sum += s.sum[b]
			mx = max(mx, s.mx[b])
		}
		if cnt > 0 {
			fmt.Fprintf(f, "%d,%d,%.1f,%d\n", b-nb/2, cnt, float64(sum)/float64(cnt), mx)
		}
	}
	f.Close()

	fmt.Printf("under refresh (oauth2.ReuseTokenSource): %d goroutines, each due every %v; the server answers the renewal in %d ms.\n", workers, period, delayMS)
	fmt.Printf("  The %d goroutines that did not renew:\n", workers-1)
	for p, name := range []string{"warm", "during", "after"} {
		fmt.Printf("  %-7s %10d calls  p50 %6d ns  p99 %9d ns  max %9d ns\n", name, h[p].count, h[p].quantile(0.5), h[p].quantile(0.99), h[p].max)
	}
	fmt.Printf("  renewing caller: %.1f ms; others' p99 during / warm p99: %.2fx\n",
		float64(renewerNS)/1e6, float64(h[1].quantile(0.99))/float64(h[0].quantile(0.99)))
	out, err := os.OpenFile(*results, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(out, `{"bench":"under_refresh","impl":"oauth2.ReuseTokenSource","threads":%d,"delay_ms":%d,`+
		`"warm_calls":%d,"warm_p50_ns":%d,"warm_p99_ns":%d,"warm_max_ns":%d,`+
		`"during_calls":%d,"during_p50_ns":%d,"during_p99_ns":%d,"during_max_ns":%d,"renewer_ns":%d,"period_ns":%d,"timeline":"%s"}`+"\n",
		workers, delayMS, h[0].count, h[0].quantile(0.5), h[0].quantile(0.99), h[0].max,
		h[1].count, h[1].quantile(0.5), h[1].quantile(0.99), h[1].max, renewerNS, period.Nanoseconds(), *timeline)
	out.Close()
}
