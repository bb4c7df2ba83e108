// 32 threads ask a cold client at once: the library must send exactly one token request.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

TEST(Concurrency, ThirtyTwoThreadsOnAColdClientShareOneRequest) {
  // slow-* responses are held back by the server, so every thread arrives while the first
  // request is still in flight (a widened window, not a sleep in the test).
  test::admin("POST", "/delay?ms=500");
  struct ResetDelay {
    ~ResetDelay() {
      try {
        test::admin("POST", "/delay?ms=0");
      } catch (...) {
      }
    }
  } reset;

  const raptoken::Client client(test::options_for("slow-1"));
  constexpr int kThreads = 32;
  std::vector<std::string> tokens(kThreads);
  std::vector<std::string> errors(kThreads);
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      try {
        tokens[static_cast<size_t>(i)] = client.token();
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(i)] = e.what();
      }
    });
  }
  while (ready.load() < kThreads) std::this_thread::yield();
  go.store(true);
  for (auto& t : threads) t.join();

  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(errors[static_cast<size_t>(i)], "") << "thread " << i;
    EXPECT_FALSE(tokens[static_cast<size_t>(i)].empty()) << "thread " << i;
    EXPECT_EQ(tokens[static_cast<size_t>(i)], tokens[0]) << "thread " << i;
  }
  EXPECT_EQ(test::token_requests("slow-1"), 1);
}
