/*
 * Benchmark 6, footprint: in a fresh process that links only libc, the resident memory (VmRSS)
 * added by dlopen("libraptoken.so"), then by creating a client, then by fetching one token from
 * the local server over HTTPS; and the wall time from dlopen to that first token.
 * Usage: footprint PATH/TO/libraptoken.so   (one measurement per process: run it several times)
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench.h"

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
  if (f) fclose(f);
  return kb;
}

#define SYM(name) typeof(&name) p_##name = (typeof(&name))must_sym(h, #name)
static void *must_sym(void *h, const char *name) {
  void *p = dlsym(h, name);
  if (!p) {
    fprintf(stderr, "dlsym %s: %s\n", name, dlerror());
    exit(1);
  }
  return p;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: footprint LIBRARY\n");
    return 2;
  }
  char url[512];
  endpoint(url, sizeof url, "https", "footprint", "size=1024");
  const char *ca = need_env("BENCH_CA");
  long rss0 = rss_kb();
  uint64_t t0 = now_ns();
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  SYM(rapidata_options_new);
  SYM(rapidata_options_set_client_id);
  SYM(rapidata_options_set_client_secret);
  SYM(rapidata_options_set_token_endpoint);
  SYM(rapidata_options_set_ca_file);
  SYM(rapidata_client_new_with_options);
  SYM(rapidata_options_free);
  SYM(rapidata_get_token);
  SYM(rapidata_free);
  long rss_loaded = rss_kb();

  RapidataOptions *o = NULL;
  RapidataClient *c = NULL;
  if (p_rapidata_options_new(&o) || p_rapidata_options_set_client_id(o, "bench-client", NULL) ||
      p_rapidata_options_set_client_secret(o, "bench-secret", NULL) ||
      p_rapidata_options_set_token_endpoint(o, url, NULL) || p_rapidata_options_set_ca_file(o, ca, NULL) ||
      p_rapidata_client_new_with_options(o, &c, NULL)) {
    fprintf(stderr, "client setup failed\n");
    return 1;
  }
  p_rapidata_options_free(o);
  long rss_client = rss_kb();
  char buf[4096];
  size_t len = 0;
  if (p_rapidata_get_token(c, buf, sizeof buf, &len, NULL) != RAPIDATA_STATUS_OK) {
    fprintf(stderr, "fetch failed\n");
    return 1;
  }
  uint64_t t1 = now_ns();
  long rss_fetched = rss_kb();
  printf("{\"dlopen_to_token_ms\":%.3f,\"rss_dlopen_kb\":%ld,\"rss_client_kb\":%ld,\"rss_fetch_kb\":%ld}\n",
         (double)(t1 - t0) / 1e6, rss_loaded - rss0, rss_client - rss0, rss_fetched - rss0);
  p_rapidata_free(c);
  return 0;
}
