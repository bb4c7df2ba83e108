// Every failure surfaces as raptoken::Error with the library's status and OAuth details, and the
// C error object behind it is freed (the sanitizer build's leak check proves the latter).
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

using std::chrono::milliseconds;

namespace {

void clear_credentials_env() {
  ::unsetenv("RAPIDATA_CLIENT_ID");
  ::unsetenv("RAPIDATA_CLIENT_SECRET");
  ::unsetenv("RAPIDATA_TOKEN_FILE");
  ::setenv("RAPIDATA_CREDENTIALS_FILE", "/nonexistent/raptoken-cpp-test/credentials.json", 1);
}

}  // namespace

TEST(Errors, InvalidClientIsAnOAuthErrorWithCodeAnd401) {
  raptoken::Client client(test::options_for("basic-10").client_secret("wrong-secret-basic-10"));
  const raptoken::Error e = test::error_of([&] { (void)client.token(); });
  EXPECT_EQ(e.status(), raptoken::Status::oauth);
  EXPECT_STREQ(raptoken::status_name(e.status()), "RAPIDATA_STATUS_OAUTH");
  EXPECT_EQ(e.oauth_code(), "invalid_client");
  EXPECT_EQ(e.http_status(), 401);
  EXPECT_FALSE(e.retry_after().has_value());
  const std::string what = e.what();
  EXPECT_FALSE(what.empty());
  EXPECT_EQ(what.find("wrong-secret-basic-10"), std::string::npos) << "messages never carry the secret";
}

TEST(Errors, InvalidScopeIsAnOAuthError) {
  raptoken::Client client(test::options_for("basic-11").scope("openid not-a-scope"));
  const raptoken::Error e = test::error_of([&] { (void)client.token(); });
  EXPECT_EQ(e.status(), raptoken::Status::oauth);
  EXPECT_EQ(e.oauth_code(), "invalid_scope");
  EXPECT_NE(e.oauth_description().find("not-a-scope"), std::string::npos);
  EXPECT_EQ(e.http_status(), 400);
}

TEST(Errors, WrongCaIsATransportError) {
  raptoken::Client client(test::options_for("basic-12").ca_file(test::env("RAPTOKEN_TEST_WRONG_CA_FILE")));
  const raptoken::Error e = test::error_of([&] { (void)client.token(); });
  EXPECT_EQ(e.status(), raptoken::Status::transport);
  EXPECT_EQ(e.http_status(), 0);
  EXPECT_EQ(test::token_requests("basic-12"), 0) << "no request may pass an untrusted TLS handshake";
}

TEST(Errors, NoCredentialsAnywhereIsNoCredentials) {
  clear_credentials_env();
  const raptoken::Error e = test::error_of([] {
    raptoken::Client client(raptoken::Options().issuer(test::env("RAPTOKEN_TEST_ISSUER")));
  });
  EXPECT_EQ(e.status(), raptoken::Status::no_credentials);
  EXPECT_NE(std::string(e.what()).find("RAPIDATA_CLIENT_ID"), std::string::npos) << e.what();
}

TEST(Errors, FromEnvWithoutCredentialsIsNoCredentials) {
  clear_credentials_env();
  const raptoken::Error e = test::error_of([] { (void)raptoken::Client::from_env(); });
  EXPECT_EQ(e.status(), raptoken::Status::no_credentials);
}

TEST(Errors, BadIssuerIsInvalidArgument) {
  for (const char* bad : {"ftp://auth.example.com", "http://auth.example.com", "not a url"}) {
    const raptoken::Error e = test::error_of([&] { raptoken::Options().issuer(bad); });
    EXPECT_EQ(e.status(), raptoken::Status::invalid_argument) << bad;
  }
}

TEST(Errors, EmbeddedNulIsInvalidArgumentNotTruncation) {
  const std::string_view with_nul("https://localhost\0.evil", 23);
  const raptoken::Error e = test::error_of([&] { raptoken::Options().issuer(with_nul); });
  EXPECT_EQ(e.status(), raptoken::Status::invalid_argument);
  raptoken::Client client(test::options_for("basic-13"));
  EXPECT_EQ(test::error_of([&] { client.invalidate(std::string_view("a\0b", 3)); }).status(),
            raptoken::Status::invalid_argument);
}

TEST(Errors, UnrepresentableDurationsAreInvalidArgument) {
  EXPECT_EQ(test::error_of([] { raptoken::Options().connect_timeout(milliseconds(-1)); }).status(),
            raptoken::Status::invalid_argument);
  EXPECT_EQ(test::error_of([] { raptoken::Options().request_timeout(milliseconds(1LL << 33)); }).status(),
            raptoken::Status::invalid_argument);
  // 0 is representable but the library rejects it.
  EXPECT_EQ(test::error_of([] { raptoken::Options().connect_timeout(milliseconds(0)); }).status(),
            raptoken::Status::invalid_argument);
}

TEST(Errors, ClientIdWithoutSecretIsInvalidArgument) {
  const raptoken::Error e = test::error_of([] {
    raptoken::Client client(raptoken::Options().issuer(test::env("RAPTOKEN_TEST_ISSUER")).client_id("basic-14"));
  });
  EXPECT_EQ(e.status(), raptoken::Status::invalid_argument);
}

TEST(Errors, ErrorIsARuntimeErrorAndCheapToCopy) {
  static_assert(std::is_base_of_v<std::runtime_error, raptoken::Error>);
  static_assert(std::is_nothrow_copy_constructible_v<raptoken::Error>);
  try {
    raptoken::Options().scope("bad\"scope");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    const auto* re = dynamic_cast<const raptoken::Error*>(&e);
    ASSERT_NE(re, nullptr);
    const raptoken::Error copy = *re;  // shares the details
    EXPECT_EQ(copy.status(), raptoken::Status::invalid_argument);
    EXPECT_STREQ(copy.what(), e.what());
  }
}

TEST(Errors, NewOptionsRejectBadValuesAtOnce) {
  const auto status = [](auto&& f) { return test::error_of(f).status(); };
  constexpr auto invalid = raptoken::Status::invalid_argument;
  EXPECT_EQ(status([] { raptoken::Options().max_attempts(0); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().max_attempts(11); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().retry_backoff(milliseconds(0), milliseconds(10)); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().retry_backoff(milliseconds(30), milliseconds(20)); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().retry_backoff(milliseconds(-1), milliseconds(20)); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().max_retry_after(milliseconds(-1)); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().deadline(milliseconds(0)); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().deadline(std::chrono::hours(24 * 60)); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().trust(raptoken::Trust{}); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().trust(static_cast<raptoken::Trust>(4)); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().proxy("http://user:pw-secret@[bad"); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().proxy(std::string_view("http://a\0b", 10)); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().shared_cache_dir(""); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().token_file(""); }), invalid);
  EXPECT_EQ(status([] { raptoken::Options().log_callback([](raptoken::LogLevel, std::string_view) {},
                                                         static_cast<raptoken::LogLevel>(0)); }),
            invalid);
  EXPECT_EQ(status([] { raptoken::Options().log_callback([](raptoken::LogLevel, std::string_view) {},
                                                         static_cast<raptoken::LogLevel>(5)); }),
            invalid);
  // The proxy's password never appears in the message.
  EXPECT_EQ(std::string(test::error_of([] { raptoken::Options().proxy("http://user:pw-secret@[bad"); }).what())
                .find("pw-secret"),
            std::string::npos);
  // Good values are accepted (and chain on a temporary).
  const raptoken::Options ok = raptoken::Options()
                                   .max_attempts(1)
                                   .max_attempts(10)
                                   .retry_backoff(milliseconds(10), milliseconds(10))
                                   .max_retry_after(milliseconds(0))
                                   .deadline(std::chrono::seconds(5))
                                   .trust(raptoken::Trust::system)
                                   .proxy("http://127.0.0.1:3128")
                                   .proxy("")
                                   .shared_cache(true)
                                   .shared_cache_dir("relative/dir")
                                   .shared_cache(false)
                                   .token_file("/some/token.json")
                                   .log_callback([](raptoken::LogLevel, std::string_view) {}, raptoken::LogLevel::error)
                                   .log_callback(nullptr);
  EXPECT_NE(ok.native_handle(), nullptr);
}

TEST(Errors, AFailedLogCallbackSetterKeepsTheCurrentCallback) {
  int calls = 0;
  raptoken::Options o = test::options_for("basic-15");
  o.log_callback([&calls](raptoken::LogLevel, std::string_view) { ++calls; });
  EXPECT_THROW(o.log_callback([](raptoken::LogLevel, std::string_view) {}, static_cast<raptoken::LogLevel>(9)),
               raptoken::Error);
  raptoken::Client client(o);
  EXPECT_FALSE(client.token().empty());
  EXPECT_GT(calls, 0) << "the first callback must still be installed (and alive)";
}
