/*
 * Benchmark 8 (bench/fleet.sh): the fleet cache. Two modes, against the benchmarks' token
 * server (scripts/bench.sh's environment); sharing comes from the environment
 * (RAPIDATA_SHARED_CACHE for the host, RAPIDATA_SHARED_CACHE_URL for Redis).
 *
 *   fleet start ID GATE   one of N processes started together: makes its client, waits at the
 *                         fifo GATE, gets a token; prints the microseconds from the gate's
 *                         release to the token (time to first token).
 *   fleet miss ID N       the cost of a miss: N times a new client (cold in-memory cache) gets a
 *                         token; prints the median microseconds of the get. With the token in
 *                         Redis that is a Redis read and a decryption; without, a token request.
 */
#include "bench.h"

#include <fcntl.h>

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: fleet start ID GATE | fleet miss ID N\n");
    return 2;
  }
  char url[512], buf[8192];
  endpoint(url, sizeof url, "https", argv[2], "");
  if (strcmp(argv[1], "start") == 0) {
    RapidataClient *c = make_client(url, -1, -1);
    int gate = open(argv[3], O_RDONLY);
    if (gate >= 0) close(gate);
    uint64_t t0 = now_ns();
    get_token_or_die(c, buf, sizeof buf);
    printf("%llu\n", (unsigned long long)((now_ns() - t0) / 1000));
    rapidata_free(c);
    return 0;
  }
  int n = atoi(argv[3]);
  if (n < 1 || n > 100000) return 2;
  uint64_t *us = calloc((size_t)n, sizeof *us);
  for (int i = 0; i < n; i++) {
    RapidataClient *c = make_client(url, -1, -1);
    uint64_t t0 = now_ns();
    get_token_or_die(c, buf, sizeof buf);
    us[i] = (now_ns() - t0) / 1000;
    rapidata_free(c);
  }
  qsort(us, (size_t)n, sizeof *us, cmp_u64);
  printf("%llu\n", (unsigned long long)us[n / 2]);
  free(us);
  memset(buf, 0, sizeof buf);
  return 0;
}
