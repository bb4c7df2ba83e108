/*
 * What the C tests share: CHECK (counts checks and failures, reports the failed condition and
 * goes on) and env() for the test server's coordinates exported by testing/with-oidc-server.sh.
 * Included once per test program.
 */
#ifndef RAPTOKEN_TEST_CHECK_H
#define RAPTOKEN_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int failures = 0, checks = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    checks++;                                                                    \
    if (!(cond)) {                                                               \
      failures++;                                                                \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                            \
  } while (0)

static const char *env(const char *name) {
  const char *v = getenv(name);
  if (!v || !*v) {
    fprintf(stderr, "%s is not set: run under testing/with-oidc-server.sh\n", name);
    exit(2);
  }
  return v;
}

#endif
