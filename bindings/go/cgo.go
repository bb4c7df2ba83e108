package raptoken

// Where raptoken.h and the library come from is decided by the link_*.go files (this checkout's
// target/release, the module's prebuilt archives, or pkg-config with -tags raptoken_system).

/*
#include <stdlib.h>
#include <string.h>
#include "raptoken.h"

// All outputs of rapidata_get_token_info in one struct, so the Go side passes one pointer
// (into pooled memory) instead of three that would each escape to the heap.
typedef struct {
	size_t len;
	RapidataTokenInfo info;
	RapidataError *err;
} raptoken_go_out;

static uint32_t raptoken_go_get(RapidataClient *c, uint32_t min_valid_ms, char *buf, size_t buf_len,
                                raptoken_go_out *out) {
	out->err = NULL;
	return (uint32_t)rapidata_get_token_info(c, min_valid_ms, buf, buf_len, &out->len, &out->info, &out->err);
}

// The log callback: the library calls this shim with the exact RapidataLogCallback signature;
// it passes the cgo.Handle (smuggled through user_data as an integer) on to the exported Go
// function raptokenGoLog (log.go). A file with //export may hold only declarations, hence here.
extern void raptokenGoLog(uintptr_t handle, uint32_t level, char *message);

static void raptoken_go_log_shim(void *user_data, uint32_t level, const char *message) {
	raptokenGoLog((uintptr_t)user_data, level, (char *)message);
}

static uintptr_t raptoken_go_log_shim_addr(void) { return (uintptr_t)raptoken_go_log_shim; }

static RapidataStatus raptoken_go_set_log(RapidataOptions *o, uintptr_t handle, uint32_t min_level,
                                          RapidataError **err) {
	return rapidata_options_set_log_callback(o, handle ? raptoken_go_log_shim : NULL, (void *)handle,
	                                         min_level, err);
}

// Wipes and frees a C copy of a secret.
static void raptoken_go_free_secret(char *s) {
	if (s != NULL) {
		volatile char *p = s;
		while (*p) *p++ = 0;
		free(s);
	}
}
*/
import "C"

import (
	"runtime/cgo"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// cString copies s into C memory; the caller frees it with freeCString (or wipeCString for
// secrets). An embedded NUL would silently truncate the value, so it is an error instead.
func cString(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, invalidArgument("%s contains a NUL byte", what)
	}
	return C.CString(s), nil
}

func freeCString(p *C.char) { C.free(unsafe.Pointer(p)) }

func wipeCString(p *C.char) { C.raptoken_go_free_secret(p) }

// takeError turns a failed call's status and owned error object into an *Error, and frees the
// object (exactly once: this is the only place that frees errors from calls that failed).
func takeError(st uint32, e *C.RapidataError) *Error {
	err := &Error{Status: Status(st)}
	if e == nil {
		err.Message = err.Status.String()
		return err
	}
	defer C.rapidata_error_free(e)
	err.Status = Status(C.rapidata_error_status(e)) // the same as st; the error object is the record
	if m := C.rapidata_error_message(e); m != nil {
		err.Message = C.GoString(m)
	}
	if c := C.rapidata_error_oauth_code(e); c != nil {
		err.OAuthCode = C.GoString(c)
	}
	if d := C.rapidata_error_oauth_description(e); d != nil {
		err.OAuthDescription = C.GoString(d)
	}
	err.HTTPStatus = int(C.rapidata_error_http_status(e))
	if ms := int64(C.rapidata_error_retry_after_unix_ms(e)); ms != 0 {
		err.RetryAfter = time.UnixMilli(ms)
	}
	return err
}

// logShimAddr is the address of the C log callback, for the test that calls it from threads the
// Go runtime did not create.
var logShimAddr = uintptr(C.raptoken_go_log_shim_addr())

// setLogCallback installs the shim with handle h as user_data, or removes the callback if h is 0.
func setLogCallback(o *C.RapidataOptions, h cgo.Handle, minLevel LogLevel) error {
	var cerr *C.RapidataError
	if st := uint32(C.raptoken_go_set_log(o, C.uintptr_t(h), C.uint32_t(minLevel), &cerr)); st != C.RAPIDATA_STATUS_OK {
		return takeError(st, cerr)
	}
	return nil
}

// Version returns the version of the linked raptoken library, e.g. "0.1.0".
func Version() string { return C.GoString(C.rapidata_version()) }

// headerVersion is the version of include/raptoken.h this package was compiled against.
const headerVersion = C.RAPTOKEN_VERSION

// scratch is the per-call memory for rapidata_get_token_info: the token buffer and the outputs.
// It is pooled so that the cgo path allocates nothing when the token has not changed.
type scratch struct {
	out C.raptoken_go_out
	buf []byte
}

const (
	initialBufSize = 512     // opaque tokens are ~50 bytes, JWTs ~1 KiB; grows on BUFFER_TOO_SMALL
	maxPooledBuf   = 1 << 16 // larger buffers are not kept
)

var scratchPool = sync.Pool{New: func() any { return &scratch{buf: make([]byte, initialBufSize)} }}

// getToken calls rapidata_get_token_info, growing the buffer while the library reports
// BUFFER_TOO_SMALL. On success it returns the token (reusing have when the bytes are equal, so
// an unchanged token costs no allocation) and the library's instants. The caller must hold a
// read lock that keeps p alive.
func getToken(p *C.RapidataClient, minValidMs uint32, have string) (string, C.RapidataTokenInfo, *Error) {
	s := scratchPool.Get().(*scratch)
	defer func() {
		if cap(s.buf) <= maxPooledBuf {
			scratchPool.Put(s)
		}
	}()
	// The token can change between two attempts (a renewal may bring a longer one), so allow a
	// few rounds; each round's needed length comes from the library itself.
	for attempt := 0; ; attempt++ {
		st := C.raptoken_go_get(p, C.uint32_t(minValidMs), (*C.char)(unsafe.Pointer(&s.buf[0])), C.size_t(len(s.buf)), &s.out)
		if st == C.RAPIDATA_STATUS_OK {
			n := int(s.out.len)
			b := s.buf[:n]
			var tok string
			if string(b) == have { // no allocation for the comparison
				tok = have
			} else {
				tok = string(b)
			}
			clear(b) // tokens are secrets: leave no copy in the pooled buffer
			return tok, s.out.info, nil
		}
		err := s.out.err
		if st == C.RAPIDATA_STATUS_BUFFER_TOO_SMALL && attempt < 4 {
			C.rapidata_error_free(err)
			s.buf = make([]byte, int(s.out.len)+1+64)
			continue
		}
		return "", s.out.info, takeError(uint32(st), err)
	}
}
