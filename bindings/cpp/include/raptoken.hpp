// raptoken.hpp: C++17 binding for libraptoken (OAuth 2.0 client-credentials tokens for the
// Rapidata API). Header-only, built on raptoken.h alone: every bit of token logic (caching,
// renewal, one request under contention) lives in the library; this file only adds RAII,
// exceptions and std types.
//
//   raptoken::Client client = raptoken::Client::from_env();
//   std::string header = client.authorization_header();   // "Bearer ..."
//
// Errors: every failure throws raptoken::Error (a std::runtime_error) carrying the status and
// the server's OAuth details. Thread safety: all const member functions of Client may be called
// from any number of threads at once (the C client is internally synchronized); Options is a
// builder for one thread. Tokens are secrets: do not log them.
#ifndef RAPTOKEN_HPP
#define RAPTOKEN_HPP

#include <raptoken.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace raptoken {

// The C status values, unchanged (see RapidataStatus in raptoken.h).
enum class Status : std::uint32_t {
  ok = RAPIDATA_STATUS_OK,
  invalid_argument = RAPIDATA_STATUS_INVALID_ARGUMENT,
  no_credentials = RAPIDATA_STATUS_NO_CREDENTIALS,
  buffer_too_small = RAPIDATA_STATUS_BUFFER_TOO_SMALL,
  config = RAPIDATA_STATUS_CONFIG,
  transport = RAPIDATA_STATUS_TRANSPORT,
  timeout = RAPIDATA_STATUS_TIMEOUT,
  http = RAPIDATA_STATUS_HTTP,
  oauth = RAPIDATA_STATUS_OAUTH,
  protocol = RAPIDATA_STATUS_PROTOCOL,
  panic = RAPIDATA_STATUS_PANIC,
};

enum class AuthMethod : std::uint32_t {
  client_secret_basic = RAPIDATA_AUTH_METHOD_CLIENT_SECRET_BASIC,
  client_secret_post = RAPIDATA_AUTH_METHOD_CLIENT_SECRET_POST,
};

// "RAPIDATA_STATUS_OAUTH" etc.; a static string.
[[nodiscard]] inline const char* status_name(Status s) noexcept {
  return rapidata_status_name(static_cast<std::uint32_t>(s));
}

// The library's run-time version, e.g. "0.1.0".
[[nodiscard]] inline std::string_view version() noexcept { return rapidata_version(); }

// The version of the raptoken.h this code was compiled against.
inline constexpr std::string_view header_version = RAPTOKEN_VERSION;

// The only exception type this binding throws (besides std::bad_alloc). Cheap and non-throwing
// to copy, as exceptions should be: the details sit in one shared immutable block.
class Error : public std::runtime_error {
 public:
  // An error that did not come from the library (e.g. a moved-from Client).
  Error(Status status, const std::string& message)
      : std::runtime_error(message), details_(std::make_shared<Details>()) {
    details_->status = status;
  }

  // Takes ownership of `error` (may be NULL) and frees it, also if this constructor throws.
  Error(RapidataStatus status, RapidataError* error)
      : Error(status, std::unique_ptr<RapidataError, ErrorDeleter>(error)) {}

  [[nodiscard]] Status status() const noexcept { return details_->status; }
  // The RFC 6749 `error` code (e.g. "invalid_client"); empty if the server sent none.
  [[nodiscard]] const std::string& oauth_code() const noexcept { return details_->oauth_code; }
  // The RFC 6749 `error_description` (scrubbed, truncated); empty if none.
  [[nodiscard]] const std::string& oauth_description() const noexcept {
    return details_->oauth_description;
  }
  // The HTTP status behind the failure; 0 if there was no response.
  [[nodiscard]] std::uint16_t http_status() const noexcept { return details_->http_status; }
  // When the server asked to be left alone until (Retry-After), if it did.
  [[nodiscard]] std::optional<std::chrono::system_clock::time_point> retry_after() const noexcept {
    return details_->retry_after;
  }

 private:
  struct ErrorDeleter {
    void operator()(RapidataError* e) const noexcept { rapidata_error_free(e); }
  };
  using ErrorPtr = std::unique_ptr<RapidataError, ErrorDeleter>;

  struct Details {
    Status status = Status::ok;
    std::string oauth_code;
    std::string oauth_description;
    std::uint16_t http_status = 0;
    std::optional<std::chrono::system_clock::time_point> retry_after;
  };

  // `owned` frees the C error when this constructor finishes or throws.
  Error(RapidataStatus status, ErrorPtr owned)
      : std::runtime_error(message_of(status, owned.get())), details_(std::make_shared<Details>()) {
    const RapidataError* e = owned.get();
    details_->status = static_cast<Status>(status);
    if (e == nullptr) return;  // the library could not build an error object
    if (const char* c = rapidata_error_oauth_code(e)) details_->oauth_code = c;
    if (const char* d = rapidata_error_oauth_description(e)) details_->oauth_description = d;
    details_->http_status = rapidata_error_http_status(e);
    if (std::int64_t ms = rapidata_error_retry_after_unix_ms(e); ms > 0) {
      details_->retry_after = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::milliseconds(ms)));
    }
  }

  static std::string message_of(RapidataStatus status, const RapidataError* e) {
    const char* m = rapidata_error_message(e);
    return m != nullptr ? std::string(m) : std::string(rapidata_status_name(static_cast<std::uint32_t>(status)));
  }

  std::shared_ptr<Details> details_;
};

namespace detail {

// Throws unless `status` is OK; frees `error` either way. Call it with the status already in a
// variable: in `check(f(&error), error)` the second argument may be read before f writes it.
inline void check(RapidataStatus status, RapidataError* error) {
  if (status != RAPIDATA_STATUS_OK) throw Error(status, error);
  rapidata_error_free(error);  // NULL on success; freed anyway so no path can leak
}

// A NUL-terminated copy: string_view need not be terminated, and an embedded NUL would
// silently cut the value short in C.
inline std::string c_string(std::string_view v, const char* what) {
  if (v.find('\0') != std::string_view::npos) {
    throw Error(Status::invalid_argument, std::string(what) + " contains a NUL character");
  }
  return std::string(v);
}

// Overwrites memory the optimizer may consider dead (tokens and secrets are wiped after use).
// The call goes through a volatile function pointer, so it cannot be elided (the trick of
// OpenSSL's OPENSSL_cleanse), and runs at memset speed, unlike a byte-wise volatile loop.
inline void memset_zero(void* p, std::size_t n) noexcept { std::memset(p, 0, n); }
inline void (*volatile const wipe_fn)(void*, std::size_t) noexcept = memset_zero;
inline void wipe(void* p, std::size_t n) noexcept {
  if (n != 0) wipe_fn(p, n);
}

// Milliseconds as the C ABI's uint32_t, rejecting what it cannot represent.
inline std::uint32_t to_ms(std::chrono::milliseconds d, const char* what) {
  if (d.count() < 0 || d.count() > static_cast<std::int64_t>(std::numeric_limits<std::uint32_t>::max())) {
    throw Error(Status::invalid_argument, std::string(what) + " is out of range (0 to 2^32-1 ms)");
  }
  return static_cast<std::uint32_t>(d.count());
}

inline std::chrono::system_clock::time_point from_unix_ms(std::int64_t ms) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::milliseconds(ms)));
}

struct OptionsDeleter {
  void operator()(RapidataOptions* o) const noexcept { rapidata_options_free(o); }
};
struct ClientDeleter {
  void operator()(RapidataClient* c) const noexcept { rapidata_free(c); }
};

}  // namespace detail

// Builder for a Client: every C option setter, chainable on lvalues and temporaries.
// Setters validate at once and throw Error (INVALID_ARGUMENT) for a bad value. Settings not
// made here come from the environment (RAPIDATA_*) and the library's defaults.
class Options {
 public:
  Options() {
    RapidataOptions* o = nullptr;
    if (rapidata_options_new(&o) != RAPIDATA_STATUS_OK || o == nullptr) {
      throw Error(Status::invalid_argument, "rapidata_options_new failed");
    }
    options_.reset(o);
  }

  Options& client_id(std::string_view id) & {
    std::string s = detail::c_string(id, "client id");
    return set(rapidata_options_set_client_id, s.c_str());
  }
  Options& client_secret(std::string_view secret) & {
    std::string s = detail::c_string(secret, "client secret");
    // The library keeps its own (zeroized) copy; wipe ours whatever happens.
    struct Wipe {
      std::string& s;
      ~Wipe() { detail::wipe(s.data(), s.size()); }
    } wipe{s};
    return set(rapidata_options_set_client_secret, s.c_str());
  }
  Options& issuer(std::string_view url) & { return set_str(rapidata_options_set_issuer, url, "issuer"); }
  Options& environment(std::string_view env) & {
    return set_str(rapidata_options_set_environment, env, "environment");
  }
  Options& token_endpoint(std::string_view url) & {
    return set_str(rapidata_options_set_token_endpoint, url, "token endpoint");
  }
  // Space-separated; "" sends no scope. Default "openid roles email".
  Options& scope(std::string_view scope) & { return set_str(rapidata_options_set_scope, scope, "scope"); }
  // PEM file whose certificates replace the built-in roots (read when the Client is created).
  Options& ca_file(const std::filesystem::path& pem) & {
    return set_str(rapidata_options_set_ca_file, pem.string(), "CA file");
  }
  Options& credentials_file(const std::filesystem::path& path) & {
    return set_str(rapidata_options_set_credentials_file, path.string(), "credentials file");
  }
  Options& auth_method(AuthMethod m) & {
    return set(rapidata_options_set_auth_method, static_cast<std::uint32_t>(m));
  }
  Options& connect_timeout(std::chrono::milliseconds t) & {
    return set(rapidata_options_set_connect_timeout_ms, detail::to_ms(t, "connect timeout"));
  }
  Options& request_timeout(std::chrono::milliseconds t) & {
    return set(rapidata_options_set_request_timeout_ms, detail::to_ms(t, "request timeout"));
  }
  Options& expiry_margin(std::chrono::milliseconds m) & {
    return set(rapidata_options_set_expiry_margin_ms, detail::to_ms(m, "expiry margin"));
  }
  // 0 turns refresh-ahead off.
  Options& refresh_ahead(std::chrono::milliseconds w) & {
    return set(rapidata_options_set_refresh_ahead_ms, detail::to_ms(w, "refresh-ahead window"));
  }

  // The same setters on a temporary, so `Client(Options().issuer(...).scope(...))` and
  // `auto o = Options().issuer(...);` both work.
  Options&& client_id(std::string_view v) && { return std::move(client_id(v)); }
  Options&& client_secret(std::string_view v) && { return std::move(client_secret(v)); }
  Options&& issuer(std::string_view v) && { return std::move(issuer(v)); }
  Options&& environment(std::string_view v) && { return std::move(environment(v)); }
  Options&& token_endpoint(std::string_view v) && { return std::move(token_endpoint(v)); }
  Options&& scope(std::string_view v) && { return std::move(scope(v)); }
  Options&& ca_file(const std::filesystem::path& v) && { return std::move(ca_file(v)); }
  Options&& credentials_file(const std::filesystem::path& v) && { return std::move(credentials_file(v)); }
  Options&& auth_method(AuthMethod v) && { return std::move(auth_method(v)); }
  Options&& connect_timeout(std::chrono::milliseconds v) && { return std::move(connect_timeout(v)); }
  Options&& request_timeout(std::chrono::milliseconds v) && { return std::move(request_timeout(v)); }
  Options&& expiry_margin(std::chrono::milliseconds v) && { return std::move(expiry_margin(v)); }
  Options&& refresh_ahead(std::chrono::milliseconds v) && { return std::move(refresh_ahead(v)); }

  // The C handle, still owned by this object (NULL after a move).
  [[nodiscard]] const RapidataOptions* native_handle() const noexcept { return options_.get(); }

 private:
  RapidataOptions* live() const {
    if (!options_) throw Error(Status::invalid_argument, "raptoken::Options used after it was moved from");
    return options_.get();
  }
  template <typename Setter, typename Arg>
  Options& set(Setter setter, Arg arg) {
    RapidataError* error = nullptr;
    const RapidataStatus s = setter(live(), arg, &error);
    detail::check(s, error);
    return *this;
  }
  template <typename Setter>
  Options& set_str(Setter setter, std::string_view value, const char* what) {
    std::string s = detail::c_string(value, what);
    return set(setter, s.c_str());
  }

  std::unique_ptr<RapidataOptions, detail::OptionsDeleter> options_;
};

// A token and what the library knows about its lifetime.
struct TokenInfo {
  std::string token;
  std::chrono::system_clock::time_point expires_at;  // errs early: counted from the request
  std::chrono::system_clock::time_point refresh_at;  // from here on, the next call renews
  std::chrono::milliseconds lifetime{0};             // as granted by the server
};

// Gets and keeps bearer tokens. Move-only; using a moved-from Client throws Error
// (INVALID_ARGUMENT). All const members are thread-safe; the first call fetches, later calls
// return the cached token without a lock, and concurrent callers share one request.
class Client {
 public:
  // Credentials and settings from `options` (which may be destroyed right after).
  explicit Client(const Options& options) {
    const RapidataOptions* o = options.native_handle();
    if (o == nullptr) throw Error(Status::invalid_argument, "raptoken::Options used after it was moved from");
    RapidataClient* c = nullptr;
    RapidataError* error = nullptr;
    const RapidataStatus s = rapidata_client_new_with_options(o, &c, &error);
    detail::check(s, error);
    client_.reset(c);
  }

  // The credentials chain: RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_SECRET, then Rapidata's SDK
  // credentials file; other settings from RAPIDATA_* variables. No network I/O yet.
  [[nodiscard]] static Client from_env() {
    RapidataClient* c = nullptr;
    RapidataError* error = nullptr;
    const RapidataStatus s = rapidata_client_new(nullptr, nullptr, &c, &error);
    detail::check(s, error);
    return Client(c);
  }

  Client(Client&&) noexcept = default;
  Client& operator=(Client&&) noexcept = default;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() = default;

  // The current access token, fetched if none is usable.
  [[nodiscard]] std::string token() const { return fetch(0, nullptr); }

  // Writes the token into `out`, reusing its capacity: once `out` has grown to a token's size,
  // this allocates nothing (the C warm path allocates nothing either).
  void token(std::string& out) const { fill(out, 0, nullptr); }

  // A token valid at least `min_valid` more (or the freshest one, if the server's lifetime is
  // shorter), with its expiry. Negative means 0; beyond 2^32-1 ms is capped to that.
  [[nodiscard]] TokenInfo token_info(std::chrono::milliseconds min_valid = std::chrono::milliseconds(0)) const {
    const std::int64_t cap = std::numeric_limits<std::uint32_t>::max();
    const std::int64_t ms = min_valid.count() < 0 ? 0 : (min_valid.count() > cap ? cap : min_valid.count());
    RapidataTokenInfo info{};
    TokenInfo result;
    result.token = fetch(static_cast<std::uint32_t>(ms), &info);
    result.expires_at = detail::from_unix_ms(info.expires_at_unix_ms);
    result.refresh_at = detail::from_unix_ms(info.refresh_at_unix_ms);
    result.lifetime = std::chrono::milliseconds(info.lifetime_ms);
    return result;
  }

  // "Bearer <token>", ready for an Authorization header.
  [[nodiscard]] std::string authorization_header() const {
    std::string t = token();
    std::string header;
    header.reserve(7 + t.size());
    header.append("Bearer ").append(t);
    detail::wipe(t.data(), t.size());
    return header;
  }

  // Call when an API answered 401 with `token`: drops it if it is still the cached one, so the
  // next call fetches anew. Returns whether it was dropped (false if already replaced).
  bool invalidate(std::string_view token) const {
    std::string t = detail::c_string(token, "token");
    bool dropped = false;
    RapidataError* error = nullptr;
    const RapidataStatus s = rapidata_invalidate_token(live(), t.c_str(), &dropped, &error);
    detail::wipe(t.data(), t.size());
    detail::check(s, error);
    return dropped;
  }

  // The C handle, still owned by this object (NULL after a move). For calls this binding lacks.
  [[nodiscard]] RapidataClient* native_handle() const noexcept { return client_.get(); }

 private:
  explicit Client(RapidataClient* c) noexcept : client_(c) {}

  RapidataClient* live() const {
    if (!client_) throw Error(Status::invalid_argument, "raptoken::Client used after it was moved from");
    return client_.get();
  }

  // A new string holding the token: through a stack buffer that fits typical tokens (JWTs of
  // 1-2 KB), so the string is allocated once at its final size; longer tokens take fill().
  std::string fetch(std::uint32_t min_valid_ms, RapidataTokenInfo* info) const {
    RapidataClient* c = live();
    char buf[4096];
    std::size_t len = 0;
    RapidataError* error = nullptr;
    const RapidataStatus s = rapidata_get_token_info(c, min_valid_ms, buf, sizeof buf, &len, info, &error);
    if (s == RAPIDATA_STATUS_OK) {
      struct Wipe {
        char* p;
        std::size_t n;
        ~Wipe() { detail::wipe(p, n); }
      } wipe{buf, len};
      return std::string(buf, len);
    }
    if (s != RAPIDATA_STATUS_BUFFER_TOO_SMALL) detail::check(s, error);
    rapidata_error_free(error);
    std::string out;
    out.reserve(len);
    fill(out, min_valid_ms, info);
    return out;
  }

  // Copies the token into `out`: try its current capacity, grow to the length the library
  // reports if too small, and retry (the token may have been renewed in between).
  void fill(std::string& out, std::uint32_t min_valid_ms, RapidataTokenInfo* info) const {
    RapidataClient* c = live();
    for (;;) {
      out.resize(out.capacity());  // chars [0, size()] are writable, the NUL slot included
      std::size_t len = 0;
      RapidataError* error = nullptr;
      const RapidataStatus s =
          rapidata_get_token_info(c, min_valid_ms, out.data(), out.size() + 1, &len, info, &error);
      if (s == RAPIDATA_STATUS_OK) {
        out.resize(len);
        return;
      }
      if (s != RAPIDATA_STATUS_BUFFER_TOO_SMALL) {
        detail::wipe(out.data(), out.size());  // may hold an earlier token
        out.clear();
        detail::check(s, error);
      }
      rapidata_error_free(error);
      out.reserve(len);
    }
  }

  std::unique_ptr<RapidataClient, detail::ClientDeleter> client_;
};

}  // namespace raptoken

#endif  // RAPTOKEN_HPP
