package raptoken

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// stallingFront is a TCP front before the real test server's token endpoint that stalls on
// demand: while it holds, bytes from the client are not passed on (a new connection is
// accepted, so the client's connect succeeds, but its TLS handshake waits; on a kept-alive
// connection the request waits) until release. Otherwise it pipes bytes unchanged both ways
// (TLS stays end to end). The stall lasts exactly as long as the test wants, so no test races a
// fixed delay.
type stallingFront struct {
	ln       net.Listener
	upstream string
	url      string // the token endpoint through the front
	stalls   chan struct{}

	mu      sync.Mutex
	holding bool
	release chan struct{} // closed when the current hold ends
	conns   []net.Conn
	closed  bool
	wg      sync.WaitGroup
}

// newStallingFront starts a front that holds from the start; it is closed when the test ends.
func newStallingFront(t testing.TB) *stallingFront {
	t.Helper()
	u, err := url.Parse(env(t).tokenEndpoint)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &stallingFront{
		ln:       ln,
		upstream: net.JoinHostPort("127.0.0.1", u.Port()),
		// 127.0.0.1: the server's certificate names it, and the front listens on IPv4 only.
		url:     "https://" + ln.Addr().String() + u.Path,
		stalls:  make(chan struct{}, 1024),
		holding: true,
		release: make(chan struct{}),
	}
	f.wg.Add(1)
	go f.accept()
	t.Cleanup(f.close)
	return f
}

// client makes a test client of the given kind whose token requests go through the front.
func (f *stallingFront) client(t testing.TB, kind string) (*Client, string) {
	t.Helper()
	return newTestClient(t, kind, WithTokenEndpoint(f.url))
}

// waitStalls waits (at most max) until client bytes were held back n more times: a request (or
// a handshake) is stalled.
func (f *stallingFront) waitStalls(t testing.TB, n int, max time.Duration) {
	t.Helper()
	timer := time.NewTimer(max)
	defer timer.Stop()
	for i := 0; i < n; i++ {
		select {
		case <-f.stalls:
		case <-timer.C:
			t.Fatalf("the front held bytes %d time(s), expected %d within %s", i, n, max)
		}
	}
}

func (f *stallingFront) hold() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.holding {
		f.holding = true
		f.release = make(chan struct{})
	}
}

func (f *stallingFront) unhold() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.holding {
		f.holding = false
		close(f.release)
	}
}

func (f *stallingFront) close() {
	f.ln.Close()
	f.unhold()
	f.mu.Lock()
	f.closed = true
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait() // no goroutine of the front outlives the test
}

func (f *stallingFront) accept() {
	defer f.wg.Done()
	for {
		down, err := f.ln.Accept()
		if err != nil {
			return // closed
		}
		up, err := net.Dial("tcp", f.upstream)
		if err != nil {
			down.Close()
			continue
		}
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			down.Close()
			up.Close()
			return
		}
		f.conns = append(f.conns, down, up)
		f.wg.Add(1)
		f.mu.Unlock()
		go f.pipe(down, up)
	}
}

// pipe copies both ways until both directions ended, then closes both connections.
func (f *stallingFront) pipe(down, up net.Conn) {
	defer f.wg.Done()
	var both sync.WaitGroup
	both.Add(2)
	go func() { defer both.Done(); f.pump(down, up, true) }()
	go func() { defer both.Done(); f.pump(up, down, false) }()
	both.Wait()
	down.Close()
	up.Close()
}

// pump copies from one side to the other, holding client bytes while the front holds. At EOF
// it half-closes the other side; on an error it closes both, which ends the other pump.
func (f *stallingFront) pump(from, to net.Conn, fromClient bool) {
	buf := make([]byte, 16<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 && fromClient {
			f.mu.Lock()
			holding, release := f.holding, f.release
			f.mu.Unlock()
			if holding {
				f.stalls <- struct{}{}
				<-release
			}
		}
		if n > 0 {
			if _, werr := to.Write(buf[:n]); werr != nil {
				from.Close()
				to.Close()
				return
			}
		}
		if err == io.EOF {
			to.(*net.TCPConn).CloseWrite()
			return
		}
		if err != nil {
			from.Close()
			to.Close()
			return
		}
	}
}
