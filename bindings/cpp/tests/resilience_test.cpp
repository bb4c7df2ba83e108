// Retries, the deadline, trust roots and the proxy, through raptoken::Options, against the real
// test server and a loopback port that refuses connections.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

namespace {

// The proxy variables this process inherited must not decide these tests.
void clear_proxy_env() {
  for (const char* v : {"ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy",
                        "NO_PROXY", "no_proxy"}) {
    ::unsetenv(v);
  }
}

}  // namespace

TEST(Retries, ARefusedConnectionIsRetriedMaxAttemptsTimes) {
  const test::ClosedPort closed;
  raptoken::Client client(raptoken::Options()
                              .issuer(closed.url())
                              .client_id("retry-id")
                              .client_secret("retry-secret-value")
                              .max_attempts(2)
                              .retry_backoff(milliseconds(10), milliseconds(20)));
  const raptoken::Error e = test::error_of([&] { (void)client.token(); });
  EXPECT_EQ(e.status(), raptoken::Status::transport);
  EXPECT_EQ(std::string(e.what()).find("retry-secret-value"), std::string::npos);
  const raptoken::Stats st = client.stats();
  EXPECT_EQ(st.discovery_requests, 2u) << "two attempts at discovery";
  EXPECT_EQ(st.retries, 1u);
  EXPECT_EQ(st.fetches_failed, 1u);
  EXPECT_EQ(st.fetches_ok, 0u);
  EXPECT_EQ(st.token_requests, 0u);
  EXPECT_EQ(st.last_error_status, raptoken::Status::transport);
  EXPECT_EQ(st.last_error_http_status, 0);
  EXPECT_TRUE(st.last_error.has_value());
  EXPECT_FALSE(st.last_success.has_value());
}

TEST(Retries, TheDeadlineEndsAFetchWhoseBackoffsWouldTakeMinutes) {
  const test::ClosedPort closed;
  // Ten attempts with random waits of up to a minute each: without the deadline this call would
  // take minutes (the test's 60 s ctest timeout would fail it); with it, it ends at once.
  raptoken::Client client(raptoken::Options()
                              .issuer(closed.url())
                              .client_id("deadline-id")
                              .client_secret("deadline-secret")
                              .max_attempts(10)
                              .retry_backoff(seconds(60), seconds(60))
                              .deadline(milliseconds(300)));
  const auto start = steady_clock::now();
  const raptoken::Error e = test::error_of([&] { (void)client.token(); });
  const auto took = steady_clock::now() - start;
  EXPECT_EQ(e.status(), raptoken::Status::transport);
  // A bound on correctness, not a speed goal: 30x the deadline, far below one backoff.
  EXPECT_LT(took, seconds(10));
  const raptoken::Stats st = client.stats();
  EXPECT_GE(st.discovery_requests, 1u);
  EXPECT_LT(st.discovery_requests, 10u) << "the deadline must stop the retries";
  EXPECT_EQ(st.fetches_failed, 1u);
}

TEST(Trust, SystemRootsDoNotKnowTheTestCa) {
  ::unsetenv("SSL_CERT_FILE");
  ::unsetenv("SSL_CERT_DIR");
  raptoken::Client client(test::options_without_ca("basic-34").trust(raptoken::Trust::system));
  const raptoken::Error e = test::error_of([&] { (void)client.token(); });
  EXPECT_EQ(e.status(), raptoken::Status::transport);
  EXPECT_EQ(test::token_requests("basic-34"), 0);
}

TEST(Trust, SystemPlusACaFileTrustsBoth) {
  raptoken::Client client(test::options_for("basic-35").trust(raptoken::Trust::system));
  EXPECT_FALSE(client.token().empty());
  EXPECT_EQ(test::token_requests("basic-35"), 1);
}

TEST(Trust, SystemReadsSslCertFile) {
  // The built-in roots do not know the test CA, so success proves `system` reached the library.
  ASSERT_EQ(::setenv("SSL_CERT_FILE", test::env("RAPTOKEN_TEST_CA_FILE").c_str(), 1), 0);
  ::unsetenv("SSL_CERT_DIR");
  ::unsetenv("RAPIDATA_CA_FILE");
  raptoken::Client client(test::options_without_ca("basic-36").trust(raptoken::Trust::system));
  EXPECT_FALSE(client.token().empty());
  raptoken::Client builtin(test::options_without_ca("basic-36").trust(raptoken::Trust::builtin));
  EXPECT_EQ(test::error_of([&] { (void)builtin.token(); }).status(), raptoken::Status::transport);
  EXPECT_EQ(test::token_requests("basic-36"), 1);
}

TEST(Trust, BuiltinCannotBeCombinedWithSystemOrACaFile) {
  const auto make = [](raptoken::Options o) { raptoken::Client c(o); };
  EXPECT_EQ(test::error_of([&] { make(test::options_for("basic-37").trust(raptoken::Trust::builtin)); }).status(),
            raptoken::Status::config);
  EXPECT_EQ(test::error_of([&] {
              make(test::options_without_ca("basic-37").trust(raptoken::Trust::builtin | raptoken::Trust::system));
            }).status(),
            raptoken::Status::config);
  EXPECT_EQ(test::token_requests("basic-37"), 0);
}

TEST(Proxy, EmptyMeansNoProxyWhateverTheEnvironmentSays) {
  clear_proxy_env();
  const test::ClosedPort proxy;
  ASSERT_EQ(::setenv("HTTPS_PROXY", proxy.url().c_str(), 1), 0);
  // Control: the environment's proxy is used (and is down), so "" below is what makes it work.
  raptoken::Client via_env(test::options_for("basic-38").max_attempts(1));
  EXPECT_EQ(test::error_of([&] { (void)via_env.token(); }).status(), raptoken::Status::transport);
  raptoken::Client direct(test::options_for("basic-38").proxy(""));
  EXPECT_FALSE(direct.token().empty());
  EXPECT_EQ(test::token_requests("basic-38"), 1);
}

TEST(Proxy, AProxyThatIsDownIsATransportErrorAndNothingReachesTheServer) {
  clear_proxy_env();
  const test::ClosedPort proxy;
  raptoken::Client client(test::options_for("basic-39").proxy(proxy.url()).max_attempts(1));
  EXPECT_EQ(test::error_of([&] { (void)client.token(); }).status(), raptoken::Status::transport);
  EXPECT_EQ(test::token_requests("basic-39"), 0);
}
