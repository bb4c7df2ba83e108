/*
 * Benchmark 3, thundering herd: 64 threads call rapidata_get_token at once (a) on a cold client
 * and (b) across the hard expiry of its token (refresh-ahead off, so nobody renews early), and
 * the server counts the token requests it got. The server answers in 50 ms so the herd piles up
 * while the one request is in flight. Goal: 1 request each time.
 */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>

#define THREADS 64

static RapidataClient *client;
static pthread_barrier_t go;
static uint64_t deadline_ns;
static char first[64];
static size_t first_len;
static _Atomic int failures;

static void *cold(void *arg) {
  (void)arg;
  char buf[4096];
  size_t len = 0;
  pthread_barrier_wait(&go);
  if (rapidata_get_token(client, buf, sizeof buf, &len, NULL) != RAPIDATA_STATUS_OK) atomic_fetch_add(&failures, 1);
  return NULL;
}

/* Calls back to back until this thread sees the token that replaced the expired one. */
static void *expiry(void *arg) {
  (void)arg;
  char buf[4096];
  size_t len = 0;
  pthread_barrier_wait(&go);
  while (now_ns() < deadline_ns) {
    if (rapidata_get_token(client, buf, sizeof buf, &len, NULL) != RAPIDATA_STATUS_OK) {
      atomic_fetch_add(&failures, 1);
      break;
    }
    if (memcmp(buf, first, first_len) != 0) break;
  }
  return NULL;
}

static long herd(void *(*fn)(void *), const char *id) {
  pthread_t t[THREADS];
  long before = server_count(id);
  pthread_barrier_init(&go, NULL, THREADS);
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, fn, NULL);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&go);
  return server_count(id) - before;
}

int main(void) {
  char url[512], id[64];
  snprintf(id, sizeof id, "herd-cold-%d", (int)getpid());
  endpoint(url, sizeof url, "https", id, "size=1024&delay=50");
  client = make_client(url, -1, -1);
  long cold_requests = herd(cold, id);
  int cold_failures = atomic_exchange(&failures, 0);
  rapidata_free(client);

  /* 3 s tokens (used as 2 s: a second off for whole-second clocks), 500 ms hard margin, no
   * refresh-ahead: usable for 1.5 s, then all 64 hit expiry. */
  snprintf(id, sizeof id, "herd-expiry-%d", (int)getpid());
  endpoint(url, sizeof url, "https", id, "size=1024&life=3&delay=50");
  client = make_client(url, 500, 0);
  char buf[4096];
  get_token_or_die(client, buf, sizeof buf);
  first_len = strlen(id) + 12; /* "herd-expiry-PID.0000000001." */
  memcpy(first, buf, first_len);
  deadline_ns = now_ns() + 5000000000ull;
  long expiry_requests = herd(expiry, id);
  int expiry_failures = atomic_exchange(&failures, 0);
  rapidata_free(client);

  printf("thundering herd: %d threads, server answers in 50 ms\n", THREADS);
  printf("  cold client:  %ld token request(s), %d failed calls\n", cold_requests, cold_failures);
  printf("  hard expiry:  %ld token request(s), %d failed calls\n", expiry_requests, expiry_failures);
  emit("\"bench\":\"herd\",\"threads\":%d,\"cold_requests\":%ld,\"cold_failures\":%d,"
       "\"expiry_requests\":%ld,\"expiry_failures\":%d",
       THREADS, cold_requests, cold_failures, expiry_requests, expiry_failures);
  return 0;
}
