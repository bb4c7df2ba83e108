/*
 * Benchmark 9, an outage: 64 threads each ask for a token every 100 ms while the token server
 * answers every request with HTTP 503, for 10 s (2 s in quick mode). Counts the token requests
 * the server saw, per minute. The same run with rapidata_retry_now() before each call is the
 * baseline: it drops the client's memory of the failure, which is how 0.1 behaved (each caller
 * without a token started a new fetch of 3 attempts). Usage: outage
 */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>

#define THREADS 64
#define PERIOD_MS 100

static RapidataClient *client;
static uint64_t end_ns;
static int forget; /* 1: rapidata_retry_now before each call (the 0.1 behaviour) */
static _Atomic long calls, fast;

static void *worker(void *arg) {
  (void)arg;
  char buf[4096];
  for (uint64_t due = now_ns(); due < end_ns; due += PERIOD_MS * 1000000ull) {
    uint64_t now = now_ns();
    if (now < due) {
      struct timespec ts = {.tv_sec = (time_t)((due - now) / 1000000000u), .tv_nsec = (long)((due - now) % 1000000000u)};
      nanosleep(&ts, NULL);
    }
    if (forget) rapidata_retry_now(client, NULL);
    RapidataError *e = NULL;
    size_t len = 0;
    if (rapidata_get_token(client, buf, sizeof buf, &len, &e) == RAPIDATA_STATUS_OK) {
      fprintf(stderr, "outage: the server answered with a token\n");
      exit(1);
    }
    if (e && strstr(rapidata_error_message(e), "no request was sent")) atomic_fetch_add(&fast, 1);
    rapidata_error_free(e);
    atomic_fetch_add(&calls, 1);
  }
  return NULL;
}

static void run(int mode, const char *name, double secs, long *requests, long *n_calls, long *n_fast) {
  char url[512], id[64];
  snprintf(id, sizeof id, "outage-%s-%d", name, (int)getpid());
  endpoint(url, sizeof url, "https", id, "status=503");
  client = make_client(url, -1, -1);
  forget = mode;
  atomic_store(&calls, 0);
  atomic_store(&fast, 0);
  end_ns = now_ns() + (uint64_t)(secs * 1e9);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  rapidata_free(client);
  *requests = server_count(id);
  *n_calls = atomic_load(&calls);
  *n_fast = atomic_load(&fast);
}

int main(void) {
  const double secs = quick() ? 2 : 10;
  long req_now, calls_now, fast_now, req_before, calls_before, fast_before;
  run(0, "window", secs, &req_now, &calls_now, &fast_now);
  run(1, "forget", secs, &req_before, &calls_before, &fast_before);
  const double per_min = 60.0 / secs;
  printf("outage: %d threads, one call each per %d ms, %.0f s of HTTP 503\n", THREADS, PERIOD_MS, secs);
  printf("  back-off window (now):      %6ld calls, %6ld answered at once, %5ld token requests (%.0f / min)\n", calls_now,
         fast_now, req_now, req_now * per_min);
  printf("  no memory across calls (0.1): %4ld calls, %6ld answered at once, %5ld token requests (%.0f / min)\n",
         calls_before, fast_before, req_before, req_before * per_min);
  emit("\"bench\":\"outage\",\"threads\":%d,\"period_ms\":%d,\"secs\":%.0f,\"calls\":%ld,\"fast\":%ld,\"requests\":%ld,"
       "\"baseline_calls\":%ld,\"baseline_requests\":%ld",
       THREADS, PERIOD_MS, secs, calls_now, fast_now, req_now, calls_before, req_before);
  return 0;
}
