// The log callback: lines reach a std::function, never carry a secret or token, the callback
// lives as long as any Client using it (the sanitizer build catches a use after free), and an
// exception thrown by it never reaches the library.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

// Collects log lines from any thread.
struct Sink {
  std::mutex mu;
  std::vector<std::pair<raptoken::LogLevel, std::string>> lines;

  raptoken::LogCallback callback() {
    return [this](raptoken::LogLevel level, std::string_view message) {
      std::lock_guard<std::mutex> lock(mu);
      lines.emplace_back(level, std::string(message));
    };
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return lines.size();
  }
  bool any_contains(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& l : lines) {
      if (l.second.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  int count(raptoken::LogLevel level) {
    std::lock_guard<std::mutex> lock(mu);
    int n = 0;
    for (const auto& l : lines) n += l.first == level ? 1 : 0;
    return n;
  }
};

}  // namespace

TEST(Log, AFetchLogsAtInfoAndDebugWithoutTheSecretOrTheToken) {
  Sink sink;
  raptoken::Client client(test::options_for("basic-50").log_callback(sink.callback(), raptoken::LogLevel::debug));
  const std::string token = client.token();
  EXPECT_GE(sink.count(raptoken::LogLevel::info), 1);
  EXPECT_GE(sink.count(raptoken::LogLevel::debug), 1);
  EXPECT_FALSE(sink.any_contains("secret-basic-50"));
  EXPECT_FALSE(sink.any_contains(token));
  std::lock_guard<std::mutex> lock(sink.mu);
  for (const auto& l : sink.lines) EXPECT_FALSE(l.second.empty());
}

TEST(Log, MinLevelFiltersLines) {
  Sink info;
  Sink warn;
  raptoken::Client a(test::options_for("basic-51").log_callback(info.callback()));  // default: info
  raptoken::Client b(test::options_for("basic-51").log_callback(warn.callback(), raptoken::LogLevel::warn));
  EXPECT_FALSE(a.token().empty());
  EXPECT_FALSE(b.token().empty());
  EXPECT_GE(info.count(raptoken::LogLevel::info), 1);
  EXPECT_EQ(info.count(raptoken::LogLevel::debug), 0);
  EXPECT_EQ(warn.size(), 0u) << "a successful fetch logs nothing at WARN or above";
}

TEST(Log, TheClientKeepsTheCallbackAliveAfterTheOptionsAreGone) {
  auto count = std::make_shared<std::atomic<int>>(0);
  std::unique_ptr<raptoken::Client> client;
  {
    // The only reference to `count` the library's callback can reach is inside this Options.
    raptoken::Options o = test::options_for("basic-52").log_callback(
        [count](raptoken::LogLevel, std::string_view) { count->fetch_add(1); });
    client = std::make_unique<raptoken::Client>(o);
  }  // the Options, and the C options, are freed here
  const std::string first = client->token();
  const int after_first = count->load();
  EXPECT_GT(after_first, 0);
  // Moving the client moves its callback along; the moved-to client keeps logging.
  raptoken::Client moved(std::move(*client));
  client.reset();
  EXPECT_TRUE(moved.invalidate(first));
  EXPECT_NE(moved.token(), first);
  EXPECT_GT(count->load(), after_first);
  // Move-assigning over it frees the old C client before its callback.
  moved = raptoken::Client(test::options_for("basic-52"));
  EXPECT_FALSE(moved.token().empty());
  EXPECT_EQ(count.use_count(), 1) << "no Client holds the callback any more";
}

TEST(Log, ReplacingOrRemovingTheCallbackLeavesEarlierClientsOnTheirs) {
  Sink first;
  Sink second;
  raptoken::Options o = test::options_for("basic-53");
  o.log_callback(first.callback());
  raptoken::Client a(o);
  o.log_callback(second.callback());
  raptoken::Client b(o);
  o.log_callback(nullptr);  // an empty function removes it
  raptoken::Client c(o);

  EXPECT_FALSE(a.token().empty());
  const std::size_t first_lines = first.size();
  EXPECT_GT(first_lines, 0u);
  EXPECT_EQ(second.size(), 0u);
  EXPECT_FALSE(b.token().empty());
  const std::size_t second_lines = second.size();
  EXPECT_GT(second_lines, 0u);
  EXPECT_EQ(first.size(), first_lines);
  EXPECT_FALSE(c.token().empty());
  EXPECT_EQ(first.size(), first_lines);
  EXPECT_EQ(second.size(), second_lines);
}

TEST(Log, AThrowingCallbackDoesNotCrashOrFailTheFetch) {
  std::atomic<int> calls{0};
  raptoken::Client throws_std(test::options_for("basic-54").log_callback(
      [&calls](raptoken::LogLevel, std::string_view) {
        calls.fetch_add(1);
        throw std::runtime_error("logger failed");
      },
      raptoken::LogLevel::debug));
  EXPECT_FALSE(throws_std.token().empty());
  const int after_std = calls.load();
  EXPECT_GE(after_std, 2) << "every line still reaches the callback";
  raptoken::Client throws_int(test::options_for("basic-54").log_callback(
      [&calls](raptoken::LogLevel, std::string_view) {
        calls.fetch_add(1);
        throw 42;  // not even a std::exception
      },
      raptoken::LogLevel::debug));
  EXPECT_FALSE(throws_int.token().empty());
  EXPECT_GT(calls.load(), after_std);
  EXPECT_EQ(test::token_requests("basic-54"), 2);
}
