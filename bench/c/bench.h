/*
 * Shared by the C benchmarks: clocks, the local token server's addresses (from the environment
 * scripts/bench.sh sets), a client factory, a tiny HTTP GET for the server's request counters,
 * a log-linear latency histogram and the results file (one JSON object per line).
 */
#ifndef RAPTOKEN_BENCH_H
#define RAPTOKEN_BENCH_H

#define _GNU_SOURCE
#include "raptoken.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int64_t unix_ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* User + system CPU time of this process, in ns. */
static inline uint64_t cpu_ns(int who) {
  struct rusage ru;
  getrusage(who, &ru);
  return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
         (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
}

static inline const char *need_env(const char *name) {
  const char *v = getenv(name);
  if (!v || !*v) {
    fprintf(stderr, "%s is not set: run this through scripts/bench.sh\n", name);
    exit(2);
  }
  return v;
}

static inline int quick(void) {
  const char *q = getenv("BENCH_QUICK");
  return q && *q && strcmp(q, "0") != 0;
}

static inline void die_status(const char *what, RapidataStatus s, RapidataError *e) {
  fprintf(stderr, "%s: %s: %s\n", what, rapidata_status_name(s), e ? rapidata_error_message(e) : "");
  exit(1);
}

/* The token endpoint URL for one benchmark: its own id (so server counts don't mix) and query. */
static inline void endpoint(char *out, size_t n, const char *scheme, const char *id, const char *query) {
  const char *base = need_env(strcmp(scheme, "http") == 0 ? "BENCH_HTTP" : "BENCH_HTTPS");
  snprintf(out, n, "%s/token/%s%s%s", base, id, query && *query ? "?" : "", query ? query : "");
}

/* A client for `url`; margin_ms / ahead_ms < 0 keep the defaults. */
static inline RapidataClient *make_client(const char *url, int margin_ms, int ahead_ms) {
  RapidataOptions *o = NULL;
  RapidataClient *c = NULL;
  RapidataError *e = NULL;
  RapidataStatus s;
  if ((s = rapidata_options_new(&o)) != RAPIDATA_STATUS_OK) die_status("options", s, NULL);
#define SET(call) \
  if ((s = (call)) != RAPIDATA_STATUS_OK) die_status(#call, s, e)
  SET(rapidata_options_set_client_id(o, "bench-client", &e));
  SET(rapidata_options_set_client_secret(o, "bench-secret", &e));
  SET(rapidata_options_set_token_endpoint(o, url, &e));
  if (strncmp(url, "https:", 6) == 0) SET(rapidata_options_set_ca_file(o, need_env("BENCH_CA"), &e));
  if (margin_ms >= 0) SET(rapidata_options_set_expiry_margin_ms(o, (uint32_t)margin_ms, &e));
  if (ahead_ms >= 0) SET(rapidata_options_set_refresh_ahead_ms(o, (uint32_t)ahead_ms, &e));
  SET(rapidata_client_new_with_options(o, &c, &e));
#undef SET
  rapidata_options_free(o);
  return c;
}

static inline size_t get_token_or_die(RapidataClient *c, char *buf, size_t n) {
  size_t len = 0;
  RapidataError *e = NULL;
  RapidataStatus s = rapidata_get_token(c, buf, n, &len, &e);
  if (s != RAPIDATA_STATUS_OK) die_status("rapidata_get_token", s, e);
  return len;
}

/* How many token requests the server saw for `id` (GET /count on the plain-HTTP listener). */
static inline long server_count(const char *id) {
  const char *base = need_env("BENCH_HTTP"); /* http://127.0.0.1:PORT */
  const char *colon = strrchr(base, ':');
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("server_count: connect");
    exit(1);
  }
  char req[256], resp[1024];
  int n = snprintf(req, sizeof req, "GET /count?id=%s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", id);
  if (write(fd, req, (size_t)n) != n) exit(1);
  size_t got = 0;
  ssize_t r;
  while (got < sizeof resp - 1 && (r = read(fd, resp + got, sizeof resp - 1 - got)) > 0) got += (size_t)r;
  close(fd);
  resp[got] = 0;
  const char *body = strstr(resp, "\r\n\r\n");
  return body ? atol(body + 4) : -1;
}

/* Latency histogram: 1 ns bins below 256 ns, then 32 bins per power of two up to ~4 s (3 %). */
#define HBINS 1024
typedef struct {
  uint64_t n[HBINS];
  uint64_t count, max;
} hist_t;

static inline int hist_bin(uint64_t ns) {
  if (ns < 256) return (int)ns;
  int lg = 63 - __builtin_clzll(ns);
  int b = 256 + (lg - 8) * 32 + (int)((ns >> (lg - 5)) & 31);
  return b < HBINS ? b : HBINS - 1;
}
static inline uint64_t hist_lower(int b) {
  if (b < 256) return (uint64_t)b;
  int lg = (b - 256) / 32 + 8;
  return (uint64_t)(32 + (b - 256) % 32) << (lg - 5);
}
static inline void hist_add(hist_t *h, uint64_t ns) {
  h->n[hist_bin(ns)]++;
  h->count++;
  if (ns > h->max) h->max = ns;
}
static inline void hist_merge(hist_t *into, const hist_t *h) {
  for (int i = 0; i < HBINS; i++) into->n[i] += h->n[i];
  into->count += h->count;
  if (h->max > into->max) into->max = h->max;
}
/* The q-quantile (0..1), as the lower edge of its bin. */
static inline uint64_t hist_quantile(const hist_t *h, double q) {
  if (h->count == 0) return 0;
  uint64_t rank = (uint64_t)(q * (double)(h->count - 1)), seen = 0;
  for (int i = 0; i < HBINS; i++) {
    seen += h->n[i];
    if (seen > rank) return hist_lower(i);
  }
  return h->max;
}

/* Appends one JSON object (the caller's fields, without braces) to $BENCH_RESULTS. */
static inline void emit(const char *fmt, ...) {
  const char *path = getenv("BENCH_RESULTS");
  FILE *f = path && *path ? fopen(path, "a") : stdout;
  if (!f) {
    perror(path);
    exit(1);
  }
  va_list ap;
  va_start(ap, fmt);
  fputc('{', f);
  vfprintf(f, fmt, ap);
  fputs("}\n", f);
  va_end(ap);
  if (f != stdout) fclose(f);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
static inline double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
