// Move semantics: ownership moves, a moved-from object is safe to destroy, and using it throws a
// clear raptoken::Error instead of passing NULL into the library.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

static_assert(!std::is_copy_constructible_v<raptoken::Client>);
static_assert(!std::is_copy_assignable_v<raptoken::Client>);
static_assert(std::is_nothrow_move_constructible_v<raptoken::Client>);
static_assert(std::is_nothrow_move_assignable_v<raptoken::Client>);
static_assert(!std::is_default_constructible_v<raptoken::Client>);
static_assert(!std::is_copy_constructible_v<raptoken::Options>);
static_assert(std::is_nothrow_move_constructible_v<raptoken::Options>);

namespace {

void expect_moved_from_error(const raptoken::Error& e) {
  EXPECT_EQ(e.status(), raptoken::Status::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("moved from"), std::string::npos) << e.what();
}

template <typename F>
void expect_moved_from(F&& f) {
  try {
    f();
    ADD_FAILURE() << "expected raptoken::Error";
  } catch (const raptoken::Error& e) {
    expect_moved_from_error(e);
  }
}

}  // namespace

TEST(Move, MovedFromClientThrowsAClearErrorAndIsSafeToDestroy) {
  raptoken::Client a(test::options_for("basic-20"));
  const std::string token = a.token();
  raptoken::Client b(std::move(a));
  EXPECT_EQ(b.token(), token) << "the cache moves with the handle";
  EXPECT_EQ(a.native_handle(), nullptr);  // NOLINT(bugprone-use-after-move): that is the point
  expect_moved_from([&] { (void)a.token(); });
  expect_moved_from([&] {
    std::string s;
    a.token(s);
  });
  expect_moved_from([&] { (void)a.token_info(); });
  expect_moved_from([&] { (void)a.authorization_header(); });
  expect_moved_from([&] { a.invalidate(token); });
  expect_moved_from([&] { a.retry_now(); });
  EXPECT_NO_THROW(b.retry_now());
  expect_moved_from([&] { (void)a.stats(); });
  EXPECT_EQ(test::token_requests("basic-20"), 1);
}  // a (moved-from) and b are destroyed here: the sanitizer build checks for double frees

TEST(Move, MoveAssignmentReleasesThePreviousClient) {
  raptoken::Client a(test::options_for("basic-21"));
  raptoken::Client b(test::options_for("basic-22"));
  const std::string token_a = a.token();
  const std::string token_b = b.token();
  a = std::move(b);  // a's old client is freed (leak-checked by the sanitizer build)
  EXPECT_EQ(a.token(), token_b);
  EXPECT_NE(a.token(), token_a);
  expect_moved_from([&] { (void)b.token(); });  // NOLINT(bugprone-use-after-move)
  b = raptoken::Client(test::options_for("basic-23"));  // a moved-from object can be reassigned
  EXPECT_FALSE(b.token().empty());
  EXPECT_EQ(test::token_requests("basic-21"), 1);
  EXPECT_EQ(test::token_requests("basic-22"), 1);
  EXPECT_EQ(test::token_requests("basic-23"), 1);
}

TEST(Move, MovedFromOptionsThrowAClearError) {
  raptoken::Options o;
  raptoken::Options p = std::move(o);
  expect_moved_from([&] { o.issuer("https://auth.example.com"); });  // NOLINT(bugprone-use-after-move)
  expect_moved_from([&] { raptoken::Client c(o); });
  expect_moved_from([&] { o.max_attempts(2); });
  expect_moved_from([&] { o.deadline(std::chrono::seconds(1)); });
  expect_moved_from([&] { o.trust(raptoken::Trust::system); });
  expect_moved_from([&] { o.proxy(""); });
  expect_moved_from([&] { o.shared_cache(true); });
  expect_moved_from([&] { o.log_callback([](raptoken::LogLevel, std::string_view) {}); });
  p.issuer("https://auth.example.com");  // the moved-to builder works
}

TEST(Move, OptionsBuiltOnATemporaryMoveIntoAVariable) {
  raptoken::Options o = test::options_for("basic-24").scope("openid");
  raptoken::Client client(o);
  EXPECT_FALSE(client.token().empty());
}
