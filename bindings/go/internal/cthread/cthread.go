// Package cthread runs a C log callback on a thread that the Go runtime did not create, as a
// library fetching from its own threads would. Only the binding's tests use it.
package cthread

/*
#cgo LDFLAGS: -lpthread
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

typedef void (*log_callback)(void *user_data, uint32_t level, const char *message);

typedef struct {
	log_callback fn;
	void *user_data;
	uint32_t level;
	const char *message;
	int times;
} job;

static void *run(void *p) {
	job *j = p;
	for (int i = 0; i < j->times; i++) j->fn(j->user_data, j->level, j->message);
	return NULL;
}

// Calls fn `times` times on each of `threads` new pthreads at once; returns 0 once all are joined.
static int call_on_threads(uintptr_t fn, uintptr_t user_data, uint32_t level, const char *message, int threads, int times) {
	pthread_t t[16];
	job j = {(log_callback)fn, (void *)user_data, level, message, times};
	if (threads > 16) return -1;
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, run, &j) != 0) return -1;
	for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
	return 0;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// CallLog calls the log callback at address fn with userData, level and message, times times on
// each of threads (at most 16) new pthreads running at once, and returns when all have finished.
func CallLog(fn, userData uintptr, level uint32, message string, threads, times int) error {
	cm := C.CString(message)
	defer C.free(unsafe.Pointer(cm))
	if C.call_on_threads(C.uintptr_t(fn), C.uintptr_t(userData), C.uint32_t(level), cm, C.int(threads), C.int(times)) != 0 {
		return errors.New("cthread: could not start the threads")
	}
	return nil
}
