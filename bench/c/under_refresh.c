/*
 * Benchmark 2, under refresh: 4 threads ask rapidata_get_token for the token every 100 us across
 * a refresh-ahead renewal that the server answers in 200 ms. Calls follow a fixed schedule and
 * each is timed from when it was due, on a timeline that keeps only the time spent inside the
 * library (no coordinated omission: a caller stuck for 200 ms counts as 2000 late calls, not one;
 * and the harness's own sleep overshoot is not counted). Each call is classified by when it was due: "warm" (before refresh_at), "during"
 * (from refresh_at until some thread first sees the new token) or "after". The thread that made
 * the renewing call is set aside; the other threads' latency distribution is the result. A
 * per-millisecond timeline of the other threads (calls, mean, max) goes to a CSV for
 * bench/plot_refresh.py.
 *
 * Token: 5 s lifetime (used as 4 s: a second off for the server's whole-second clock), 1 s hard
 * margin, 2 s refresh-ahead window, so the renewal starts 1 s after the first fetch.
 * Usage: under_refresh TIMELINE.csv
 */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/prctl.h>

#define THREADS 4
#define NB 2000 /* timeline: 1 ms buckets from -1000 ms to +1000 ms around refresh_at */
#define DELAY_MS 200
#define PERIOD_NS 100000

typedef struct {
  hist_t h[3];
  uint64_t slowest; /* the slowest "during" call: the renewing thread has the slowest of all */
  uint64_t cnt[NB], sum[NB], max[NB];
} tstate_t;

static RapidataClient *client;
static uint64_t refresh_ns, warm_from_ns, end_ns;
static char first[64];
static size_t first_len;
static _Atomic uint64_t landed_ns;
static tstate_t *st[THREADS];
static pthread_barrier_t go;

static void *worker(void *arg) {
  tstate_t *s = arg;
  char buf[4096];
  prctl(PR_SET_TIMERSLACK, 1UL); /* wake on time: the schedule is the measurement */
  pthread_barrier_wait(&go);
  const uint64_t base = now_ns();
  uint64_t vend = 0;
  for (uint64_t k = 0;; k++) {
    const uint64_t due = base + k * PERIOD_NS;
    if (due >= end_ns) break;
    if (now_ns() < due) {
      struct timespec ts = {.tv_sec = (time_t)(due / 1000000000u), .tv_nsec = (long)(due % 1000000000u)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
      }
    }
    const uint64_t t0 = now_ns();
    size_t len = 0;
    if (rapidata_get_token(client, buf, sizeof buf, &len, NULL) != RAPIDATA_STATUS_OK) abort();
    const uint64_t t1 = now_ns();
    /* On a virtual timeline that keeps only time spent in the library: the call starts when it is
     * due or when the previous one ended, whichever is later (sleep overshoot is not counted). */
    const uint64_t vstart = vend > due ? vend : due;
    vend = vstart + (t1 - t0);
    const uint64_t lat = vend - due, ref = due;
    const uint64_t landed = atomic_load_explicit(&landed_ns, memory_order_relaxed);
    const int phase = ref < refresh_ns ? 0 : (landed && ref >= landed) ? 2 : 1;
    if (phase != 0 || ref >= warm_from_ns) hist_add(&s->h[phase], lat);
    if (phase == 1 && lat > s->slowest) s->slowest = lat;
    const int64_t rel = (int64_t)ref - (int64_t)refresh_ns;
    const int64_t b = (rel >= 0 ? rel / 1000000 : (rel - 999999) / 1000000) + NB / 2;
    if (b >= 0 && b < NB) {
      s->cnt[b]++;
      s->sum[b] += lat;
      if (lat > s->max[b]) s->max[b] = lat;
    }
    if (!landed && memcmp(buf, first, first_len) != 0) {
      uint64_t expected = 0;
      atomic_compare_exchange_strong(&landed_ns, &expected, t1);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: under_refresh TIMELINE.csv\n");
    return 2;
  }
  char url[512], query[128], id[64];
  snprintf(query, sizeof query, "size=1024&life=5&delay=%d&delay_from=2", DELAY_MS);
  snprintf(id, sizeof id, "refresh-%d", (int)getpid()); /* a run of its own on the server */
  endpoint(url, sizeof url, "https", id, query);
  client = make_client(url, 1000, 2000);

  char buf[4096];
  size_t len = 0;
  RapidataTokenInfo info;
  RapidataError *e = NULL;
  RapidataStatus s = rapidata_get_token_info(client, 0, buf, sizeof buf, &len, &info, &e);
  if (s != RAPIDATA_STATUS_OK) die_status("rapidata_get_token_info", s, e);
  /* "refresh-PID.0000000001.": the request number tells tokens apart */
  first_len = strlen(id) + 12;
  memcpy(first, buf, first_len);
  if (getenv("BENCH_DEBUG")) fprintf(stderr, "after first fetch: server saw %ld\n", server_count(id));
  /* refresh_at comes in Unix ms; 5 ms early absorbs the rounding of both conversions, so the
   * renewing call is never taken for a warm one. */
  const int64_t until_refresh_ms = info.refresh_at_unix_ms - unix_ms_now() - 5;
  if (until_refresh_ms < 100) {
    fprintf(stderr, "under_refresh: the token is due for renewal in %ld ms; the schedule needs about 1 s\n", (long)until_refresh_ms);
    return 1;
  }
  refresh_ns = now_ns() + (uint64_t)until_refresh_ms * 1000000u;
  warm_from_ns = now_ns() + 50000000; /* skip the first 50 ms: thread start-up */
  end_ns = refresh_ns + 800000000ull; /* before the renewed token is due for renewal itself */

  pthread_t t[THREADS];
  pthread_barrier_init(&go, NULL, THREADS);
  for (int i = 0; i < THREADS; i++) {
    st[i] = calloc(1, sizeof(tstate_t));
    pthread_create(&t[i], NULL, worker, st[i]);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);

  int renewer = 0;
  for (int i = 1; i < THREADS; i++)
    if (st[i]->slowest > st[renewer]->slowest) renewer = i;
  /* Since 0.2 the renewal runs on a thread of its own: the caller that finds the token due (the
   * slowest "during" call, as any other) no longer pays the server's 200 ms. */
  const uint64_t renewer_ns = st[renewer]->slowest;
  if (getenv("BENCH_DEBUG")) fprintf(stderr, "slowest thread %d: %lu ns\n", renewer, renewer_ns);
  if (!atomic_load(&landed_ns)) {
    fprintf(stderr, "under_refresh: no renewal was seen\n");
    return 1;
  }
  hist_t h[3] = {0};
  for (int i = 0; i < THREADS; i++)
    if (i != renewer)
      for (int p = 0; p < 3; p++) hist_merge(&h[p], &st[i]->h[p]);
  long requests = server_count(id);

  FILE *f = fopen(argv[1], "w");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  fprintf(f, "ms,calls,mean_ns,max_ns\n");
  for (int b = 0; b < NB; b++) {
    uint64_t cnt = 0, sum = 0, mx = 0;
    for (int i = 0; i < THREADS; i++) {
      if (i == renewer) continue;
      cnt += st[i]->cnt[b];
      sum += st[i]->sum[b];
      if (st[i]->max[b] > mx) mx = st[i]->max[b];
    }
    if (cnt) fprintf(f, "%d,%lu,%.1f,%lu\n", b - NB / 2, cnt, (double)sum / (double)cnt, mx);
  }
  fclose(f);

  printf("under refresh (raptoken): %d threads, each due every %d us; the server answers the renewal in %d ms.\n"
         "  The %d threads that did not renew:\n", THREADS, PERIOD_NS / 1000, DELAY_MS, THREADS - 1);
  const char *names[3] = {"warm", "during", "after"};
  for (int p = 0; p < 3; p++)
    printf("  %-7s %10lu calls  p50 %6lu ns  p99 %6lu ns  max %9lu ns\n", names[p], h[p].count,
           hist_quantile(&h[p], 0.5), hist_quantile(&h[p], 0.99), h[p].max);
  printf("  slowest call during the renewal (0.1: the renewing caller, ~%d ms): %.3f ms; others' p99 during / warm p99: %.2fx; server saw %ld requests\n",
         DELAY_MS, renewer_ns / 1e6, (double)hist_quantile(&h[1], 0.99) / (double)hist_quantile(&h[0], 0.99), requests);
  emit("\"bench\":\"under_refresh\",\"impl\":\"raptoken\",\"threads\":%d,\"delay_ms\":%d,"
       "\"warm_calls\":%lu,\"warm_p50_ns\":%lu,\"warm_p99_ns\":%lu,\"warm_max_ns\":%lu,"
       "\"during_calls\":%lu,\"during_p50_ns\":%lu,\"during_p99_ns\":%lu,\"during_max_ns\":%lu,"
       "\"renewer_ns\":%lu,\"requests\":%ld,\"period_ns\":%d,\"timeline\":\"%s\"",
       THREADS, DELAY_MS, h[0].count, hist_quantile(&h[0], 0.5), hist_quantile(&h[0], 0.99), h[0].max,
       h[1].count, hist_quantile(&h[1], 0.5), hist_quantile(&h[1], 0.99), h[1].max, renewer_ns, requests, PERIOD_NS, argv[1]);
  rapidata_free(client);
  return 0;
}
