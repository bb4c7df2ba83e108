// ns per call on a warm client: raw rapidata_get_token into a stack buffer (the baseline),
// Client::token() returning a std::string, and Client::token(std::string&) reusing a buffer.
// Needs the test server (testing/with-oidc-server.sh). Usage: token_bench [iterations]
#include <raptoken.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) {
    std::fprintf(stderr, "%s is not set: run under testing/with-oidc-server.sh\n", name);
    std::exit(2);
  }
  return v;
}

// Times `iterations` calls of each variant in turn, for several rounds, and keeps each
// variant's best round: interleaving spreads machine noise evenly, the minimum filters it.
template <std::size_t N, typename F>
void best_ns_per_call(long iterations, int rounds, F (&variants)[N], double (&best)[N]) {
  for (std::size_t v = 0; v < N; ++v) best[v] = 1e300;
  for (int round = 0; round < rounds; ++round) {
    for (std::size_t v = 0; v < N; ++v) {
      const auto start = std::chrono::steady_clock::now();
      for (long i = 0; i < iterations; ++i) variants[v]();
      const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
      best[v] = std::min(best[v], took.count() / static_cast<double>(iterations));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 50000;
  const raptoken::Client client(raptoken::Options()
                                    .issuer(env("RAPTOKEN_TEST_ISSUER"))
                                    .ca_file(env("RAPTOKEN_TEST_CA_FILE"))
                                    .client_id("basic-63")
                                    .client_secret("secret-basic-63"));
  const std::size_t token_len = client.token().size();  // warm the cache: no I/O below

  std::size_t sink = 0;  // consumed below so the loops cannot be optimized away
  std::string reused;
  std::function<void()> variants[] = {
      [&] {
        char buf[4096];
        std::size_t len = 0;
        if (rapidata_get_token(client.native_handle(), buf, sizeof buf, &len, nullptr) != RAPIDATA_STATUS_OK) {
          std::abort();
        }
        sink += len + static_cast<unsigned char>(buf[0]);
      },
      [&] { sink += client.token().size(); },
      [&] {
        client.token(reused);
        sink += reused.size();
      },
  };
  const char* names[] = {
      "rapidata_get_token (C, stack buffer)",
      "Client::token() -> new std::string",
      "Client::token(std::string&) reused",
  };
  double best[3];
  const int rounds = 15;
  best_ns_per_call(iterations, rounds, variants, best);

  std::printf("warm client, %zu-byte token, %ld calls x %d interleaved rounds (best), -O2\n", token_len, iterations,
              rounds);
  for (std::size_t v = 0; v < 3; ++v) {
    std::printf("  %-38s %7.1f ns/call  %.2fx\n", names[v], best[v], best[v] / best[0]);
  }
  return sink == 0 ? 1 : 0;
}
