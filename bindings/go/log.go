package raptoken

// This file holds the //export of the log callback, so its preamble may only declare: the C shim
// that calls raptokenGoLog and the setter that installs it live in cgo.go.

/*
#include <stdint.h>
#include "raptoken.h"
*/
import "C"

import (
	"log"
	"runtime/cgo"
	"sync/atomic"
)

// WithLogFunc sends the library's diagnostics to fn: lines at minLevel or more severe (LogWarn
// delivers LogError and LogWarn lines). Lines never contain a secret or a token. A nil fn
// turns logging off.
//
// fn runs on whichever goroutine (or thread the library created) is fetching, possibly several
// at once, so it must be safe for concurrent use. It runs while that call is inside the client:
// it must not call the client's methods (Close would deadlock). If fn panics, the panic is
// recovered (it must not unwind through the library's frames), the line is dropped, the first
// such panic is reported through the standard log package, and the client carries on.
//
// The Client keeps fn until Close (or until a forgotten Client is garbage collected); a fn that
// refers to its own Client keeps that Client reachable, so Close it.
func WithLogFunc(minLevel LogLevel, fn func(level LogLevel, msg string)) Option {
	return func(b *builder) error {
		var h cgo.Handle
		if fn != nil {
			h = newLogHandle(fn)
		}
		if err := setLogCallback(b.p, h, minLevel); err != nil {
			releaseLog(h)
			return err
		}
		// The last WithLogFunc wins, in the library and here.
		releaseLog(b.logHandle)
		b.logHandle = h
		return nil
	}
}

// logSink is what the cgo.Handle passed as user_data refers to.
type logSink struct {
	fn       func(LogLevel, string)
	panicked atomic.Bool
}

// liveLogSinks counts handles not yet deleted (for tests: Close and cleanups release them).
var liveLogSinks atomic.Int64

func newLogHandle(fn func(LogLevel, string)) cgo.Handle {
	liveLogSinks.Add(1)
	return cgo.NewHandle(&logSink{fn: fn})
}

// releaseLog deletes a handle once no client uses it any more; 0 is a no-op.
func releaseLog(h cgo.Handle) {
	if h != 0 {
		h.Delete()
		liveLogSinks.Add(-1)
	}
}

//export raptokenGoLog
func raptokenGoLog(handle C.uintptr_t, level C.uint32_t, message *C.char) {
	// Nothing may unwind into the library's frames: not the user's panic, not a bad handle.
	var s *logSink
	defer func() {
		if r := recover(); r != nil && (s == nil || !s.panicked.Swap(true)) {
			log.Printf("raptoken: the log function panicked (%v); its line was dropped, and further panics are not reported", r)
		}
	}()
	s = cgo.Handle(handle).Value().(*logSink)
	s.fn(LogLevel(level), C.GoString(message))
}
