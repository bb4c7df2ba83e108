/* Gets a Rapidata access token from the credentials chain and calls an API with it.
 *
 *   cc -std=c11 -Wall -Wextra call_api.c $(pkg-config --cflags --libs raptoken libcurl) -o call_api
 *   RAPIDATA_CLIENT_ID=... RAPIDATA_CLIENT_SECRET=... RAPTOKEN_EXAMPLE_API=https://... ./call_api
 *
 * Credentials: RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_SECRET, else the Python SDK's credentials file.
 * RAPIDATA_ISSUER / RAPIDATA_CA_FILE point the library at another authorization server; this
 * program trusts RAPIDATA_CA_FILE for the API call too. Prints only the first 8 characters of
 * the token (tokens are secrets) and when it expires.
 */
#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#include <raptoken.h>

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void print_error(const char *what, RapidataStatus status, RapidataError *error) {
  fprintf(stderr, "%s: %s: %s\n", what, rapidata_status_name(status),
          error ? rapidata_error_message(error) : "(no details)");
  rapidata_error_free(error);
}

/* The current token in a malloc'd string, or NULL; its expiry in *info. Grows the buffer if the
 * token is longer than expected (the library reports the length it needs). */
static char *get_token(RapidataClient *client, RapidataTokenInfo *info) {
  size_t cap = 2048;
  for (;;) {
    char *buf = malloc(cap);
    if (!buf) return NULL;
    size_t len = 0;
    RapidataError *error = NULL;
    RapidataStatus status = rapidata_get_token_info(client, 0, buf, cap, &len, info, &error);
    if (status == RAPIDATA_STATUS_OK) return buf;
    free(buf);
    if (status != RAPIDATA_STATUS_BUFFER_TOO_SMALL) {
      print_error("getting a token", status, error);
      return NULL;
    }
    rapidata_error_free(error);
    cap = len + 1;
  }
}

/* Unix milliseconds as ISO 8601 UTC, e.g. 2026-11-28T08:26:06Z. */
static void format_utc(int64_t unix_ms, char out[32]) {
  time_t secs = (time_t)(unix_ms / 1000);
  struct tm tm;
  if (!gmtime_r(&secs, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm)) snprintf(out, 32, "?");
}

static size_t discard(char *data, size_t size, size_t n, void *user) {
  (void)data;
  (void)user;
  return size * n;
}

/* GET `url` with the bearer token; returns the HTTP status, or -1 on a transport error. */
static long call_api(const char *url, const char *token) {
  CURL *curl = curl_easy_init();
  if (!curl) return -1;
  size_t header_len = strlen("Authorization: Bearer ") + strlen(token) + 1;
  char *header = malloc(header_len);
  if (!header) {
    curl_easy_cleanup(curl);
    return -1;
  }
  snprintf(header, header_len, "Authorization: Bearer %s", token);
  struct curl_slist *headers = curl_slist_append(NULL, header);
  memset(header, 0, header_len); /* curl keeps its own copy */
  free(header);

  const char *ca_file = getenv("RAPIDATA_CA_FILE");
  if (ca_file && *ca_file) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);

  long status = -1;
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  } else {
    fprintf(stderr, "calling %s: %s\n", url, curl_easy_strerror(rc));
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return status;
}

int main(void) {
  const char *api = getenv("RAPTOKEN_EXAMPLE_API");
  if (!api || !*api) {
    fprintf(stderr, "set RAPTOKEN_EXAMPLE_API to the URL to call\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);

  RapidataClient *client = NULL;
  RapidataError *error = NULL;
  RapidataStatus status = rapidata_client_new(NULL, NULL, &client, &error); /* the credentials chain */
  if (status != RAPIDATA_STATUS_OK) {
    print_error("creating the client", status, error);
    curl_global_cleanup();
    return 1;
  }

  long http = -1;
  for (int attempt = 0; attempt < 2; attempt++) {
    RapidataTokenInfo info;
    char *token = get_token(client, &info);
    if (!token) break;
    http = call_api(api, token);
    if (attempt == 0) {
      char expires[32];
      format_utc(info.expires_at_unix_ms, expires);
      printf("token: %.8s... (%zu characters)\nexpires: %s\n", token, strlen(token), expires);
    }
    /* A 401 means the token was revoked early: drop it (unless already replaced), retry once. */
    if (http == 401) rapidata_invalidate_token(client, token, NULL, NULL);
    memset(token, 0, strlen(token));
    free(token);
    if (http != 401) break;
  }
  printf("HTTP status: %ld\n", http);

  rapidata_free(client);
  curl_global_cleanup();
  return http >= 200 && http < 300 ? 0 : 1;
}
