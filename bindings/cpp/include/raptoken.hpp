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
#include <functional>
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

// Which certificate authorities TLS trusts (RapidataTrust): flags, combine with `|`.
enum class Trust : std::uint32_t {
  builtin = RAPIDATA_TRUST_BUILTIN,  // Mozilla's roots compiled into the library (the default)
  system = RAPIDATA_TRUST_SYSTEM,    // SSL_CERT_FILE / SSL_CERT_DIR, else the distribution's bundle
};
[[nodiscard]] constexpr Trust operator|(Trust a, Trust b) noexcept {
  return static_cast<Trust>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
[[nodiscard]] constexpr Trust operator&(Trust a, Trust b) noexcept {
  return static_cast<Trust>(static_cast<std::uint32_t>(a) & static_cast<std::uint32_t>(b));
}

// Severity of a log line (RapidataLogLevel), most severe first.
enum class LogLevel : std::uint32_t {
  error = RAPIDATA_LOG_LEVEL_ERROR,  // a fetch failed and no usable token was left
  warn = RAPIDATA_LOG_LEVEL_WARN,    // retries, throttling, a failed refresh while still serving
  info = RAPIDATA_LOG_LEVEL_INFO,    // fetch start and end, discovery results
  debug = RAPIDATA_LOG_LEVEL_DEBUG,  // each request
};

// Receives one log line (never containing a secret or token). Runs on whichever thread is
// fetching, possibly several at once: it must be thread-safe and must not call into the Client
// that logs. The message is valid only during the call. Exceptions it throws are swallowed.
using LogCallback = std::function<void(LogLevel, std::string_view)>;

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
    // The error's own status when there is one (it equals what the call returned).
    details_->status = static_cast<Status>(e != nullptr ? rapidata_error_status(e) : status);
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

// Owns a log callback for the C library. Options and every Client created from them hold a
// shared reference, so the callback outlives each C client that may call it (the C options
// may be freed first). The C library gets a pointer to this object as its user_data.
struct LogSink {
  LogCallback callback;

  // The C callback. No exception may unwind into the library: anything thrown is dropped.
  static void trampoline(void* user_data, std::uint32_t level, const char* message) noexcept {
    try {
      const auto* sink = static_cast<const LogSink*>(user_data);
      sink->callback(static_cast<LogLevel>(level), message != nullptr ? std::string_view(message) : std::string_view());
    } catch (...) {  // a logger must not break token fetching
    }
  }
};

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

  // Shares one token per client among this user's processes on this host through files of mode
  // 0600 in `$XDG_CACHE_HOME/raptoken` (else `~/.cache/raptoken`); false turns it off even if
  // RAPIDATA_SHARED_CACHE is set. This or shared_cache_dir, whichever is called last, wins.
  Options& shared_cache(bool enabled) & { return set(rapidata_options_set_shared_cache, enabled); }
  // The shared cache in `dir` (created with mode 0700; an existing one must be private to you).
  Options& shared_cache_dir(const std::filesystem::path& dir) & {
    return set_str(rapidata_options_set_shared_cache_dir, dir.string(), "shared cache directory");
  }
  // Reads tokens from a JSON file another process keeps fresh (`raptoken maintain --token-file`,
  // Rapidata's SDK) instead of exchanging credentials; wins over every credential source.
  Options& token_file(const std::filesystem::path& path) & {
    return set_str(rapidata_options_set_token_file, path.string(), "token file");
  }
  // Attempts per fetch, 1 (no retries) to 10; default 3.
  Options& max_attempts(std::uint32_t attempts) & { return set(rapidata_options_set_max_attempts, attempts); }
  // Full-jitter backoff between attempts: random up to base * 2^(n-1), at most `max`.
  // Defaults 500 ms and 30 s.
  Options& retry_backoff(std::chrono::milliseconds base, std::chrono::milliseconds max) & {
    RapidataError* error = nullptr;
    const RapidataStatus s = rapidata_options_set_retry_backoff_ms(
        live(), detail::to_ms(base, "retry backoff base"), detail::to_ms(max, "retry backoff maximum"), &error);
    detail::check(s, error);
    return *this;
  }
  // The longest Retry-After honoured (default 60 s).
  Options& max_retry_after(std::chrono::milliseconds max) & {
    return set(rapidata_options_set_max_retry_after_ms, detail::to_ms(max, "max Retry-After"));
  }
  // Bounds one whole fetch: discovery, every attempt and the waits between them (default 30 s).
  Options& deadline(std::chrono::milliseconds d) & {
    return set(rapidata_options_set_deadline_ms, detail::to_ms(d, "deadline"));
  }
  // Which roots TLS trusts. Default builtin, or only the CA file when one is set; a CA file
  // with Trust::system adds to the system roots. builtin with system or a CA file: the
  // Client's constructor throws Status::config.
  Options& trust(Trust flags) & { return set(rapidata_options_set_trust, static_cast<std::uint32_t>(flags)); }
  // "http://host:port" (user:password@ allowed, never logged); "" means no proxy whatever
  // HTTPS_PROXY says. Unset, ALL_PROXY / HTTPS_PROXY / HTTP_PROXY and NO_PROXY decide.
  Options& proxy(std::string_view url) & { return set_str(rapidata_options_set_proxy, url, "proxy"); }
  // Sends log lines at `min_level` or more severe to `callback` (see LogCallback for the rules);
  // an empty function removes it. Clients created from these options keep their own reference
  // to the callback, so they may outlive these options.
  Options& log_callback(LogCallback callback, LogLevel min_level = LogLevel::info) & {
    std::shared_ptr<detail::LogSink> sink;
    if (callback) sink = std::make_shared<detail::LogSink>(detail::LogSink{std::move(callback)});
    RapidataError* error = nullptr;
    const RapidataStatus s = rapidata_options_set_log_callback(
        live(), sink ? &detail::LogSink::trampoline : nullptr, sink.get(), static_cast<std::uint32_t>(min_level), &error);
    detail::check(s, error);
    log_ = std::move(sink);  // only now: on failure the C options still point at the old sink
    return *this;
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
  Options&& shared_cache(bool v) && { return std::move(shared_cache(v)); }
  Options&& shared_cache_dir(const std::filesystem::path& v) && { return std::move(shared_cache_dir(v)); }
  Options&& token_file(const std::filesystem::path& v) && { return std::move(token_file(v)); }
  Options&& max_attempts(std::uint32_t v) && { return std::move(max_attempts(v)); }
  Options&& retry_backoff(std::chrono::milliseconds base, std::chrono::milliseconds max) && {
    return std::move(retry_backoff(base, max));
  }
  Options&& max_retry_after(std::chrono::milliseconds v) && { return std::move(max_retry_after(v)); }
  Options&& deadline(std::chrono::milliseconds v) && { return std::move(deadline(v)); }
  Options&& trust(Trust v) && { return std::move(trust(v)); }
  Options&& proxy(std::string_view v) && { return std::move(proxy(v)); }
  Options&& log_callback(LogCallback callback, LogLevel min_level = LogLevel::info) && {
    return std::move(log_callback(std::move(callback), min_level));
  }

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

  friend class Client;  // takes its own reference to log_

  // Declared before options_, so the C options are freed before the callback they point to.
  std::shared_ptr<detail::LogSink> log_;
  std::unique_ptr<RapidataOptions, detail::OptionsDeleter> options_;
};

// A token and what the library knows about its lifetime.
struct TokenInfo {
  std::string token;
  std::chrono::system_clock::time_point expires_at;  // errs early: counted from the request
  std::chrono::system_clock::time_point refresh_at;  // from here on, the next call renews
  std::chrono::milliseconds lifetime{0};             // as granted by the server
};

// A snapshot of a Client's counters (RapidataStats); all start at 0 when the Client is created.
struct Stats {
  std::uint64_t cache_hits = 0;          // answered from the cache without fetching or waiting
  std::uint64_t token_requests = 0;      // HTTP requests to the token endpoint, retries included
  std::uint64_t discovery_requests = 0;  // HTTP requests for OpenID discovery
  std::uint64_t fetches_ok = 0;          // fetches that ended with a new token
  std::uint64_t fetches_failed = 0;      // fetches that ended with an error, after their retries
  std::uint64_t retries = 0;             // attempts that repeated a failed one
  std::uint64_t throttled = 0;           // fetches refused because the server's Retry-After had not passed
  std::uint64_t kept_serving = 0;        // failed refreshes after which the current token was still served
  std::optional<std::chrono::system_clock::time_point> last_error;       // when the last fetch failed
  std::optional<std::chrono::system_clock::time_point> last_success;     // when the last fetch succeeded
  std::optional<std::chrono::system_clock::time_point> throttled_until;  // no token request before this
  Status last_error_status = Status::ok;      // of the last failed fetch; ok if none failed
  std::uint16_t last_error_http_status = 0;   // HTTP status behind it; 0 if it had none
};

// Gets and keeps bearer tokens. Move-only; using a moved-from Client throws Error
// (INVALID_ARGUMENT). All const members are thread-safe; the first call fetches, later calls
// return the cached token without a lock, and concurrent callers share one request.
//
// Blocking, bounded by the deadline. token() and token_info() never block while the cached
// token is good: they return it at once. When a token must be fetched (first call, after
// invalidate(), or for the one caller that renews at the refresh instant, while every other
// caller keeps getting the current token), the calling thread blocks until the fetch ends, and
// concurrent callers block on that same fetch. A fetch ends within the client's deadline
// (Options::deadline, 30 s by default, retries and their backoff included; each attempt within
// Options::request_timeout): it succeeds, or throws Error (e.g. Status::timeout). It cannot be
// cancelled from outside; for a shorter bound, set a shorter deadline. An event loop that must
// not block calls token() on a worker thread (e.g. std::async) and waits for that; however many
// threads do so, one client makes one request.
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
    log_ = options.log_;  // the C client calls it until freed; `options` may go first
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
  // Frees this object's C client before dropping the log callback it may call.
  Client& operator=(Client&& other) noexcept {
    client_ = std::move(other.client_);
    log_ = std::move(other.log_);
    return *this;
  }
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

  // The client's counters. Cheap: reading them does not slow callers getting tokens.
  [[nodiscard]] Stats stats() const {
    RapidataStats st{};
    const RapidataStatus s = rapidata_client_stats(live(), &st);
    detail::check(s, nullptr);
    const auto at = [](std::int64_t ms) -> std::optional<std::chrono::system_clock::time_point> {
      if (ms <= 0) return std::nullopt;
      return detail::from_unix_ms(ms);
    };
    Stats out;
    out.cache_hits = st.cache_hits;
    out.token_requests = st.token_requests;
    out.discovery_requests = st.discovery_requests;
    out.fetches_ok = st.fetches_ok;
    out.fetches_failed = st.fetches_failed;
    out.retries = st.retries;
    out.throttled = st.throttled;
    out.kept_serving = st.kept_serving;
    out.last_error = at(st.last_error_unix_ms);
    out.last_success = at(st.last_success_unix_ms);
    out.throttled_until = at(st.throttled_until_unix_ms);
    out.last_error_status = static_cast<Status>(st.last_error_status);
    out.last_error_http_status = static_cast<std::uint16_t>(st.last_error_http_status);
    return out;
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

  // Declared before client_, so the C client is freed before the callback it may call.
  std::shared_ptr<detail::LogSink> log_;
  std::unique_ptr<RapidataClient, detail::ClientDeleter> client_;
};

}  // namespace raptoken

#endif  // RAPTOKEN_HPP
