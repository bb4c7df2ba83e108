// Gets a Rapidata access token from the credentials chain and calls an API with it.
//
//   cmake -S . -B build -DCMAKE_PREFIX_PATH=<raptoken prefix> && cmake --build build
//   RAPIDATA_CLIENT_ID=... RAPIDATA_CLIENT_SECRET=... RAPTOKEN_EXAMPLE_API=https://... build/call_api
//
// Credentials: RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_SECRET, else the Python SDK's credentials file.
// RAPIDATA_ISSUER / RAPIDATA_CA_FILE point the library at another authorization server; this
// program trusts RAPIDATA_CA_FILE for the API call too. Prints only the first 8 characters of
// the token (tokens are secrets) and when it expires.
#include <raptoken.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

struct CurlDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

// GET `url` with `authorization` ("Bearer ..."); returns the HTTP status.
long get(const std::string& url, const std::string& authorization) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  std::unique_ptr<curl_slist, CurlDeleter> headers(
      curl_slist_append(nullptr, ("Authorization: " + authorization).c_str()));
  if (const char* ca = std::getenv("RAPIDATA_CA_FILE"); ca != nullptr && *ca != '\0') {
    curl_easy_setopt(curl.get(), CURLOPT_CAINFO, ca);
  }
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t n, void*) { return size * n; });
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 30L);
  if (CURLcode rc = curl_easy_perform(curl.get()); rc != CURLE_OK) {
    throw std::runtime_error(std::string("calling the API: ") + curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  return status;
}

// ISO 8601 UTC, e.g. 2026-11-28T08:26:06Z.
std::string utc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr) return "?";
  std::ostringstream out;
  out << std::put_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return out.str();
}

}  // namespace

int main() {
  const char* api = std::getenv("RAPTOKEN_EXAMPLE_API");
  if (api == nullptr || *api == '\0') {
    std::cerr << "set RAPTOKEN_EXAMPLE_API to the URL to call\n";
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  long status = 0;
  try {
    const raptoken::Client client = raptoken::Client::from_env();
    for (int attempt = 0; attempt < 2; ++attempt) {
      const raptoken::TokenInfo info = client.token_info();
      const std::string& token = info.token;
      if (attempt == 0) {
        std::cout << "token: " << token.substr(0, 8) << "... (" << token.size() << " characters)\n"
                  << "expires: " << utc(info.expires_at) << '\n';
      }
      status = get(api, "Bearer " + token);
      if (status != 401) break;
      // The token was revoked early: drop it (unless another thread already did), retry once.
      client.invalidate(token);
    }
  } catch (const raptoken::Error& e) {
    std::cerr << "raptoken: " << raptoken::status_name(e.status()) << ": " << e.what() << '\n';
  } catch (const std::exception& e) {
    std::cerr << e.what() << '\n';
  }
  std::cout << "HTTP status: " << status << '\n';
  curl_global_cleanup();
  return status >= 200 && status < 300 ? 0 : 1;
}
