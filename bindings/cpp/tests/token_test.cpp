// Getting, reusing, renewing and invalidating tokens through raptoken::Client, against the real
// test server (server-side request counts prove what the cache did).
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

TEST(Token, FetchesOnceThenReusesTheCachedToken) {
  raptoken::Client client(test::options_for("basic-1"));
  EXPECT_EQ(test::token_requests("basic-1"), 0);  // construction does no I/O
  const std::string first = client.token();
  const std::string second = client.token();
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, second);
  EXPECT_EQ(test::token_requests("basic-1"), 1);
}

TEST(Token, InfoReportsAPlausibleExpiry) {
  raptoken::Client client(test::options_for("basic-2"));
  const auto before = system_clock::now();
  const raptoken::TokenInfo info = client.token_info();
  const auto after = system_clock::now();
  EXPECT_EQ(info.token, client.token());
  EXPECT_EQ(info.lifetime, seconds(3600));  // the server's default lifetime
  // Counted from when the request was sent, so within [before, after] + lifetime, less up to a
  // second for the server's whole-second clock (and the millisecond the ABI rounds to).
  EXPECT_GE(info.expires_at, before + info.lifetime - seconds(2));
  EXPECT_LE(info.expires_at, after + info.lifetime);
  EXPECT_GT(info.refresh_at, after);
  EXPECT_LT(info.refresh_at, info.expires_at);
  EXPECT_EQ(test::token_requests("basic-2"), 1);
}

TEST(Token, RenewsAShortLivedTokenAtTheReportedRefreshInstant) {
  raptoken::Client client(test::options_for("short-1"));
  const raptoken::TokenInfo first = client.token_info();
  EXPECT_EQ(first.lifetime, seconds(3));
  // Bounded wait: the instant must lie within the token's 3 s life.
  ASSERT_LT(first.refresh_at, system_clock::now() + seconds(3));
  EXPECT_EQ(client.token(), first.token) << "before refresh_at the cached token is served";
  std::this_thread::sleep_until(first.refresh_at + milliseconds(1));
  // The call that finds the token due starts the renewal in the background and still gets the
  // current token; the new one follows (bounded wait).
  raptoken::TokenInfo second = client.token_info();
  for (const auto until = std::chrono::steady_clock::now() + seconds(10);
       second.token == first.token && std::chrono::steady_clock::now() < until; second = client.token_info()) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_NE(second.token, first.token);
  EXPECT_GT(second.expires_at, first.expires_at);
  EXPECT_EQ(test::token_requests("short-1"), 2);
}

TEST(Token, MinValidityBeyondTheAbiRangeIsCappedNotRejected) {
  raptoken::Client client(test::options_for("basic-3"));
  const std::string t = client.token();
  // 60 days > 2^32-1 ms: capped; no token lives that long, so the freshest one comes back.
  const raptoken::TokenInfo info = client.token_info(std::chrono::hours(24 * 60));
  EXPECT_FALSE(info.token.empty());
  EXPECT_EQ(client.token_info(milliseconds(-5)).token, client.token());
}

TEST(Token, InvalidateDropsOnlyTheCurrentToken) {
  raptoken::Client client(test::options_for("basic-4"));
  const std::string first = client.token();
  EXPECT_FALSE(client.invalidate("not-the-current-token"));
  EXPECT_EQ(client.token(), first);
  EXPECT_TRUE(client.invalidate(first));
  const std::string second = client.token();
  EXPECT_NE(second, first);
  EXPECT_FALSE(client.invalidate(first)) << "a stale report must not drop the newer token";
  EXPECT_EQ(client.token(), second);
  EXPECT_EQ(test::token_requests("basic-4"), 2);
}

TEST(Token, AuthorizationHeaderIsBearerAndTheToken) {
  raptoken::Client client(test::options_for("basic-5"));
  EXPECT_EQ(client.authorization_header(), "Bearer " + client.token());
}

TEST(Token, TokenIntoAStringReusesItsCapacity) {
  raptoken::Client client(test::options_for("basic-6"));
  const std::string expected = client.token();

  std::string small;  // SSO capacity: the binding grows it to what the library reports
  client.token(small);
  EXPECT_EQ(small, expected);

  std::string big(5000, 'x');  // longer than the token: resized down, no stale bytes kept
  const char* storage = big.data();
  client.token(big);
  EXPECT_EQ(big, expected);
  client.token(big);
  EXPECT_EQ(big.data(), storage) << "a warm call into a large enough string must not reallocate";
  EXPECT_EQ(test::token_requests("basic-6"), 1);
}

TEST(Token, FromEnvUsesTheCredentialsChain) {
  // ctest runs each test in its own process, so changing the environment here is contained.
  ASSERT_EQ(::setenv("RAPIDATA_CLIENT_ID", "basic-7", 1), 0);
  ASSERT_EQ(::setenv("RAPIDATA_CLIENT_SECRET", "secret-basic-7", 1), 0);
  ASSERT_EQ(::setenv("RAPIDATA_ISSUER", test::env("RAPTOKEN_TEST_ISSUER").c_str(), 1), 0);
  ASSERT_EQ(::setenv("RAPIDATA_CA_FILE", test::env("RAPTOKEN_TEST_CA_FILE").c_str(), 1), 0);
  raptoken::Client client = raptoken::Client::from_env();
  EXPECT_FALSE(client.token().empty());
  EXPECT_EQ(test::token_requests("basic-7"), 1);
}

TEST(Token, PostAuthMethodIsPassedThrough) {
  // post-* clients accept only client_secret_post: a success proves the setter reached the library.
  raptoken::Client client(test::options_for("post-1").auth_method(raptoken::AuthMethod::client_secret_post));
  EXPECT_FALSE(client.token().empty());
  EXPECT_EQ(test::token_requests("post-1"), 1);
}

TEST(Version, RunTimeVersionMatchesTheHeader) {
  EXPECT_EQ(raptoken::version(), raptoken::header_version);
  EXPECT_EQ(raptoken::header_version, RAPTOKEN_VERSION);
}
