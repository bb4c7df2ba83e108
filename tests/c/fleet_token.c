/*
 * One process of the fleet tests (tests/fleet_processes.sh): THREADS threads get a token from
 * one libraptoken client configured by the environment (RAPIDATA_CLIENT_ID/SECRET, ISSUER,
 * CA_FILE, SHARED_CACHE_URL), after waiting at GATE (a fifo the test opens when every process
 * is ready), so processes and threads all start cold and together. Prints the token once if
 * every thread got the same one.
 *
 *   fleet_token THREADS GATE
 *
 * Exit status: 0; 3 if threads got different tokens; 10 + the RapidataStatus of a failure.
 */
#define _POSIX_C_SOURCE 200809L /* pthread barriers under -std=c11 */
#include "raptoken.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_THREADS = 64, TOKEN_MAX = 8192 };

static RapidataClient *client;
static pthread_barrier_t start;

struct result {
  RapidataStatus status;
  char token[TOKEN_MAX];
};

static void *get(void *arg) {
  struct result *r = arg;
  RapidataError *err = NULL;
  pthread_barrier_wait(&start);
  r->status = rapidata_get_token(client, r->token, sizeof r->token, NULL, &err);
  if (r->status != RAPIDATA_STATUS_OK)
    fprintf(stderr, "fleet_token: %s: %s\n", rapidata_status_name(r->status), err ? rapidata_error_message(err) : "");
  rapidata_error_free(err);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s THREADS GATE\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[1]);
  if (n < 1 || n > MAX_THREADS) return 2;
  RapidataError *err = NULL;
  RapidataStatus s = rapidata_client_new(NULL, NULL, &client, &err);
  if (s != RAPIDATA_STATUS_OK) {
    fprintf(stderr, "fleet_token: %s: %s\n", rapidata_status_name(s), err ? rapidata_error_message(err) : "");
    rapidata_error_free(err);
    return 10 + (int)s;
  }
  /* Blocks until the test opens the fifo for writing: every process starts together. */
  int gate = open(argv[2], O_RDONLY);
  if (gate >= 0) close(gate);

  static struct result results[MAX_THREADS];
  pthread_t threads[MAX_THREADS];
  pthread_barrier_init(&start, NULL, (unsigned)n);
  for (int i = 0; i < n; i++) pthread_create(&threads[i], NULL, get, &results[i]);
  for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    if (results[i].status != RAPIDATA_STATUS_OK) rc = 10 + (int)results[i].status;
    else if (strcmp(results[i].token, results[0].token) != 0) rc = 3;
  }
  if (rc == 0) printf("%s\n", results[0].token);
  for (int i = 0; i < n; i++) memset(results[i].token, 0, TOKEN_MAX);
  rapidata_free(client);
  return rc;
}
