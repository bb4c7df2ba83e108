// private_key_jwt and token request parameters through the C++ binding, against the test server
// with the clients testing/with-jwt-clients.sh registered (jwt-ec, jwt-rsa, jwt-wrong,
// jwt-params; each read by one test here).
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

raptoken::Options jwt_options(const std::string& client_id) {
  return raptoken::Options().issuer(test::env("RAPTOKEN_TEST_ISSUER")).ca_file(test::env("RAPTOKEN_TEST_CA_FILE")).client_id(client_id);
}

std::string key_path(const char* which) { return test::env((std::string("RAPTOKEN_TEST_JWT_") + which + "_KEY").c_str()); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// What the server's token endpoint last received from `client_id` (GET /requests, as JSON text).
std::string last_request(const std::string& client_id) { return test::admin("GET", "/requests?n=1&client_id=" + client_id); }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(Keys, EcKeyFileAndRsaKeyText) {
  EXPECT_FALSE(raptoken::Client(jwt_options("jwt-ec").client_key_file(key_path("EC"))).token().empty());
  raptoken::Client rsa(jwt_options("jwt-rsa")
                           .client_key(read_file(key_path("RSA")))
                           .client_key_id("rsa-1")
                           .client_key_algorithm(raptoken::SigningAlgorithm::ps256));
  EXPECT_FALSE(rsa.token().empty());
  const std::string seen = last_request("jwt-rsa");
  EXPECT_TRUE(has(seen, R"("auth":"private_key_jwt")")) << seen;
  EXPECT_TRUE(has(seen, R"("alg":"PS256","typ":"JWT","kid":"rsa-1")")) << seen;
}

TEST(Keys, AKeyTheServerDoesNotKnowIsInvalidClient) {
  raptoken::Client client(jwt_options("jwt-wrong").client_key_file(key_path("WRONG")));
  const raptoken::Error e = test::error_of([&] { (void)client.token(); });
  EXPECT_EQ(e.status(), raptoken::Status::oauth);
  EXPECT_EQ(e.oauth_code(), "invalid_client");
  EXPECT_EQ(e.http_status(), 401);
  EXPECT_TRUE(has(e.what(), "thumbprint")) << e.what();
}

TEST(Keys, KeyFileProblemsAndBadValuesAreClearErrors) {
  for (const auto& [which, want] : std::vector<std::pair<const char*, std::string>>{{"LOOSE", "chmod 600"}, {"MALFORMED", "no END line"}}) {
    const std::string path = key_path(which);
    const raptoken::Error e = test::error_of([&] { raptoken::Client c(jwt_options("jwt-ec").client_key_file(path)); });
    EXPECT_EQ(e.status(), raptoken::Status::config) << which;
    EXPECT_TRUE(has(e.what(), path) && has(e.what(), want)) << e.what();
  }
  const raptoken::Error bad_pem = test::error_of([] { (void)raptoken::Options().client_key("-----BEGIN PRIVATE KEY-----\nbm8ga2V5\n"); });
  EXPECT_EQ(bad_pem.status(), raptoken::Status::invalid_argument);
  EXPECT_FALSE(has(bad_pem.what(), "bm8ga2V5")) << "never quotes the PEM";
  const raptoken::Error rs256 = test::error_of([] {
    raptoken::Client c(jwt_options("jwt-ec").client_key_file(key_path("EC")).client_key_algorithm(raptoken::SigningAlgorithm::rs256));
  });
  EXPECT_EQ(rs256.status(), raptoken::Status::config);
  EXPECT_EQ(test::error_of([] { (void)raptoken::Options().add_extra_param("scope", "x"); }).status(), raptoken::Status::invalid_argument);
}

TEST(Keys, AudienceResourceAndExtraParamsReachTheServer) {
  std::istringstream list(test::env("RAPTOKEN_TEST_RESOURCES"));
  std::string first, second;
  list >> first >> second;
  ASSERT_FALSE(second.empty());
  raptoken::Client client(jwt_options("jwt-params")
                              .client_key_file(key_path("EC"))
                              .audience("https://aud.example.test/")
                              .add_resource(first)
                              .add_extra_param("organization", "R&D team"));
  EXPECT_FALSE(client.token().empty());
  std::string seen = last_request("jwt-params");
  EXPECT_TRUE(has(seen, R"("resource":[")" + first + R"("])")) << seen;
  EXPECT_TRUE(has(seen, R"("audience":["https://aud.example.test/"])") && has(seen, R"("organization":["R&D team"])")) << seen;

  // Two resources are both sent; this server takes one per request (invalid_target).
  raptoken::Client two(jwt_options("jwt-params").client_key_file(key_path("EC")).add_resource(first).add_resource(second));
  EXPECT_EQ(test::error_of([&] { (void)two.token(); }).oauth_code(), "invalid_target");
  seen = last_request("jwt-params");
  EXPECT_TRUE(has(seen, R"("resource":[")" + first + R"(",")" + second + R"("])")) << seen;
}
