/*
 * One short-lived process of the shared-cache tests (scripts/test.d/70-shared-cache.sh): gets a
 * token through libraptoken and prints it, like a cron job or a worker would.
 *
 *   shared_token CLIENT_ID SECRET CACHE_DIR
 *
 * "-" for CLIENT_ID and SECRET uses the credentials chain (RAPIDATA_TOKEN_FILE, ...); "-" for
 * CACHE_DIR leaves the shared cache to RAPIDATA_SHARED_CACHE. Issuer and CA come from
 * RAPIDATA_ISSUER and RAPIDATA_CA_FILE. Exit status: 0, or 10 + the RapidataStatus.
 */
#include "raptoken.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s CLIENT_ID|- SECRET|- CACHE_DIR|-\n", argv[0]);
    return 2;
  }
  RapidataOptions *o = NULL;
  RapidataClient *c = NULL;
  RapidataError *err = NULL;
  RapidataStatus s = rapidata_options_new(&o);
  if (s == RAPIDATA_STATUS_OK && strcmp(argv[1], "-") != 0) s = rapidata_options_set_client_id(o, argv[1], &err);
  if (s == RAPIDATA_STATUS_OK && strcmp(argv[2], "-") != 0) s = rapidata_options_set_client_secret(o, argv[2], &err);
  if (s == RAPIDATA_STATUS_OK && strcmp(argv[3], "-") != 0) s = rapidata_options_set_shared_cache_dir(o, argv[3], &err);
  if (s == RAPIDATA_STATUS_OK) s = rapidata_client_new_with_options(o, &c, &err);
  rapidata_options_free(o);
  char token[8192];
  if (s == RAPIDATA_STATUS_OK) s = rapidata_get_token(c, token, sizeof token, NULL, &err);
  if (s == RAPIDATA_STATUS_OK) printf("%s\n", token);
  else fprintf(stderr, "shared_token: %s: %s\n", rapidata_status_name(s), err ? rapidata_error_message(err) : "");
  memset(token, 0, sizeof token);
  rapidata_error_free(err);
  rapidata_free(c);
  return s == RAPIDATA_STATUS_OK ? 0 : 10 + (int)s;
}
