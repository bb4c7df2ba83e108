// Sharing tokens between clients and processes: the shared cache (one request for many
// clients) and Rapidata's token file (no credentials at all), against the real test server.
#include "test_support.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using std::chrono::seconds;
using std::chrono::system_clock;
namespace fs = std::filesystem;

namespace {

// Writes a token file in the SDK's format with the given mode (chmod'ed: umask cannot widen it).
void write_token_file(const fs::path& path, const std::string& token, system_clock::time_point expires_at,
                      fs::perms mode) {
  const auto secs = std::chrono::duration_cast<seconds>(expires_at.time_since_epoch()).count();
  {
    std::ofstream f(path, std::ios::trunc);
    f << R"({"access_token": ")" << token << R"(", "token_type": "Bearer", "expires_at": )" << secs << "}";
    if (!f) throw std::runtime_error("cannot write " + path.string());
  }
  fs::permissions(path, mode, fs::perm_options::replace);
}

}  // namespace

TEST(SharedCache, TwoClientsInOneDirectorySendOneRequest) {
  const test::TempDir dir;
  const fs::path cache = dir.path() / "cache";
  raptoken::Client a(test::options_for("basic-30").shared_cache_dir(cache));
  raptoken::Client b(test::options_for("basic-30").shared_cache_dir(cache));
  const std::string token = a.token();
  EXPECT_EQ(b.token(), token) << "b must take a's token from the shared file";
  EXPECT_EQ(test::token_requests("basic-30"), 1);
  EXPECT_EQ(a.stats().token_requests, 1u);
  EXPECT_EQ(b.stats().token_requests, 0u);
  // Created private, and the files holding the token are the user's alone.
  EXPECT_EQ(fs::status(cache).permissions() & fs::perms::all, fs::perms::owner_all);
  int json_files = 0;
  for (const auto& entry : fs::directory_iterator(cache)) {
    if (entry.path().extension() != ".json") continue;
    ++json_files;
    EXPECT_EQ(entry.status().permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write)
        << entry.path();
  }
  EXPECT_EQ(json_files, 1);
}

TEST(SharedCache, DefaultDirectoryAndTheLastSettingWins) {
  // shared_cache(true) uses $XDG_CACHE_HOME/raptoken; this test runs in its own process.
  const test::TempDir dir;
  ASSERT_EQ(::setenv("XDG_CACHE_HOME", dir.path().c_str(), 1), 0);
  ::unsetenv("RAPIDATA_SHARED_CACHE");
  raptoken::Client a(test::options_for("basic-31").shared_cache(true));
  raptoken::Client b(test::options_for("basic-31").shared_cache(true));
  EXPECT_EQ(a.token(), b.token());
  EXPECT_EQ(test::token_requests("basic-31"), 1);
  EXPECT_TRUE(fs::is_directory(dir.path() / "raptoken"));

  // shared_cache(false) after shared_cache_dir: off, so this client asks the server itself.
  raptoken::Client off(test::options_for("basic-31").shared_cache_dir(dir.path() / "raptoken").shared_cache(false));
  EXPECT_FALSE(off.token().empty());
  EXPECT_EQ(test::token_requests("basic-31"), 2);
}

TEST(TokenFile, ReadsTheTokenWithoutCredentialsOrRequests) {
  const test::TempDir dir;
  const std::string token = raptoken::Client(test::options_for("basic-32")).token();
  const auto expires_at = system_clock::now() + seconds(600);
  const fs::path path = dir.path() / "rapidata_token.json";
  write_token_file(path, token, expires_at, fs::perms::owner_read | fs::perms::owner_write);

  ::unsetenv("RAPIDATA_CLIENT_ID");
  ::unsetenv("RAPIDATA_CLIENT_SECRET");
  raptoken::Client reader(raptoken::Options().token_file(path));
  const raptoken::TokenInfo info = reader.token_info();
  EXPECT_EQ(info.token, token);
  // The file's whole second, give or take the library's conversion to its monotonic clock.
  const auto file_expiry = system_clock::time_point(std::chrono::duration_cast<seconds>(expires_at.time_since_epoch()));
  EXPECT_LT(info.expires_at, file_expiry + seconds(1));
  EXPECT_GT(info.expires_at, file_expiry - seconds(1));
  // The token file wins over explicit credentials, as in Rapidata's SDK.
  raptoken::Client both(test::options_for("basic-33").token_file(path));
  EXPECT_EQ(both.token(), token);
  EXPECT_EQ(test::token_requests("basic-32"), 1);
  EXPECT_EQ(test::token_requests("basic-33"), 0);
  EXPECT_EQ(reader.stats().token_requests, 0u);
}

TEST(TokenFile, ExpiredOrWritableByOthersIsAConfigErrorNamingTheFile) {
  const test::TempDir dir;
  const fs::path path = dir.path() / "token.json";
  write_token_file(path, "expired-token-value", system_clock::from_time_t(1000),
                   fs::perms::owner_read | fs::perms::owner_write);
  raptoken::Client expired(raptoken::Options().token_file(path));
  raptoken::Error e = test::error_of([&] { (void)expired.token(); });
  EXPECT_EQ(e.status(), raptoken::Status::config);
  EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  EXPECT_EQ(std::string(e.what()).find("expired-token-value"), std::string::npos) << "no token in messages";

  write_token_file(path, "fresh-token-value", system_clock::now() + seconds(600), fs::perms::all);
  raptoken::Client open_file(raptoken::Options().token_file(path));
  e = test::error_of([&] { (void)open_file.token(); });
  EXPECT_EQ(e.status(), raptoken::Status::config);
  EXPECT_EQ(std::string(e.what()).find("fresh-token-value"), std::string::npos) << "no token in messages";
}

// The fleet cache through Redis (testing/with-redis.sh exports RAPTOKEN_TEST_REDIS_URL): two
// clients stand for two pods and share one token request.
TEST(FleetCache, TwoClientsOnOneRedisSendOneRequest) {
  const char* url = std::getenv("RAPTOKEN_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') GTEST_SKIP() << "no Redis: run under testing/with-redis.sh";
  raptoken::Client a(test::options_for("basic-61").shared_cache_url(url));
  raptoken::Client b(test::options_for("basic-61").shared_cache_url(url));
  const std::string token = a.token();
  EXPECT_EQ(b.token(), token) << "b must take a's token from Redis";
  EXPECT_EQ(test::token_requests("basic-61"), 1);
  EXPECT_EQ(b.stats().token_requests, 0u);
  // Redis unreachable: a token all the same, fetched directly.
  raptoken::Client c(test::options_for("basic-61").shared_cache_url("redis://127.0.0.1:1"));
  EXPECT_FALSE(c.token().empty());
  const raptoken::Error e = test::error_of([] { raptoken::Options().shared_cache_url("http://127.0.0.1:6379"); });
  EXPECT_EQ(e.status(), raptoken::Status::invalid_argument);
}
