#define _POSIX_C_SOURCE 200809L
/*
 * The C ABI exercised from C: every function, every NULL / invalid-argument path, and the
 * network paths against the real OIDC provider (RAPTOKEN_TEST_* from testing/with-oidc-server.sh).
 * Built with -Wall -Wextra -Werror -Wpedantic and run under valgrind by scripts/test.d/20-c.sh.
 */
#include "raptoken.h"
#include "check.h"

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>



static void test_version_and_names(void) {
  CHECK(strcmp(rapidata_version(), RAPTOKEN_VERSION) == 0);
  CHECK(strcmp(rapidata_status_name(RAPIDATA_STATUS_OAUTH), "RAPIDATA_STATUS_OAUTH") == 0);
  CHECK(strcmp(rapidata_status_name(RAPIDATA_STATUS_PANIC), "RAPIDATA_STATUS_PANIC") == 0);
  CHECK(strcmp(rapidata_status_name(999), "RAPIDATA_STATUS_UNKNOWN") == 0);
  /* Values are part of the contract. */
  CHECK(RAPIDATA_STATUS_OK == 0 && RAPIDATA_STATUS_INVALID_ARGUMENT == 1 && RAPIDATA_STATUS_NO_CREDENTIALS == 2 &&
        RAPIDATA_STATUS_BUFFER_TOO_SMALL == 3 && RAPIDATA_STATUS_CONFIG == 4 && RAPIDATA_STATUS_TRANSPORT == 5 &&
        RAPIDATA_STATUS_TIMEOUT == 6 && RAPIDATA_STATUS_HTTP == 7 && RAPIDATA_STATUS_OAUTH == 8 &&
        RAPIDATA_STATUS_PROTOCOL == 9 && RAPIDATA_STATUS_PANIC == 10 && RAPIDATA_STATUS_CANCELLED == 11);
}

static void test_null_and_invalid_arguments(void) {
  const char bad_utf8[] = {'\xff', '\xfe', 0};
  RapidataOptions *o = NULL;
  RapidataClient *c = NULL;
  char buf[16];
  size_t len = 0;

  CHECK(rapidata_options_new(NULL) == RAPIDATA_STATUS_INVALID_ARGUMENT);
  CHECK(rapidata_options_new(&o) == RAPIDATA_STATUS_OK && o != NULL);

  /* Every setter: NULL options, NULL value, invalid UTF-8; out_error NULL is allowed too. */
  typedef RapidataStatus (*setter)(RapidataOptions *, const char *, RapidataError **);
  setter setters[] = {rapidata_options_set_client_id,  rapidata_options_set_client_secret,
                      rapidata_options_set_issuer,     rapidata_options_set_environment,
                      rapidata_options_set_token_endpoint, rapidata_options_set_scope,
                      rapidata_options_set_ca_file,    rapidata_options_set_credentials_file,
                      rapidata_options_set_shared_cache_dir, rapidata_options_set_token_file,
                      rapidata_options_set_client_key, rapidata_options_set_client_key_file,
                      rapidata_options_set_client_key_id, rapidata_options_set_assertion_audience,
                      rapidata_options_set_audience, rapidata_options_add_resource};
  for (size_t i = 0; i < sizeof setters / sizeof setters[0]; i++) {
    EXPECT(setters[i](NULL, "x", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "options is NULL");
    EXPECT(setters[i](o, NULL, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "is NULL");
    EXPECT(setters[i](o, bad_utf8, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "UTF-8");
    CHECK(setters[i](o, NULL, NULL) == RAPIDATA_STATUS_INVALID_ARGUMENT);
  }
  EXPECT(rapidata_options_set_client_id(o, "", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "empty");
  EXPECT(rapidata_options_set_shared_cache_dir(o, "", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "empty");
  EXPECT(rapidata_options_set_token_file(o, "", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "empty");
  EXPECT(rapidata_options_set_shared_cache(NULL, true, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "options is NULL");
  CHECK(rapidata_options_set_shared_cache(o, false, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_options_set_issuer(o, "ftp://auth.example", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "http");
  EXPECT(rapidata_options_set_issuer(o, "http://auth.example", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "https");
  EXPECT(rapidata_options_set_token_endpoint(o, "not a url", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  EXPECT(rapidata_options_set_environment(o, "no spaces.ai x", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  EXPECT(rapidata_options_set_scope(o, "openid \"x\"", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "scope");
  EXPECT(rapidata_options_set_auth_method(o, 7, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "auth method");
  EXPECT(rapidata_options_set_auth_method(NULL, 0, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  EXPECT(rapidata_options_set_connect_timeout_ms(o, 0, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "greater");
  EXPECT(rapidata_options_set_request_timeout_ms(o, 0, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "greater");
  EXPECT(rapidata_options_set_connect_timeout_ms(NULL, 1, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  EXPECT(rapidata_options_set_request_timeout_ms(NULL, 1, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  EXPECT(rapidata_options_set_expiry_margin_ms(NULL, 1, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  EXPECT(rapidata_options_set_refresh_ahead_ms(NULL, 1, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  CHECK(rapidata_options_set_auth_method(o, RAPIDATA_AUTH_METHOD_CLIENT_SECRET_POST, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_expiry_margin_ms(o, 1000, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_refresh_ahead_ms(o, 0, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_environment(o, "rabbitdata.ch", NULL) == RAPIDATA_STATUS_OK);

  /* Only one half of the pair is an error, not a silent fallback. */
  CHECK(rapidata_options_set_client_id(o, "only-id", NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_client_new_with_options(o, &c, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "without a client secret");
  CHECK(c == NULL); /* outputs are written only on success */
  EXPECT(rapidata_client_new_with_options(NULL, &c, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "options is NULL");
  EXPECT(rapidata_client_new_with_options(o, NULL, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  rapidata_options_free(o);
  rapidata_options_free(NULL);

  EXPECT(rapidata_client_new("id", NULL, &c, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "both");
  EXPECT(rapidata_client_new(NULL, "secret", &c, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "both");
  EXPECT(rapidata_client_new("id", "secret", NULL, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "out_client");
  EXPECT(rapidata_client_new(bad_utf8, "secret", &c, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "UTF-8");
  CHECK(c == NULL);

  EXPECT(rapidata_get_token(NULL, buf, sizeof buf, &len, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "client");
  EXPECT(rapidata_get_token_info(NULL, 0, buf, sizeof buf, &len, NULL, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT,
               NULL);
  EXPECT(rapidata_invalidate_token(NULL, "t", NULL, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  EXPECT(rapidata_retry_now(NULL, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  rapidata_free(NULL);

  /* Error accessors tolerate NULL. */
  CHECK(rapidata_error_status(NULL) == RAPIDATA_STATUS_INVALID_ARGUMENT);
  CHECK(rapidata_error_message(NULL) == NULL);
  CHECK(rapidata_error_oauth_code(NULL) == NULL);
  CHECK(rapidata_error_oauth_description(NULL) == NULL);
  CHECK(rapidata_error_http_status(NULL) == 0);
  CHECK(rapidata_error_retry_after_unix_ms(NULL) == 0);
  rapidata_error_free(NULL);
}

static void test_no_credentials(void) {
  RapidataClient *c = NULL;
  /* No arguments, no variables, no file: the message names all three places. */
  unsetenv("RAPIDATA_CLIENT_ID");
  unsetenv("RAPIDATA_CLIENT_SECRET");
  setenv("RAPIDATA_CREDENTIALS_FILE", "/nonexistent/credentials.json", 1);
  RapidataError *err = NULL;
  CHECK(rapidata_client_new(NULL, NULL, &c, &err) == RAPIDATA_STATUS_NO_CREDENTIALS);
  CHECK(c == NULL);
  const char *m = rapidata_error_message(err);
  CHECK(m && strstr(m, "RAPIDATA_CLIENT_ID") && strstr(m, "credentials.json") && strstr(m, "client id and secret"));
  CHECK(rapidata_error_oauth_code(err) == NULL && rapidata_error_http_status(err) == 0);
  rapidata_error_free(err);
  unsetenv("RAPIDATA_CREDENTIALS_FILE");
}

static RapidataClient *make_client(const char *id, const char *secret) {
  RapidataOptions *o = NULL;
  RapidataClient *c = NULL;
  RapidataError *err = NULL;
  CHECK(rapidata_options_new(&o) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_client_id(o, id, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_client_secret(o, secret, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_issuer(o, env("RAPTOKEN_TEST_ISSUER"), NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_ca_file(o, env("RAPTOKEN_TEST_CA_FILE"), NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_scope(o, "openid roles email", NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_connect_timeout_ms(o, 5000, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_request_timeout_ms(o, 10000, NULL) == RAPIDATA_STATUS_OK);
  RapidataStatus s = rapidata_client_new_with_options(o, &c, &err);
  if (s != RAPIDATA_STATUS_OK) fprintf(stderr, "client_new: %s\n", rapidata_error_message(err));
  CHECK(s == RAPIDATA_STATUS_OK && c != NULL && err == NULL);
  rapidata_options_free(o); /* the client keeps what it needs */
  return c;
}

static void test_token_buffer_protocol(void) {
  RapidataClient *c = make_client("basic-40", "secret-basic-40");
  size_t need = 0;
  /* Size query: NULL buffer. */
  EXPECT(rapidata_get_token(c, NULL, 0, &need, &e_), RAPIDATA_STATUS_BUFFER_TOO_SMALL, "needs");
  CHECK(need > 0 && need < 4096);
  char small[4] = "abc";
  size_t len = 0;
  EXPECT(rapidata_get_token(c, small, sizeof small, &len, &e_), RAPIDATA_STATUS_BUFFER_TOO_SMALL, NULL);
  CHECK(len == need && strcmp(small, "abc") == 0); /* not written on failure */
  /* Exactly the token length has no room for the NUL. */
  char *exact = malloc(need);
  CHECK(rapidata_get_token(c, exact, need, &len, NULL) == RAPIDATA_STATUS_BUFFER_TOO_SMALL);
  free(exact);

  char *buf = malloc(need + 1);
  RapidataError *err = NULL;
  CHECK(rapidata_get_token(c, buf, need + 1, &len, &err) == RAPIDATA_STATUS_OK && err == NULL);
  CHECK(len == need && strlen(buf) == len);
  /* out_len may be NULL. */
  char buf2[4096];
  CHECK(rapidata_get_token(c, buf2, sizeof buf2, NULL, NULL) == RAPIDATA_STATUS_OK);
  CHECK(strcmp(buf, buf2) == 0);

  RapidataTokenInfo info;
  memset(&info, 0, sizeof info);
  CHECK(rapidata_get_token_info(c, 60000, buf2, sizeof buf2, &len, &info, NULL) == RAPIDATA_STATUS_OK);
  CHECK(strcmp(buf, buf2) == 0);
  CHECK(info.lifetime_ms == 3600000);
  CHECK(info.expires_at_unix_ms > info.refresh_at_unix_ms && info.refresh_at_unix_ms > 1700000000000LL);

  bool dropped = true;
  CHECK(rapidata_invalidate_token(c, "not-the-token", &dropped, NULL) == RAPIDATA_STATUS_OK && !dropped);
  CHECK(rapidata_invalidate_token(c, buf, &dropped, NULL) == RAPIDATA_STATUS_OK && dropped);
  CHECK(rapidata_invalidate_token(c, buf, NULL, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_get_token(c, buf2, sizeof buf2, &len, NULL) == RAPIDATA_STATUS_OK);
  CHECK(strcmp(buf, buf2) != 0); /* a new token after invalidation */
  memset(buf, 0, need + 1);      /* tokens are secrets */
  free(buf);
  rapidata_free(c);
}

static void test_oauth_and_transport_errors(void) {
  RapidataClient *c = make_client("basic-41", "wrong-secret");
  char buf[4096];
  size_t len = 0;
  RapidataError *err = NULL;
  CHECK(rapidata_get_token(c, buf, sizeof buf, &len, &err) == RAPIDATA_STATUS_OAUTH);
  CHECK(rapidata_error_status(err) == RAPIDATA_STATUS_OAUTH);
  CHECK(rapidata_error_oauth_code(err) && strcmp(rapidata_error_oauth_code(err), "invalid_client") == 0);
  CHECK(rapidata_error_http_status(err) == 401);
  CHECK(!strstr(rapidata_error_message(err), "wrong-secret"));
  rapidata_error_free(err);
  rapidata_free(c);

  /* A CA file that is not PEM is a CONFIG error at creation. */
  RapidataOptions *o = NULL;
  rapidata_options_new(&o);
  rapidata_options_set_client_id(o, "basic-42", NULL);
  rapidata_options_set_client_secret(o, "secret-basic-42", NULL);
  rapidata_options_set_ca_file(o, "/nonexistent/ca.pem", NULL);
  c = NULL;
  EXPECT(rapidata_client_new_with_options(o, &c, &e_), RAPIDATA_STATUS_CONFIG, "/nonexistent/ca.pem");
  /* The wrong CA: TLS fails. */
  rapidata_options_set_ca_file(o, env("RAPTOKEN_TEST_WRONG_CA_FILE"), NULL);
  rapidata_options_set_issuer(o, env("RAPTOKEN_TEST_ISSUER"), NULL);
  CHECK(rapidata_client_new_with_options(o, &c, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_get_token(c, buf, sizeof buf, &len, &e_), RAPIDATA_STATUS_TRANSPORT, "TLS");
  rapidata_free(c);
  rapidata_options_free(o);
}

static void *hammer(void *arg) {
  RapidataClient *c = arg;
  char buf[4096];
  size_t len;
  for (int i = 0; i < 50; i++) {
    if (rapidata_get_token(c, buf, sizeof buf, &len, NULL) != RAPIDATA_STATUS_OK) return (void *)1;
  }
  return NULL;
}

static void test_threads(void) {
  RapidataClient *c = make_client("basic-43", "secret-basic-43");
  pthread_t t[8];
  for (int i = 0; i < 8; i++) CHECK(pthread_create(&t[i], NULL, hammer, c) == 0);
  for (int i = 0; i < 8; i++) {
    void *r = NULL;
    pthread_join(t[i], &r);
    CHECK(r == NULL);
  }
  rapidata_free(c);
}

static void test_credentials_chain_from_environment(void) {
  setenv("RAPIDATA_CLIENT_ID", "basic-44", 1);
  setenv("RAPIDATA_CLIENT_SECRET", "secret-basic-44", 1);
  setenv("RAPIDATA_ISSUER", env("RAPTOKEN_TEST_ISSUER"), 1);
  setenv("RAPIDATA_CA_FILE", env("RAPTOKEN_TEST_CA_FILE"), 1);
  RapidataClient *c = NULL;
  CHECK(rapidata_client_new(NULL, NULL, &c, NULL) == RAPIDATA_STATUS_OK);
  char buf[4096];
  CHECK(rapidata_get_token(c, buf, sizeof buf, NULL, NULL) == RAPIDATA_STATUS_OK && strlen(buf) > 10);
  rapidata_free(c);
  /* Explicit arguments win over the environment. */
  CHECK(rapidata_client_new("basic-45", "secret-basic-45", &c, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_get_token(c, buf, sizeof buf, NULL, NULL) == RAPIDATA_STATUS_OK);
  rapidata_free(c);
}

/* GET `path` from the test server's admin API (through curl) into `out`; false on failure. */
static bool admin_get(const char *path, char *out, size_t size) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "curl -fsS '%s%s'", env("RAPTOKEN_TEST_ADMIN"), path);
  FILE *p = popen(cmd, "r");
  if (!p) return false;
  size_t n = fread(out, 1, size - 1, p);
  out[n] = 0;
  return pclose(p) == 0 && n > 0;
}

/* Token requests the test server has seen from `client_id`. */
static long token_requests(const char *client_id) {
  char path[256], out[256];
  snprintf(path, sizeof path, "/stats?client_id=%s", client_id);
  if (!admin_get(path, out, sizeof out)) return -1;
  const char *v = strstr(out, "\"token_requests\":");
  return v ? strtol(v + strlen("\"token_requests\":"), NULL, 10) : -1;
}

static RapidataClient *shared_client(const char *id, const char *secret, const char *dir) {
  RapidataOptions *o = NULL;
  RapidataClient *c = NULL;
  CHECK(rapidata_options_new(&o) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_client_id(o, id, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_client_secret(o, secret, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_issuer(o, env("RAPTOKEN_TEST_ISSUER"), NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_ca_file(o, env("RAPTOKEN_TEST_CA_FILE"), NULL) == RAPIDATA_STATUS_OK);
  if (dir) {
    CHECK(rapidata_options_set_shared_cache(o, false, NULL) == RAPIDATA_STATUS_OK);
    CHECK(rapidata_options_set_shared_cache_dir(o, dir, NULL) == RAPIDATA_STATUS_OK); /* the last call wins */
  } else {
    CHECK(rapidata_options_set_shared_cache(o, true, NULL) == RAPIDATA_STATUS_OK);
    CHECK(rapidata_options_set_shared_cache(o, false, NULL) == RAPIDATA_STATUS_OK);
  }
  CHECK(rapidata_client_new_with_options(o, &c, NULL) == RAPIDATA_STATUS_OK && c != NULL);
  rapidata_options_free(o);
  return c;
}

/* The shared cache: a second client (another process, in real use) gets the first one's token from
 * the file, without a request; the files are private. Then the token-file source. */
static void test_sharing(void) {
  char base[] = "/tmp/raptoken-c-sharing-XXXXXX";
  CHECK(mkdtemp(base) != NULL);
  char dir[256], path[512], token[4096], again[4096];
  snprintf(dir, sizeof dir, "%s/cache", base);

  RapidataClient *a = shared_client("basic-46", "secret-basic-46", dir);
  RapidataClient *b = shared_client("basic-46", "secret-basic-46", dir);
  CHECK(rapidata_get_token(a, token, sizeof token, NULL, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_get_token(b, again, sizeof again, NULL, NULL) == RAPIDATA_STATUS_OK);
  CHECK(strcmp(token, again) == 0);
  CHECK(token_requests("basic-46") == 1);
  struct stat st;
  CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700 && st.st_uid == geteuid());
  int files = 0;
  DIR *d = opendir(dir);
  CHECK(d != NULL);
  for (struct dirent *e; d && (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_uid == geteuid());
    files++;
  }
  if (d) closedir(d);
  CHECK(files == 2); /* KEY.json and KEY.lock */
  rapidata_free(a);
  rapidata_free(b);
  /* Off: its own request. */
  RapidataClient *off = shared_client("basic-46", "secret-basic-46", NULL);
  CHECK(rapidata_get_token(off, again, sizeof again, NULL, NULL) == RAPIDATA_STATUS_OK && strcmp(token, again) != 0);
  CHECK(token_requests("basic-46") == 2);
  rapidata_free(off);

  /* A token file in the SDK's format: no client id or secret needed, no request sent. */
  snprintf(path, sizeof path, "%s/token.json", base);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    fprintf(f, "{\"access_token\": \"%s\", \"token_type\": \"Bearer\", \"expires_at\": %lld}", token,
            (long long)time(NULL) + 600);
    fclose(f);
  }
  chmod(path, 0600);
  RapidataOptions *o = NULL;
  RapidataClient *c = NULL;
  CHECK(rapidata_options_new(&o) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_token_file(o, path, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_client_new_with_options(o, &c, NULL) == RAPIDATA_STATUS_OK);
  rapidata_options_free(o);
  CHECK(rapidata_get_token(c, again, sizeof again, NULL, NULL) == RAPIDATA_STATUS_OK && strcmp(token, again) == 0);
  rapidata_free(c);
  /* Through RAPIDATA_TOKEN_FILE: it serves the chain (NULL, NULL), but explicit credentials win
     over the environment. */
  setenv("RAPIDATA_TOKEN_FILE", path, 1);
  CHECK(rapidata_client_new(NULL, NULL, &c, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_get_token(c, again, sizeof again, NULL, NULL) == RAPIDATA_STATUS_OK && strcmp(token, again) == 0);
  rapidata_free(c);
  CHECK(rapidata_client_new("basic-47", "secret-basic-47", &c, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_get_token(c, again, sizeof again, NULL, NULL) == RAPIDATA_STATUS_OK && strcmp(token, again) != 0);
  CHECK(token_requests("basic-47") == 1);
  rapidata_free(c);
  unsetenv("RAPIDATA_TOKEN_FILE");
  /* An expired token file is CONFIG, naming the file. */
  f = fopen(path, "w");
  if (f) {
    fprintf(f, "{\"access_token\": \"x\", \"token_type\": \"Bearer\", \"expires_at\": 1000}");
    fclose(f);
  }
  CHECK(rapidata_options_new(&o) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_token_file(o, path, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_client_new_with_options(o, &c, NULL) == RAPIDATA_STATUS_OK);
  rapidata_options_free(o);
  EXPECT(rapidata_get_token(c, again, sizeof again, NULL, &e_), RAPIDATA_STATUS_CONFIG, "expired");
  rapidata_free(c);
  memset(token, 0, sizeof token);
  memset(again, 0, sizeof again);

  char rm[600];
  snprintf(rm, sizeof rm, "rm -rf '%s'", base);
  CHECK(system(rm) == 0);
}

/* ---- Resilience options, log callback and stats (every new function, NULL paths too). ---- */

typedef struct {
  pthread_mutex_t mu;
  int per_level[5];
  int n;
  char lines[256][400];
} log_sink;

static void on_log(void *user_data, uint32_t level, const char *message) {
  log_sink *s = user_data;
  pthread_mutex_lock(&s->mu);
  if (level >= 1 && level <= 4) s->per_level[level]++;
  if (s->n < 256) {
    strncpy(s->lines[s->n], message, sizeof s->lines[0] - 1);
    s->lines[s->n][sizeof s->lines[0] - 1] = 0;
    s->n++;
  }
  pthread_mutex_unlock(&s->mu);
}

static int sink_contains(log_sink *s, const char *needle) {
  int found = 0;
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < s->n; i++) found |= strstr(s->lines[i], needle) != NULL;
  pthread_mutex_unlock(&s->mu);
  return found;
}

static void test_resilience_options_arguments(void) {
  const char bad_utf8[] = {'\xff', '\xfe', 0};
  /* Earlier tests left the credentials chain's variables set; these tests set what they use. */
  unsetenv("RAPIDATA_CA_FILE");
  unsetenv("RAPIDATA_ISSUER");
  unsetenv("RAPIDATA_CLIENT_ID");
  unsetenv("RAPIDATA_CLIENT_SECRET");
  RapidataOptions *o = NULL;
  CHECK(rapidata_options_new(&o) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_options_set_max_attempts(NULL, 3, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "options is NULL");
  EXPECT(rapidata_options_set_max_attempts(o, 0, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "1 to 10");
  EXPECT(rapidata_options_set_max_attempts(o, 11, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "1 to 10");
  CHECK(rapidata_options_set_max_attempts(o, 1, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_options_set_retry_backoff_ms(NULL, 10, 20, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  EXPECT(rapidata_options_set_retry_backoff_ms(o, 0, 20, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "backoff");
  EXPECT(rapidata_options_set_retry_backoff_ms(o, 30, 20, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "backoff");
  CHECK(rapidata_options_set_retry_backoff_ms(o, 10, 20, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_options_set_max_retry_after_ms(NULL, 1, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  CHECK(rapidata_options_set_max_retry_after_ms(o, 0, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_options_set_deadline_ms(NULL, 1, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  EXPECT(rapidata_options_set_deadline_ms(o, 0, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "deadline");
  CHECK(rapidata_options_set_deadline_ms(o, 1000, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_options_set_trust(NULL, RAPIDATA_TRUST_SYSTEM, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  EXPECT(rapidata_options_set_trust(o, 0, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "trust");
  EXPECT(rapidata_options_set_trust(o, 4, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "trust");
  CHECK(rapidata_options_set_trust(o, RAPIDATA_TRUST_BUILTIN, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_options_set_proxy(NULL, "", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "options is NULL");
  EXPECT(rapidata_options_set_proxy(o, NULL, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "proxy_url is NULL");
  EXPECT(rapidata_options_set_proxy(o, bad_utf8, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "UTF-8");
  EXPECT(rapidata_options_set_proxy(o, "http://user:pw-secret@[bad", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "proxy URL");
  CHECK(rapidata_options_set_proxy(o, "", NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_proxy(o, "http://127.0.0.1:3128", NULL) == RAPIDATA_STATUS_OK);
  log_sink sink;
  memset(&sink, 0, sizeof sink);
  EXPECT(rapidata_options_set_log_callback(NULL, on_log, &sink, RAPIDATA_LOG_LEVEL_INFO, &e_),
               RAPIDATA_STATUS_INVALID_ARGUMENT, NULL);
  EXPECT(rapidata_options_set_log_callback(o, on_log, &sink, 0, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "log level");
  EXPECT(rapidata_options_set_log_callback(o, on_log, &sink, 5, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "log level");
  CHECK(rapidata_options_set_log_callback(o, on_log, &sink, RAPIDATA_LOG_LEVEL_DEBUG, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_log_callback(o, NULL, NULL, RAPIDATA_LOG_LEVEL_ERROR, NULL) == RAPIDATA_STATUS_OK);
  rapidata_options_free(o);

  RapidataStats st;
  CHECK(rapidata_client_stats(NULL, &st) == RAPIDATA_STATUS_INVALID_ARGUMENT);
  RapidataClient *c = NULL;
  CHECK(rapidata_client_new("stats-id", "stats-secret", &c, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_client_stats(c, NULL) == RAPIDATA_STATUS_INVALID_ARGUMENT);
  memset(&st, 0xff, sizeof st);
  CHECK(rapidata_client_stats(c, &st) == RAPIDATA_STATUS_OK);
  CHECK(st.cache_hits == 0 && st.token_requests == 0 && st.fetches_failed == 0 && st.last_error_status == 0 &&
        st.throttled_until_unix_ms == 0);
  rapidata_free(c);
}

static RapidataOptions *options_for(const char *id, const char *secret, log_sink *sink) {
  RapidataOptions *o = NULL;
  CHECK(rapidata_options_new(&o) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_client_id(o, id, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_client_secret(o, secret, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_issuer(o, env("RAPTOKEN_TEST_ISSUER"), NULL) == RAPIDATA_STATUS_OK);
  if (sink) CHECK(rapidata_options_set_log_callback(o, on_log, sink, RAPIDATA_LOG_LEVEL_DEBUG, NULL) == RAPIDATA_STATUS_OK);
  return o;
}

static void test_log_callback_and_stats(void) {
  log_sink sink;
  memset(&sink, 0, sizeof sink);
  pthread_mutex_init(&sink.mu, NULL);
  RapidataOptions *o = options_for("basic-48", "secret-basic-48", &sink);
  CHECK(rapidata_options_set_ca_file(o, env("RAPTOKEN_TEST_CA_FILE"), NULL) == RAPIDATA_STATUS_OK);
  RapidataClient *c = NULL;
  CHECK(rapidata_client_new_with_options(o, &c, NULL) == RAPIDATA_STATUS_OK);
  rapidata_options_free(o); /* the client keeps the callback */
  char tok[4096];
  for (int i = 0; i < 20; i++) CHECK(rapidata_get_token(c, tok, sizeof tok, NULL, NULL) == RAPIDATA_STATUS_OK);
  RapidataStats st;
  CHECK(rapidata_client_stats(c, &st) == RAPIDATA_STATUS_OK);
  CHECK(st.token_requests == 1 && st.discovery_requests == 1 && st.fetches_ok == 1 && st.fetches_failed == 0);
  CHECK(st.cache_hits == 19 && st.retries == 0 && st.last_success_unix_ms > 1700000000000LL);
  CHECK(sink.per_level[RAPIDATA_LOG_LEVEL_INFO] >= 2 && sink.per_level[RAPIDATA_LOG_LEVEL_DEBUG] >= 1);
  CHECK(sink_contains(&sink, "token fetch succeeded") && sink_contains(&sink, "discovery"));
  CHECK(!sink_contains(&sink, "secret-basic-48") && !sink_contains(&sink, tok));
  rapidata_free(c);
  pthread_mutex_destroy(&sink.mu);
}

static void test_retries_deadline_and_failure_stats(void) {
  log_sink sink;
  memset(&sink, 0, sizeof sink);
  pthread_mutex_init(&sink.mu, NULL);
  /* Nothing listens on port 1: connection refused, retried with short backoffs. */
  RapidataOptions *o = options_for("retry-id", "retry-secret-value", &sink);
  CHECK(rapidata_options_set_issuer(o, "http://127.0.0.1:1", NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_max_attempts(o, 2, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_retry_backoff_ms(o, 10, 20, NULL) == RAPIDATA_STATUS_OK);
  RapidataClient *c = NULL;
  CHECK(rapidata_client_new_with_options(o, &c, NULL) == RAPIDATA_STATUS_OK);
  char tok[256];
  EXPECT(rapidata_get_token(c, tok, sizeof tok, NULL, &e_), RAPIDATA_STATUS_TRANSPORT, "connection");
  RapidataStats st;
  CHECK(rapidata_client_stats(c, &st) == RAPIDATA_STATUS_OK);
  CHECK(st.discovery_requests == 2 && st.retries == 1 && st.fetches_failed == 1 && st.token_requests == 0);
  CHECK(st.last_error_status == RAPIDATA_STATUS_TRANSPORT && st.last_error_http_status == 0 && st.last_error_unix_ms > 0);
  CHECK(sink_contains(&sink, "retrying in") && sink.per_level[RAPIDATA_LOG_LEVEL_ERROR] == 1);
  CHECK(!sink_contains(&sink, "retry-secret-value"));
  /* Inside the back-off window the next call fails at once, without a request, and says when the
   * next attempt is allowed; rapidata_retry_now ends the window. */
  EXPECT(rapidata_get_token(c, tok, sizeof tok, NULL, &e_), RAPIDATA_STATUS_TRANSPORT, "no request was sent");
  CHECK(rapidata_client_stats(c, &st) == RAPIDATA_STATUS_OK && st.discovery_requests == 2 && st.throttled == 1);
  CHECK(rapidata_retry_now(c, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_get_token(c, tok, sizeof tok, NULL, &e_), RAPIDATA_STATUS_TRANSPORT, "connection");
  CHECK(rapidata_client_stats(c, &st) == RAPIDATA_STATUS_OK && st.discovery_requests == 4);
  rapidata_free(c);

  /* Backoffs of up to a minute inside a 200 ms deadline: the call still ends with the error. */
  CHECK(rapidata_options_set_max_attempts(o, 3, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_retry_backoff_ms(o, 60000, 60000, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_deadline_ms(o, 200, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_client_new_with_options(o, &c, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_get_token(c, tok, sizeof tok, NULL, &e_), RAPIDATA_STATUS_TRANSPORT, NULL);
  CHECK(rapidata_client_stats(c, &st) == RAPIDATA_STATUS_OK);
  CHECK(st.discovery_requests >= 1 && st.discovery_requests <= 3);
  rapidata_free(c);
  rapidata_options_free(o);
  pthread_mutex_destroy(&sink.mu);
}

static void test_trust_and_proxy(void) {
  char tok[4096];
  RapidataClient *c = NULL;
  /* SYSTEM alone does not know the throwaway CA: TLS fails. */
  RapidataOptions *o = options_for("basic-49", "secret-basic-49", NULL);
  CHECK(rapidata_options_set_trust(o, RAPIDATA_TRUST_SYSTEM, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_client_new_with_options(o, &c, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_get_token(c, tok, sizeof tok, NULL, &e_), RAPIDATA_STATUS_TRANSPORT, "TLS");
  rapidata_free(c);
  /* SYSTEM plus the CA file: trusted. */
  CHECK(rapidata_options_set_ca_file(o, env("RAPTOKEN_TEST_CA_FILE"), NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_client_new_with_options(o, &c, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_get_token(c, tok, sizeof tok, NULL, NULL) == RAPIDATA_STATUS_OK);
  rapidata_free(c);
  /* BUILTIN cannot be merged with a CA file: CONFIG at creation. */
  CHECK(rapidata_options_set_trust(o, RAPIDATA_TRUST_BUILTIN, NULL) == RAPIDATA_STATUS_OK);
  c = NULL;
  EXPECT(rapidata_client_new_with_options(o, &c, &e_), RAPIDATA_STATUS_CONFIG, "built-in");
  CHECK(c == NULL);
  /* A proxy that is down: TRANSPORT. "" (no proxy): works. */
  CHECK(rapidata_options_set_trust(o, RAPIDATA_TRUST_SYSTEM, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_max_attempts(o, 1, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_proxy(o, "http://127.0.0.1:1", NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_client_new_with_options(o, &c, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_get_token(c, tok, sizeof tok, NULL, &e_), RAPIDATA_STATUS_TRANSPORT, NULL);
  rapidata_free(c);
  CHECK(rapidata_options_set_proxy(o, "", NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_client_new_with_options(o, &c, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_get_token(c, tok, sizeof tok, NULL, NULL) == RAPIDATA_STATUS_OK);
  rapidata_free(c);
  rapidata_options_free(o);
}

/* The whole of a (small) file, NUL-terminated; the caller frees it. */
static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  char *text = calloc(1, 65536);
  if (f && text) {
    size_t n = fread(text, 1, 65535, f);
    text[n] = 0;
  }
  if (f) fclose(f);
  return text;
}

/* Options for a private_key_jwt client of the test server (testing/with-jwt-clients.sh). */
static RapidataOptions *jwt_options(const char *client_id) {
  RapidataOptions *o = NULL;
  CHECK(rapidata_options_new(&o) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_client_id(o, client_id, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_issuer(o, env("RAPTOKEN_TEST_ISSUER"), NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_ca_file(o, env("RAPTOKEN_TEST_CA_FILE"), NULL) == RAPIDATA_STATUS_OK);
  return o;
}

/* A token from `o`'s client (freed here), or the status it failed with. */
static RapidataStatus token_with(RapidataOptions *o, RapidataError **err) {
  RapidataClient *c = NULL;
  char buf[4096];
  RapidataStatus s = rapidata_client_new_with_options(o, &c, err);
  if (s == RAPIDATA_STATUS_OK) s = rapidata_get_token(c, buf, sizeof buf, NULL, err);
  rapidata_free(c);
  rapidata_options_free(o);
  return s;
}

static void test_private_key_jwt(void) {
  /* An EC key from a file, an RSA key as PEM text with its kid and PS256. */
  RapidataOptions *o = jwt_options("jwt-ec");
  CHECK(rapidata_options_set_client_key_file(o, env("RAPTOKEN_TEST_JWT_EC_KEY"), NULL) == RAPIDATA_STATUS_OK);
  CHECK(token_with(o, NULL) == RAPIDATA_STATUS_OK);
  char *pem = read_file(env("RAPTOKEN_TEST_JWT_RSA_KEY"));
  o = jwt_options("jwt-rsa");
  CHECK(rapidata_options_set_client_key(o, pem, NULL) == RAPIDATA_STATUS_OK);
  free(pem);
  CHECK(rapidata_options_set_client_key_id(o, "rsa-1", NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_client_key_algorithm(o, RAPIDATA_SIGNING_ALGORITHM_PS256, NULL) == RAPIDATA_STATUS_OK);
  CHECK(token_with(o, NULL) == RAPIDATA_STATUS_OK);
  char log[16384];
  CHECK(admin_get("/requests?client_id=jwt-rsa&n=1", log, sizeof log) && strstr(log, "\"alg\":\"PS256\",\"typ\":\"JWT\",\"kid\":\"rsa-1\"") &&
        strstr(log, "\"auth\":\"private_key_jwt\""));

  /* A key the server does not have for the client: OAUTH invalid_client. */
  o = jwt_options("jwt-wrong");
  CHECK(rapidata_options_set_client_key_file(o, env("RAPTOKEN_TEST_JWT_WRONG_KEY"), NULL) == RAPIDATA_STATUS_OK);
  RapidataError *err = NULL;
  CHECK(token_with(o, &err) == RAPIDATA_STATUS_OAUTH);
  CHECK(err && strcmp(rapidata_error_oauth_code(err), "invalid_client") == 0 && rapidata_error_http_status(err) == 401);
  CHECK(err && strstr(rapidata_error_message(err), "thumbprint"));
  rapidata_error_free(err);

  /* Key files open to others or malformed: CONFIG naming the file, when the client is made. */
  const char *files[] = {env("RAPTOKEN_TEST_JWT_LOOSE_KEY"), env("RAPTOKEN_TEST_JWT_MALFORMED_KEY")};
  for (int i = 0; i < 2; i++) {
    o = jwt_options("jwt-ec");
    CHECK(rapidata_options_set_client_key_file(o, files[i], NULL) == RAPIDATA_STATUS_OK);
    RapidataClient *c = NULL;
    EXPECT(rapidata_client_new_with_options(o, &c, &e_), RAPIDATA_STATUS_CONFIG, files[i]);
    CHECK(c == NULL);
    rapidata_options_free(o);
  }
  o = jwt_options("jwt-ec");
  CHECK(rapidata_options_set_client_key_file(o, env("RAPTOKEN_TEST_JWT_LOOSE_KEY"), NULL) == RAPIDATA_STATUS_OK);
  RapidataClient *c = NULL;
  EXPECT(rapidata_client_new_with_options(o, &c, &e_), RAPIDATA_STATUS_CONFIG, "chmod 600");
  /* The setters refuse what cannot work, at once. */
  EXPECT(rapidata_options_set_client_key(o, "-----BEGIN PRIVATE KEY-----\nAAAA\n", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT,
               "client key: ");
  EXPECT(rapidata_options_set_client_key_algorithm(o, 99, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "RAPIDATA_SIGNING_ALGORITHM_");
  EXPECT(rapidata_options_add_extra_param(o, "client_assertion", "x", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "sets itself");
  EXPECT(rapidata_options_add_extra_param(o, NULL, "x", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "name is NULL");
  EXPECT(rapidata_options_add_extra_param(o, "x", NULL, &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "value is NULL");
  EXPECT(rapidata_options_add_resource(o, "not a uri", &e_), RAPIDATA_STATUS_INVALID_ARGUMENT, "absolute URI");
  /* An EC key cannot sign RS256, nor a key-less client use private_key_jwt: CONFIG. */
  CHECK(rapidata_options_set_client_key_file(o, env("RAPTOKEN_TEST_JWT_EC_KEY"), NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_client_key_algorithm(o, RAPIDATA_SIGNING_ALGORITHM_RS256, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_client_new_with_options(o, &c, &e_), RAPIDATA_STATUS_CONFIG, "cannot sign RS256");
  rapidata_options_free(o);
  o = jwt_options("basic-46");
  CHECK(rapidata_options_set_client_secret(o, "secret-basic-46", NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_auth_method(o, RAPIDATA_AUTH_METHOD_PRIVATE_KEY_JWT, NULL) == RAPIDATA_STATUS_OK);
  EXPECT(rapidata_client_new_with_options(o, &c, &e_), RAPIDATA_STATUS_CONFIG, "not a key");
  rapidata_options_free(o);
}

static void test_request_parameters(void) {
  /* The first resource the server knows (RAPTOKEN_TEST_RESOURCES is space-separated). */
  char resources[512];
  snprintf(resources, sizeof resources, "%s", env("RAPTOKEN_TEST_RESOURCES"));
  const char *first = resources;
  char *second = strchr(resources, ' ');
  CHECK(second != NULL);
  if (!second) return;
  *second++ = 0;
  char *end = strchr(second, ' ');
  if (end) *end = 0;

  RapidataOptions *o = jwt_options("jwt-params");
  CHECK(rapidata_options_set_client_key_file(o, env("RAPTOKEN_TEST_JWT_EC_KEY"), NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_set_audience(o, "https://aud.example.test/", NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_add_resource(o, first, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_add_extra_param(o, "organization", "R&D team", NULL) == RAPIDATA_STATUS_OK);
  CHECK(token_with(o, NULL) == RAPIDATA_STATUS_OK);
  char log[16384], want[1200];
  CHECK(admin_get("/requests?client_id=jwt-params&n=1", log, sizeof log));
  snprintf(want, sizeof want, "\"resource\":[\"%s\"]", first);
  CHECK(strstr(log, want) && strstr(log, "\"audience\":[\"https://aud.example.test/\"]") &&
        strstr(log, "\"organization\":[\"R&D team\"]"));

  /* Two resources are both sent; this server takes one and says invalid_target. */
  o = jwt_options("jwt-params");
  CHECK(rapidata_options_set_client_key_file(o, env("RAPTOKEN_TEST_JWT_EC_KEY"), NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_add_resource(o, first, NULL) == RAPIDATA_STATUS_OK);
  CHECK(rapidata_options_add_resource(o, second, NULL) == RAPIDATA_STATUS_OK);
  RapidataError *err = NULL;
  CHECK(token_with(o, &err) == RAPIDATA_STATUS_OAUTH);
  CHECK(err && strcmp(rapidata_error_oauth_code(err), "invalid_target") == 0);
  rapidata_error_free(err);
  CHECK(admin_get("/requests?client_id=jwt-params&n=1", log, sizeof log));
  snprintf(want, sizeof want, "\"resource\":[\"%s\",\"%s\"]", first, second);
  CHECK(strstr(log, want) != NULL);
}

int main(void) {
  test_version_and_names();
  test_null_and_invalid_arguments();
  test_no_credentials();
  test_token_buffer_protocol();
  test_oauth_and_transport_errors();
  test_threads();
  test_credentials_chain_from_environment();
  test_sharing();
  test_resilience_options_arguments();
  test_log_callback_and_stats();
  test_retries_deadline_and_failure_stats();
  test_trust_and_proxy();
  test_private_key_jwt();
  test_request_parameters();
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures == 0 ? 0 : 1;
}
