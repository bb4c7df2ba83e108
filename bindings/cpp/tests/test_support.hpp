// Shared by the C++ binding's tests: the test server's coordinates (exported by
// testing/with-oidc-server.sh), Options for one of its clients, and its admin API.
//
// Every test uses its own client id so the server's per-client request counts do not mix
// (ctest runs tests in parallel within one server run):
//   basic-1..9, post-1, short-1  token_test     basic-10..19  error_test
//   basic-20..29                 move_test      slow-1        concurrency_test
//   basic-30..33                 sharing_test   basic-34..39  resilience_test
//   basic-50..54                 log_test       basic-55..57  stats_test
//   basic-40 readme_example;  basic-41..49 run_installed.sh;  basic-61 sharing_test (fleet)
//   basic-63 bench/token_bench
//   jwt-ec, jwt-rsa, jwt-wrong, jwt-params (testing/with-jwt-clients.sh)  key_test
//   login_test: no fixed client (each login creates its own)
#pragma once

#include <raptoken.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace test {

inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(std::string(name) + " is not set: run the tests through testing/with-oidc-server.sh");
  }
  return v;
}

// Options for a test-server client whose secret follows the server's "secret-<id>" rule.
inline raptoken::Options options_for(const std::string& client_id) {
  return raptoken::Options()
      .issuer(env("RAPTOKEN_TEST_ISSUER"))
      .ca_file(env("RAPTOKEN_TEST_CA_FILE"))
      .client_id(client_id)
      .client_secret("secret-" + client_id);
}

// Like options_for, without the test CA: for tests of which roots are trusted.
inline raptoken::Options options_without_ca(const std::string& client_id) {
  return raptoken::Options()
      .issuer(env("RAPTOKEN_TEST_ISSUER"))
      .client_id(client_id)
      .client_secret("secret-" + client_id);
}

// A loopback TCP port that refuses connections for this object's lifetime: bound (so no one
// else can take it) but not listening, so a connect gets ECONNREFUSED at once.
class ClosedPort {
 public:
  ClosedPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("ClosedPort: socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd_);
      throw std::runtime_error("ClosedPort: bind failed");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  // "http://127.0.0.1:PORT" (plain http is allowed to loopback hosts).
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_;
  int port_ = 0;
};

// A fresh private directory, removed with everything in it when this object goes.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "raptoken-cpp-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("TempDir: mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// One plain-HTTP request to the admin API (127.0.0.1 only); returns the response body.
inline std::string admin(const std::string& method, const std::string& path_and_query) {
  const std::string base = env("RAPTOKEN_TEST_ADMIN");  // http://127.0.0.1:PORT
  const auto colon = base.rfind(':');
  const int port = std::stoi(base.substr(colon + 1));

  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("admin: socket failed");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  timeval tv{10, 0};  // bounded: a stuck server fails the test instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("admin: connect failed");
  }
  const std::string req = method + " " + path_and_query +
                          " HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) {
    throw std::runtime_error("admin: send failed");
  }
  std::string resp;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) resp.append(buf, static_cast<size_t>(n));
  if (resp.compare(0, 12, "HTTP/1.1 200") != 0 && resp.compare(0, 12, "HTTP/1.0 200") != 0) {
    throw std::runtime_error("admin: " + method + " " + path_and_query + " failed: " + resp.substr(0, 80));
  }
  const auto body = resp.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : resp.substr(body + 4);
}

// How many token requests the server has seen from `client_id`.
inline int token_requests(const std::string& client_id) {
  const std::string body = admin("GET", "/stats?client_id=" + client_id);
  const std::string key = "\"token_requests\":";
  const auto at = body.find(key);
  if (at == std::string::npos) throw std::runtime_error("admin: unexpected /stats answer: " + body);
  return std::stoi(body.substr(at + key.size()));
}

// Runs `f`, which must throw raptoken::Error, and returns that error.
template <typename F>
raptoken::Error error_of(F&& f) {
  try {
    f();
  } catch (const raptoken::Error& e) {
    return e;
  }
  throw std::runtime_error("expected a raptoken::Error, got none");
}

}  // namespace test
