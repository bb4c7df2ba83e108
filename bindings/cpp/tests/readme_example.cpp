#include <raptoken.hpp>

#include <iostream>

int main() {
  try {
    // Credentials: RAPIDATA_CLIENT_ID/RAPIDATA_CLIENT_SECRET, else the Python SDK's credentials file.
    raptoken::Client client = raptoken::Client::from_env();
    // Cached and renewed ahead of expiry: call it before every request, from any thread.
    std::string auth = client.authorization_header();  // "Bearer ..."
    // ... send `Authorization: <auth>`; on a 401, client.invalidate(auth.substr(7)) and retry once.
    std::cout << "got a bearer token of " << auth.size() - 7 << " characters\n";
  } catch (const raptoken::Error& e) {
    std::cerr << "raptoken: " << raptoken::status_name(e.status()) << ": " << e.what() << '\n';
    return 1;
  }
}
