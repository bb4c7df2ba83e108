// Prints the library version and, with credentials in the environment, gets a token.
#include <raptoken.hpp>

#include <cstdlib>
#include <iostream>

int main() {
  if (raptoken::version() != raptoken::header_version) {
    std::cerr << "header " << raptoken::header_version << " but library " << raptoken::version() << '\n';
    return 1;
  }
  std::cout << "raptoken " << raptoken::version() << '\n';
  if (std::getenv("RAPIDATA_CLIENT_ID") == nullptr) return 0;
  try {
    const raptoken::Client client = raptoken::Client::from_env();
    std::cout << "token of " << client.token().size() << " characters\n";
  } catch (const raptoken::Error& e) {
    std::cerr << "raptoken: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
