/* For LogCallbackTests: fetches a token on a pthread the .NET runtime did not create, so the
 * binding's log callback is entered from a foreign thread (the runtime must attach it). */
#include <pthread.h>
#include <stddef.h>

#include "raptoken.h"

struct job {
  RapidataClient *client;
  int status;
};

static void *fetch(void *arg) {
  struct job *j = arg;
  size_t len = 0;
  /* No buffer: the token is fetched, then BUFFER_TOO_SMALL reports its length. */
  j->status = (int)rapidata_get_token(j->client, NULL, 0, &len, NULL);
  return NULL;
}

int raptoken_cs_fetch_on_native_thread(RapidataClient *client) {
  struct job j = {client, -1};
  pthread_t t;
  if (pthread_create(&t, NULL, fetch, &j) != 0) return -1;
  pthread_join(t, NULL);
  return j.status;
}
