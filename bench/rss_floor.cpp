// vauth-rss-floor: the memory floor under vauthd's idle RSS, measured by
// vauth-bench in the same run. It is the least a C++ FIDO key on this system
// can be: a program linked, like vauthd, against Debian's shared OpenSSL 3
// and libstdc++, that has done once what every key does (a P-256 key pair, an
// ECDSA signature, SHA-256, AES-256-GCM), then idles. vauthd's idle RSS minus
// this program's is what vauthd itself adds (docs/performance.md, finding 7).
//
// Prints "ready" when done, then waits until its stdin closes.
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdio>
#include <iostream>
#include <string>

namespace {

bool one_of_each() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (!key) return false;
  unsigned char message[32] = {1};
  unsigned char signature[80];
  size_t signature_len = sizeof(signature);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  bool ok = md && EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(md, signature, &signature_len, message, sizeof(message)) == 1;
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(key);

  unsigned char aes_key[32] = {2}, iv[12] = {3}, out[48];
  int len = 0;
  EVP_CIPHER_CTX* gcm = EVP_CIPHER_CTX_new();
  ok = ok && gcm && EVP_EncryptInit_ex(gcm, EVP_aes_256_gcm(), nullptr, aes_key, iv) == 1 &&
       EVP_EncryptUpdate(gcm, out, &len, message, sizeof(message)) == 1;
  EVP_CIPHER_CTX_free(gcm);
  return ok;
}

}  // namespace

int main() {
  if (!one_of_each()) {
    std::fprintf(stderr, "vauth-rss-floor: OpenSSL failed\n");
    return 1;
  }
  std::cout << "ready" << std::endl;  // through iostreams, as vauthd's own output is
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  return 0;
}
