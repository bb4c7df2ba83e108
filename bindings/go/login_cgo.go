package raptoken

// The C side of Login (login.go): the URL callback's shim, and the call of rapidata_login with
// a cancellation flag that a goroutine sets when the context is done.

/*
#include <stdint.h>
#include "raptoken.h"

extern void raptokenGoLoginURL(uintptr_t handle, char *url);

static void raptoken_go_login_url_shim(void *user_data, const char *url) {
	raptokenGoLoginURL((uintptr_t)user_data, (char *)url);
}

static RapidataStatus raptoken_go_login(RapidataOptions *o, uintptr_t handle, RapidataCancellation *c,
                                        RapidataError **err) {
	return rapidata_login(o, handle ? raptoken_go_login_url_shim : NULL, (void *)handle, c, err);
}
*/
import "C"

import (
	"context"
	"runtime/cgo"
)

// login runs rapidata_login, cancelling it when ctx is done.
func login(ctx context.Context, o *C.RapidataOptions, h cgo.Handle) *Error {
	var cancel *C.RapidataCancellation
	if st := uint32(C.rapidata_cancellation_new(&cancel)); st != C.RAPIDATA_STATUS_OK {
		return takeError(st, nil)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			C.rapidata_cancellation_cancel(cancel)
		case <-done:
		}
	}()
	var cerr *C.RapidataError
	st := uint32(C.raptoken_go_login(o, C.uintptr_t(h), cancel, &cerr))
	close(done)
	<-stopped // the flag is freed only once nothing can cancel it any more
	C.rapidata_cancellation_free(cancel)
	if st != C.RAPIDATA_STATUS_OK {
		return takeError(st, cerr)
	}
	return nil
}
