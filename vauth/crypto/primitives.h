// Hashes, MACs, KDFs and ciphers (OpenSSL 3 EVP underneath).
#pragma once

#include <optional>

#include "vauth/base/bytes.h"

namespace vauth::crypto {

Bytes sha256(ByteView data);
Bytes hmac_sha256(ByteView key, ByteView data);
// RFC 5869 HKDF-SHA-256 (extract and expand).
Bytes hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, size_t length);

// AES-256-CBC without padding (CTAP PIN protocols). nullopt if the key is not
// 32 bytes, the IV not 16, or the input not a whole number of blocks.
std::optional<Bytes> aes256_cbc_encrypt(ByteView key, ByteView iv, ByteView plaintext);
std::optional<Bytes> aes256_cbc_decrypt(ByteView key, ByteView iv, ByteView ciphertext);
// AES-128-CBC without padding, the same rules with a 16-byte key (CTAP 2.2
// encIdentifier / encCredStoreState).
std::optional<Bytes> aes128_cbc_encrypt(ByteView key, ByteView iv, ByteView plaintext);
std::optional<Bytes> aes128_cbc_decrypt(ByteView key, ByteView iv, ByteView ciphertext);

// AES-256-GCM with a 12-byte nonce and 16-byte tag appended to the ciphertext.
std::optional<Bytes> aes256_gcm_seal(ByteView key, ByteView nonce, ByteView aad, ByteView plaintext);
// nullopt when authentication fails or sizes are wrong.
std::optional<Bytes> aes256_gcm_open(ByteView key, ByteView nonce, ByteView aad, ByteView sealed);

// Constant-time equality (lengths are not secret).
bool equal_ct(ByteView a, ByteView b);
// Overwrites memory in a way the compiler cannot elide.
void cleanse(std::span<uint8_t> data);

}  // namespace vauth::crypto
