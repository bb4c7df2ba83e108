/* The C side of the consumer test: header and library found through the CMake package (and,
 * built separately by the test script, through pkg-config). */
#include <raptoken.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  if (strcmp(rapidata_version(), RAPTOKEN_VERSION) != 0) {
    fprintf(stderr, "header %s but library %s\n", RAPTOKEN_VERSION, rapidata_version());
    return 1;
  }
  printf("raptoken %s (C)\n", rapidata_version());
  return 0;
}
