/*
 * Benchmark 4, fetch cost: client-side CPU time (getrusage: this process, or the child for the
 * curl command) and wall time per token fetch against the local token server (a separate
 * process, so its CPU is not counted), over HTTPS:
 *   - kept-alive: one client, the token dropped (rapidata_invalidate_token) before each fetch;
 *   - new connection: a fresh client per fetch (connection, TLS handshake, configuration).
 * raptoken also fetches kept alive as a private_key_jwt client (BENCH_EC_KEY, BENCH_RSA_KEY):
 * each fetch then signs a fresh assertion (the signing alone: benches/assertion_sign.rs).
 * Beside raptoken: libcurl (an easy handle reused / a new one per fetch; it does the HTTP only,
 * no JSON parsing) and the curl command (a process per fetch). Python authlib + httpx and Go's
 * clientcredentials are measured by bench/py/fetch_cost.py and bench/go/cmd/fetchcost.
 * Each mode makes one warm-up fetch first.
 */
#include "bench.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#ifdef HAVE_LIBCURL
#include <curl/curl.h>
#endif

extern char **environ;

typedef struct {
  uint64_t cpu, wall;
} cost_t;

static void report(const char *impl, const char *mode, int n, cost_t c) {
  double cpu_us = (double)c.cpu / n / 1000.0, wall_us = (double)c.wall / n / 1000.0;
  printf("  %-22s %-14s %9.1f us CPU  %9.1f us wall  per fetch (%d fetches)\n", impl, mode, cpu_us, wall_us, n);
  emit("\"bench\":\"fetch_cost\",\"impl\":\"%s\",\"mode\":\"%s\",\"fetches\":%d,\"cpu_us\":%.2f,\"wall_us\":%.2f", impl,
       mode, n, cpu_us, wall_us);
}

/* A client that authenticates with the key in `key_file` (the bench server ignores how). */
static RapidataClient *make_key_client(const char *url, const char *key_file) {
  RapidataOptions *o = NULL;
  RapidataClient *c = NULL;
  RapidataError *e = NULL;
  RapidataStatus s;
  if ((s = rapidata_options_new(&o)) != RAPIDATA_STATUS_OK) die_status("options", s, NULL);
  if ((s = rapidata_options_set_client_id(o, "bench-client", &e)) != RAPIDATA_STATUS_OK ||
      (s = rapidata_options_set_client_key_file(o, key_file, &e)) != RAPIDATA_STATUS_OK ||
      (s = rapidata_options_set_token_endpoint(o, url, &e)) != RAPIDATA_STATUS_OK ||
      (s = rapidata_options_set_ca_file(o, need_env("BENCH_CA"), &e)) != RAPIDATA_STATUS_OK ||
      (s = rapidata_client_new_with_options(o, &c, &e)) != RAPIDATA_STATUS_OK)
    die_status("key client", s, e);
  rapidata_options_free(o);
  return c;
}

static cost_t raptoken_keepalive_with(RapidataClient *c, int n) {
  char buf[4096];
  get_token_or_die(c, buf, sizeof buf);
  uint64_t cpu0 = cpu_ns(RUSAGE_SELF), t0 = now_ns();
  for (int i = 0; i < n; i++) {
    bool dropped = false;
    if (rapidata_invalidate_token(c, buf, &dropped, NULL) != RAPIDATA_STATUS_OK || !dropped) abort();
    get_token_or_die(c, buf, sizeof buf);
  }
  cost_t r = {cpu_ns(RUSAGE_SELF) - cpu0, now_ns() - t0};
  rapidata_free(c);
  return r;
}

static cost_t raptoken_keepalive(const char *url, int n) { return raptoken_keepalive_with(make_client(url, -1, -1), n); }

static cost_t raptoken_new(const char *url, int n) {
  char buf[4096];
  for (int i = -1; i < n; i++) { /* i == -1: warm-up */
    static uint64_t cpu0, t0;
    if (i == 0) cpu0 = cpu_ns(RUSAGE_SELF), t0 = now_ns();
    RapidataClient *c = make_client(url, -1, -1);
    get_token_or_die(c, buf, sizeof buf);
    rapidata_free(c);
    if (i == n - 1) return (cost_t){cpu_ns(RUSAGE_SELF) - cpu0, now_ns() - t0};
  }
  return (cost_t){0, 0};
}

#ifdef HAVE_LIBCURL
static size_t discard(char *p, size_t size, size_t n, void *ud) {
  (void)p;
  *(size_t *)ud += size * n;
  return size * n;
}

static void curl_fetch(CURL *h, const char *url, size_t *got) {
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CAINFO, need_env("BENCH_CA"));
  curl_easy_setopt(h, CURLOPT_USERPWD, "bench-client:bench-secret");
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, "grant_type=client_credentials&scope=openid%20roles%20email");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, got);
  long code = 0;
  if (curl_easy_perform(h) != CURLE_OK || curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
      code != 200) {
    fprintf(stderr, "libcurl fetch failed (HTTP %ld)\n", code);
    exit(1);
  }
}

static cost_t libcurl_run(const char *url, int n, int reuse) {
  size_t got = 0;
  CURL *h = curl_easy_init();
  curl_fetch(h, url, &got);
  uint64_t cpu0 = cpu_ns(RUSAGE_SELF), t0 = now_ns();
  for (int i = 0; i < n; i++) {
    if (!reuse) {
      curl_easy_cleanup(h);
      h = curl_easy_init();
    }
    curl_fetch(h, url, &got);
  }
  cost_t r = {cpu_ns(RUSAGE_SELF) - cpu0, now_ns() - t0};
  curl_easy_cleanup(h);
  return r;
}
#endif

/* The curl command, a process per fetch: its CPU is the child's rusage from wait4. */
static cost_t curl_process(const char *url, int n) {
  char *argv[] = {"curl", "-sS", "--fail", "-o", "/dev/null", "--cacert", (char *)need_env("BENCH_CA"),
                  "-u", "bench-client:bench-secret", "-d", "grant_type=client_credentials",
                  "-d", "scope=openid roles email", (char *)url, NULL};
  cost_t r = {0, 0};
  for (int i = -1; i < n; i++) {
    uint64_t t0 = now_ns();
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid, "curl", &fa, NULL, argv, environ) != 0) {
      perror("spawn curl");
      exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "curl failed\n");
      exit(1);
    }
    if (i < 0) continue;
    r.wall += now_ns() - t0;
    r.cpu += (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
             (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
  }
  return r;
}

int main(void) {
  const int n = quick() ? 10 : 300, n_proc = quick() ? 5 : 100;
  char url[512];
  endpoint(url, sizeof url, "https", "fetch-cost", "size=1024");
  printf("fetch cost over HTTPS (1 KB token), client CPU and wall time per fetch\n");
  report("raptoken", "kept-alive", n, raptoken_keepalive(url, n));
  report("raptoken", "new connection", n, raptoken_new(url, n));
  /* private_key_jwt: the same kept-alive fetch, signing an assertion each time. */
  const char *keys[][2] = {{"ES256", "BENCH_EC_KEY"}, {"RS256", "BENCH_RSA_KEY"}};
  for (int i = 0; i < 2; i++) {
    cost_t c = raptoken_keepalive_with(make_key_client(url, need_env(keys[i][1])), n);
    double cpu_us = (double)c.cpu / n / 1000.0, wall_us = (double)c.wall / n / 1000.0;
    printf("  %-22s %-14s %9.1f us CPU  %9.1f us wall  per fetch (%d fetches)\n", "raptoken, key", keys[i][0], cpu_us, wall_us, n);
    emit("\"bench\":\"jwt_cost\",\"what\":\"fetch\",\"alg\":\"%s\",\"fetches\":%d,\"cpu_us\":%.2f,\"wall_us\":%.2f", keys[i][0], n,
         cpu_us, wall_us);
  }
#ifdef HAVE_LIBCURL
  curl_global_init(CURL_GLOBAL_DEFAULT);
  report("libcurl (HTTP only)", "kept-alive", n, libcurl_run(url, n, 1));
  report("libcurl (HTTP only)", "new connection", n, libcurl_run(url, n, 0));
  curl_global_cleanup();
#endif
  report("curl (process)", "new connection", n_proc, curl_process(url, n_proc));
  return 0;
}
