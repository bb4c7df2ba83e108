package raptoken

import (
	"bytes"
	"errors"
	"log"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rapidata/raptoken-go/internal/cthread"
)

// logRecorder collects log lines; its add is safe for concurrent use, as a log func must be.
type logRecorder struct {
	mu    sync.Mutex
	lines []logLine
}

type logLine struct {
	level LogLevel
	msg   string
}

func (r *logRecorder) add(level LogLevel, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, logLine{level, msg})
}

func (r *logRecorder) snapshot() []logLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]logLine(nil), r.lines...)
}

// count returns how many lines have the level and contain substr ("" matches all).
func (r *logRecorder) count(level LogLevel, substr string) int {
	n := 0
	for _, l := range r.snapshot() {
		if l.level == level && strings.Contains(l.msg, substr) {
			n++
		}
	}
	return n
}

// assertNoneContain fails if any line contains one of the secrets.
func (r *logRecorder) assertNoneContain(t *testing.T, secrets ...string) {
	t.Helper()
	for _, l := range r.snapshot() {
		for _, s := range secrets {
			if s != "" && strings.Contains(l.msg, s) {
				t.Errorf("a %s line contains a secret or token: %q", l.level, strings.ReplaceAll(l.msg, s, "<HERE>"))
			}
		}
	}
}

func TestLogFuncReceivesLinesWithoutSecrets(t *testing.T) {
	baseline := liveLogSinks.Load()
	rec := &logRecorder{}
	e := env(t)
	id, secret := freshID(t, "basic")
	c, err := New(WithClientCredentials(id, secret), WithIssuer(e.issuer), WithCAFile(e.caFile), WithLogFunc(LogDebug, rec.add))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n := liveLogSinks.Load(); n != baseline+1 {
		t.Fatalf("live log handles %d, want %d", n, baseline+1)
	}
	// New freed the C options already; the client's own reference must keep the callback alive
	// through garbage collections.
	runtime.GC()
	runtime.GC()
	t1 := mustToken(t, c)
	if len(rec.snapshot()) == 0 {
		t.Fatal("the log func received nothing during a fetch")
	}
	if rec.count(LogInfo, "token fetch succeeded") != 1 || rec.count(LogInfo, "discovery")+rec.count(LogDebug, "discovery") == 0 {
		t.Fatalf("want one INFO 'token fetch succeeded' and a discovery line, got %v", rec.snapshot())
	}
	for _, l := range rec.snapshot() {
		if l.level < LogError || l.level > LogDebug || l.msg == "" {
			t.Fatalf("bad line: level %d, %q", l.level, l.msg)
		}
	}
	// A second fetch logs too.
	c.Invalidate(t1)
	t2 := mustToken(t, c)
	if rec.count(LogInfo, "token fetch succeeded") != 2 {
		t.Fatalf("after a renewal: %v", rec.snapshot())
	}
	rec.assertNoneContain(t, secret, t1, t2)
	for _, l := range rec.snapshot() {
		t.Logf("%-5s %s", l.level, l.msg)
	}
	c.Close()
	if n := liveLogSinks.Load(); n != baseline {
		t.Fatalf("Close left %d log handles, want %d", n, baseline)
	}
}

func TestLogFuncLevelFilter(t *testing.T) {
	rec := &logRecorder{}
	c, _ := newTestClient(t, "basic", WithLogFunc(LogWarn, rec.add))
	mustToken(t, c)
	if lines := rec.snapshot(); len(lines) != 0 {
		t.Fatalf("a successful fetch logged at WARN or above: %v", lines)
	}

	// A failing fetch logs its retry at WARN and its failure at ERROR; INFO/DEBUG stay filtered.
	rec = &logRecorder{}
	c2, err := New(WithClientCredentials("retry-id", "retry-secret-value"), WithIssuer("http://"+refusingAddr(t)),
		WithMaxAttempts(2), WithRetryBackoff(10*time.Millisecond, 20*time.Millisecond), WithLogFunc(LogWarn, rec.add))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Token(); !errors.Is(err, ErrTransport) {
		t.Fatalf("want ErrTransport, got %v", err)
	}
	if rec.count(LogWarn, "retrying") != 1 || rec.count(LogError, "failed") != 1 || len(rec.snapshot()) != 2 {
		t.Fatalf("want one WARN retry line and one ERROR line, got %v", rec.snapshot())
	}
	rec.assertNoneContain(t, "retry-secret-value")
}

func TestLogFuncOptionsReplaceAndRelease(t *testing.T) {
	baseline := liveLogSinks.Load()
	first, second := &logRecorder{}, &logRecorder{}
	// The last WithLogFunc wins, and the handle it replaced is released at once.
	c, _ := newTestClient(t, "basic", WithLogFunc(LogDebug, first.add), WithLogFunc(LogDebug, second.add))
	if n := liveLogSinks.Load(); n != baseline+1 {
		t.Fatalf("live log handles %d, want %d", n, baseline+1)
	}
	mustToken(t, c)
	if len(first.snapshot()) != 0 || len(second.snapshot()) == 0 {
		t.Fatalf("first got %d lines, second %d", len(first.snapshot()), len(second.snapshot()))
	}
	c.Close()

	// A nil func turns logging off.
	c, _ = newTestClient(t, "basic", WithLogFunc(LogDebug, first.add), WithLogFunc(LogDebug, nil))
	mustToken(t, c)
	c.Close()
	if len(first.snapshot()) != 0 || liveLogSinks.Load() != baseline {
		t.Fatalf("nil log func: first got %d lines, live handles %d", len(first.snapshot()), liveLogSinks.Load())
	}

	// A New that fails, in an option or in the library, releases the handle.
	e := env(t)
	if _, err := New(WithLogFunc(LogDebug, first.add), WithIssuer("")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad issuer: %v", err)
	}
	if _, err := New(WithClientCredentials("basic-63", "secret-basic-63"), WithLogFunc(LogDebug, first.add),
		WithCAFile(filepath.Join(t.TempDir(), "none.pem"))); !errors.Is(err, ErrConfig) {
		t.Fatalf("missing CA file: %v", err)
	}
	for _, lvl := range []LogLevel{0, 5} {
		if _, err := New(WithClientCredentials("basic-63", "secret-basic-63"), WithIssuer(e.issuer), WithLogFunc(lvl, first.add)); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("level %d: %v", lvl, err)
		}
	}
	if n := liveLogSinks.Load(); n != baseline {
		t.Fatalf("failed New calls left %d log handles, want %d", n, baseline)
	}
}

func TestLogFuncPanicDoesNotCrash(t *testing.T) {
	var out bytes.Buffer
	defer log.SetOutput(log.Writer())
	log.SetOutput(&out)
	calls := &logRecorder{}
	c, id := newTestClient(t, "basic", WithLogFunc(LogDebug, func(level LogLevel, msg string) {
		calls.add(level, msg)
		panic("a log func that panics")
	}))
	t1 := mustToken(t, c)
	if got := apiStatus(t, t1); got != 200 {
		t.Fatalf("API answered %d", got)
	}
	n := len(calls.snapshot())
	if n < 2 {
		t.Fatalf("the log func was called %d times; every line should still be delivered", n)
	}
	c.Invalidate(t1)
	mustToken(t, c) // the client keeps working and keeps logging
	if len(calls.snapshot()) <= n || tokenRequests(t, id) != 2 {
		t.Fatalf("after the panics: %d calls (before %d), %d token requests", len(calls.snapshot()), n, tokenRequests(t, id))
	}
	if got := strings.Count(out.String(), "log function panicked"); got != 1 {
		t.Fatalf("the panic was reported %d times, want once: %q", got, out.String())
	}
}

func TestLogFuncOnThreadsGoDidNotCreate(t *testing.T) {
	// The library calls back on whichever thread fetches; a C thread is one Go never saw.
	rec := &logRecorder{}
	h := newLogHandle(rec.add)
	defer releaseLog(h)
	const threads, times = 8, 50
	if err := cthread.CallLog(logShimAddr, uintptr(h), uint32(LogWarn), "from a C thread", threads, times); err != nil {
		t.Fatal(err)
	}
	if n := rec.count(LogWarn, "from a C thread"); n != threads*times {
		t.Fatalf("got %d lines, want %d", n, threads*times)
	}
	// A panic there is recovered too.
	var out bytes.Buffer
	defer log.SetOutput(log.Writer())
	log.SetOutput(&out)
	p := newLogHandle(func(LogLevel, string) { panic("on a C thread") })
	defer releaseLog(p)
	if err := cthread.CallLog(logShimAddr, uintptr(p), uint32(LogError), "x", 2, 3); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "on a C thread") {
		t.Fatalf("panic not reported: %q", out.String())
	}
}

func TestForgottenClientReleasesLogHandle(t *testing.T) {
	baseline := liveLogSinks.Load()
	before := cleanupsRun.Load()
	func() {
		c, err := New(WithClientCredentials("basic-63", "secret-basic-63"), WithIssuer(env(t).issuer),
			WithCAFile(env(t).caFile), WithLogFunc(LogDebug, func(LogLevel, string) {}))
		if err != nil {
			t.Fatal(err)
		}
		mustToken(t, c) // no Close
	}()
	deadline := time.Now().Add(10 * time.Second)
	for cleanupsRun.Load() < before+1 || liveLogSinks.Load() != baseline {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s of GC: %d cleanups, %d live log handles (want %d)", cleanupsRun.Load()-before, liveLogSinks.Load(), baseline)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLogLevelString(t *testing.T) {
	for l, want := range map[LogLevel]string{LogError: "ERROR", LogWarn: "WARN", LogInfo: "INFO", LogDebug: "DEBUG", 9: "LogLevel(9)"} {
		if l.String() != want {
			t.Errorf("%d: %q, want %q", uint32(l), l.String(), want)
		}
	}
}
