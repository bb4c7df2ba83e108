/*
 * What the C tests share: CHECK (counts checks and failures, reports the failed condition and
 * goes on), EXPECT (a call's status, error object and message), and env() for the test server's
 * coordinates exported by testing/with-oidc-server.sh. Included once per test program.
 */
#ifndef RAPTOKEN_TEST_CHECK_H
#define RAPTOKEN_TEST_CHECK_H

#include <raptoken.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0, checks = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    checks++;                                                                    \
    if (!(cond)) {                                                               \
      failures++;                                                                \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                            \
  } while (0)

/* Checks a status; for a failure also that the error object carries it and, if `needle` is
 * given, that its message contains `needle`. Frees the error. */
static void expect_status(RapidataStatus got, RapidataError *err, RapidataStatus want, const char *needle, int line) {
  checks++;
  if (got != want || (want != RAPIDATA_STATUS_OK && (err == NULL || rapidata_error_status(err) != want ||
                                                      (needle && !strstr(rapidata_error_message(err), needle))))) {
    failures++;
    fprintf(stderr, "line %d: want %s, got %s: %s\n", line, rapidata_status_name(want), rapidata_status_name(got),
            err ? rapidata_error_message(err) : "(no error object)");
  }
  rapidata_error_free(err);
}

/* `call` must name its error out-parameter `e_`: EXPECT declares it, runs the call, then checks
 * (C leaves the order of evaluation of a function's arguments open, so the call cannot be an
 * argument of expect_status). */
#define EXPECT(call, want, needle)                     \
  do {                                                 \
    RapidataError *e_ = NULL;                          \
    RapidataStatus s_ = (call);                        \
    expect_status(s_, e_, want, needle, __LINE__);     \
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
