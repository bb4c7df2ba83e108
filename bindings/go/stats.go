package raptoken

/*
#include "raptoken.h"
*/
import "C"

import (
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

// Stats returns the client's counters. It is cheap and does not slow callers getting tokens.
// CacheHits includes the Token, TokenInfo and TokenSource calls the binding answered from its
// memo of the library's token (see the package documentation): each is a call the library would
// have answered from its cache. After Close it returns an error matching ErrClosed.
func (c *Client) Stats() (Stats, error) {
	if c == nil {
		return Stats{}, closedError()
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ptr == nil {
		return Stats{}, closedError()
	}
	var s C.RapidataStats
	st := uint32(C.rapidata_client_stats(c.ptr, &s))
	runtime.KeepAlive(c)
	if st != C.RAPIDATA_STATUS_OK {
		return Stats{}, takeError(st, nil)
	}
	stats := statsFromC(&s)
	stats.CacheHits += c.hits.sum()
	return stats, nil
}

// unixMilli maps the ABI's "0 means never" to the zero time.Time.
func unixMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// hitCounter counts memo hits. The memo path is ~20 ns, so one shared atomic would make
// goroutines on different cores fight over its cache line (a micro-benchmark of the memo path
// went from 11 to 56 ns/op in parallel on 2 cores). Like the library's per-thread stripes, each goroutine adds to a stripe chosen by
// its stack address, which differs between goroutines and stays put while one runs.
type hitCounter struct {
	_       [128]byte // keeps the first stripe off the cache lines of whatever is allocated before
	stripes [hitStripes]struct {
		n atomic.Uint64
		_ [128 - 8]byte // one stripe per pair of cache lines (adjacent-line prefetch)
	}
}

const (
	hitStripeBits = 5
	hitStripes    = 1 << hitStripeBits
)

func (h *hitCounter) add() {
	var onStack byte
	// Fibonacci hashing of the address (in KiB) picks the stripe from the top bits.
	i := (uint64(uintptr(unsafe.Pointer(&onStack))>>10) * 0x9E3779B97F4A7C15) >> (64 - hitStripeBits)
	h.stripes[i%hitStripes].n.Add(1)
}

func (h *hitCounter) sum() uint64 {
	var n uint64
	for i := range h.stripes {
		n += h.stripes[i].n.Load()
	}
	return n
}
