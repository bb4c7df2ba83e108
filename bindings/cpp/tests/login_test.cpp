// raptoken::login against the test server's login bridge, its admin API playing the person at
// the browser: the flow and a client that then needs no credentials, refusal, timeout,
// cancellation from another thread, an exception thrown by the URL callback. Each login decides
// its own write key, so these tests run in parallel with the others.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "test_support.hpp"

namespace {

raptoken::Options login_options(const std::filesystem::path& file, std::chrono::milliseconds timeout) {
  return raptoken::Options()
      .issuer(test::env("RAPTOKEN_TEST_ISSUER"))
      .ca_file(test::env("RAPTOKEN_TEST_CA_FILE"))
      .credentials_file(file)
      .login_timeout(timeout);
}

// Approves or refuses the login behind `url` through the admin API.
void decide(std::string_view url, const std::string& action) {
  const auto at = url.find("writeKey=");
  ASSERT_NE(at, std::string_view::npos) << url;
  test::admin("POST", "/login/" + action + "?writeKey=" + std::string(url.substr(at + 9)));
}

TEST(Login, StoresCredentialsThatAClientWithoutThemUses) {
  test::TempDir dir;
  const auto file = dir.path() / "rapidata" / "credentials.json";
  std::string seen;
  raptoken::login(login_options(file, std::chrono::seconds(30)), [&](std::string_view url) {
    seen = url;
    decide(url, "approve");
  });
  EXPECT_NE(seen.find("/connect/authorize/external?clientId=rapidata-cli&scope=openid%20profile%20email%20api&writeKey="),
            std::string::npos)
      << seen;
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777u, 0600u);
  // No client id or secret: the stored ones.
  raptoken::Client client(raptoken::Options()
                              .issuer(test::env("RAPTOKEN_TEST_ISSUER"))
                              .ca_file(test::env("RAPTOKEN_TEST_CA_FILE"))
                              .credentials_file(file));
  EXPECT_FALSE(client.token().empty());
}

TEST(Login, RefusedAndTimedOutThrowTheirStatus) {
  test::TempDir dir;
  const auto file = dir.path() / "credentials.json";
  auto e = test::error_of([&] {
    raptoken::login(login_options(file, std::chrono::seconds(30)), [](std::string_view url) { decide(url, "refuse"); });
  });
  EXPECT_EQ(e.status(), raptoken::Status::oauth) << e.what();
  EXPECT_EQ(e.oauth_code(), "access_denied");
  EXPECT_EQ(e.http_status(), 403);
  e = test::error_of([&] { raptoken::login(login_options(file, std::chrono::seconds(1)), [](std::string_view) {}); });
  EXPECT_EQ(e.status(), raptoken::Status::timeout) << e.what();
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST(Login, CancellationFromAnotherThreadEndsIt) {
  test::TempDir dir;
  const auto file = dir.path() / "credentials.json";
  raptoken::Cancellation cancel;
  std::atomic<bool> shown{false};
  std::chrono::steady_clock::time_point cancelled_at;
  std::thread canceller([&] {
    while (!shown.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancelled_at = std::chrono::steady_clock::now();
    cancel.cancel();
  });
  const auto e = test::error_of([&] {
    raptoken::login(login_options(file, std::chrono::minutes(1)), [&](std::string_view) { shown = true; }, &cancel);
  });
  const auto returned = std::chrono::steady_clock::now();
  canceller.join();
  EXPECT_EQ(e.status(), raptoken::Status::cancelled) << e.what();
  // Noticed within 20 ms while waiting; 5 s is for the sanitizer build on a loaded machine.
  EXPECT_LT(returned - cancelled_at, std::chrono::seconds(5));
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST(Login, AnExceptionFromTheUrlCallbackEndsTheLoginAndIsRethrown) {
  test::TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(raptoken::login(login_options(dir.path() / "credentials.json", std::chrono::minutes(1)),
                               [](std::string_view) { throw std::logic_error("no window to show it in"); }),
               std::logic_error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  raptoken::Cancellation moved;
  raptoken::Cancellation other(std::move(moved));
  moved.cancel();  // a no-op on a moved-from object  NOLINT(bugprone-use-after-move)
  EXPECT_EQ(moved.native_handle(), nullptr);  // NOLINT(bugprone-use-after-move)
  EXPECT_NE(other.native_handle(), nullptr);
}

}  // namespace
