// Client::stats(): every field of RapidataStats, checked against what the server saw.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

using std::chrono::system_clock;

TEST(Stats, AFreshClientCountsNothing) {
  const raptoken::Client client(test::options_for("basic-55"));
  const raptoken::Stats st = client.stats();
  EXPECT_EQ(st.cache_hits, 0u);
  EXPECT_EQ(st.token_requests, 0u);
  EXPECT_EQ(st.discovery_requests, 0u);
  EXPECT_EQ(st.fetches_ok, 0u);
  EXPECT_EQ(st.fetches_failed, 0u);
  EXPECT_EQ(st.retries, 0u);
  EXPECT_EQ(st.throttled, 0u);
  EXPECT_EQ(st.kept_serving, 0u);
  EXPECT_FALSE(st.last_error.has_value());
  EXPECT_FALSE(st.last_success.has_value());
  EXPECT_FALSE(st.throttled_until.has_value());
  EXPECT_EQ(st.last_error_status, raptoken::Status::ok);
  EXPECT_EQ(st.last_error_http_status, 0);
}

TEST(Stats, CountCacheHitsRequestsAndFetches) {
  const raptoken::Client client(test::options_for("basic-56"));
  const auto before = system_clock::now();
  const std::string first = client.token();
  const auto after = system_clock::now();
  for (int i = 0; i < 9; ++i) EXPECT_EQ(client.token(), first);
  raptoken::Stats st = client.stats();
  EXPECT_EQ(st.token_requests, 1u);
  EXPECT_EQ(st.discovery_requests, 1u);
  EXPECT_EQ(st.fetches_ok, 1u);
  EXPECT_EQ(st.cache_hits, 9u);
  EXPECT_EQ(st.fetches_failed, 0u);
  ASSERT_TRUE(st.last_success.has_value());
  // Unix milliseconds: truncation may put it up to 1 ms before `before`.
  EXPECT_GE(*st.last_success, before - std::chrono::milliseconds(1));
  EXPECT_LE(*st.last_success, after);

  EXPECT_TRUE(client.invalidate(first));
  EXPECT_NE(client.token(), first);
  st = client.stats();
  EXPECT_EQ(st.token_requests, 2u);
  EXPECT_EQ(st.discovery_requests, 1u) << "discovery is cached";
  EXPECT_EQ(st.fetches_ok, 2u);
  EXPECT_EQ(static_cast<int>(st.token_requests), test::token_requests("basic-56"));
}

TEST(Stats, AFailedFetchRecordsItsStatusHttpStatusAndTime) {
  const raptoken::Client client(test::options_for("basic-57").client_secret("wrong-secret-basic-57"));
  const auto before = system_clock::now();
  EXPECT_THROW((void)client.token(), raptoken::Error);
  const raptoken::Stats st = client.stats();
  EXPECT_EQ(st.fetches_failed, 1u);
  EXPECT_EQ(st.fetches_ok, 0u);
  EXPECT_EQ(st.token_requests, 1u) << "invalid_client is not retried";
  EXPECT_EQ(st.retries, 0u);
  EXPECT_EQ(st.last_error_status, raptoken::Status::oauth);
  EXPECT_EQ(st.last_error_http_status, 401);
  ASSERT_TRUE(st.last_error.has_value());
  EXPECT_GE(*st.last_error, before - std::chrono::milliseconds(1));
  EXPECT_FALSE(st.last_success.has_value());
  EXPECT_EQ(test::token_requests("basic-57"), 1);
}
