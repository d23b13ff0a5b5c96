#include "store/seal.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <fstream>
#include <memory>

#include "store/store_error.h"
#include "vauth/cbor/codec.h"
#include "vauth/crypto/primitives.h"

namespace vauth::store {

namespace {

using cbor::Value;
constexpr int kSalt = 1, kLog2N = 2, kR = 3, kP = 4, kCheck = 5;
constexpr size_t kNonce = 12;

Bytes random_bytes(size_t n) {
  Bytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) throw StoreError("OpenSSL RAND_bytes failed");
  return out;
}

crypto::SecretBytes scrypt(std::string_view passphrase, ByteView salt, const ScryptParams& p) {
  if (p.log2_n < 10 || p.log2_n > 22 || p.r == 0 || p.r > 32 || p.p == 0 || p.p > 16) {
    throw StoreError("scrypt parameters out of range");
  }
  using KdfPtr = std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)>;
  using CtxPtr = std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)>;
  KdfPtr kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr), &EVP_KDF_free);
  if (!kdf) throw StoreError("OpenSSL has no SCRYPT KDF");
  CtxPtr ctx(EVP_KDF_CTX_new(kdf.get()), &EVP_KDF_CTX_free);
  uint64_t n = uint64_t{1} << p.log2_n;
  uint64_t r = p.r, par = p.p;
  uint64_t maxmem = 128 * n * r * par + (16u << 20);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(passphrase.data()),
                                        passphrase.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_P, &par),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  crypto::SecretBytes key(32);
  if (!ctx || EVP_KDF_derive(ctx.get(), key.data(), key.size(), params) != 1) throw StoreError("scrypt failed");
  return key;
}

// What the header stores to recognise the right passphrase: a one-way function
// of the key, separate from the record key.
Bytes key_check(ByteView master, ByteView file_id) {
  return crypto::hkdf_sha256(master, file_id, to_bytes("vauth journal key check"), 16);
}

}  // namespace

std::string passphrase_from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw StoreError("cannot read passphrase file " + path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw StoreError("passphrase file " + path + " is empty");
  return line;
}

std::string passphrase_from_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v || !*v) throw StoreError("environment variable " + name + " (the store passphrase) is not set");
  return v;
}

Sealer::Sealer(crypto::SecretBytes master, Bytes file_id, Value entry)
    : master_(std::move(master)),
      record_key_(crypto::hkdf_sha256(master_, file_id, to_bytes("vauth journal records"), 32)),
      file_id_(std::move(file_id)),
      entry_(std::move(entry)) {}

std::pair<Sealer, Value> Sealer::create(std::string_view passphrase, ByteView file_id, const ScryptParams& params) {
  Bytes salt = random_bytes(16);
  crypto::SecretBytes master = scrypt(passphrase, salt, params);
  Value::Map m;
  m[Value(kSalt)] = Value(salt);
  m[Value(kLog2N)] = Value(params.log2_n);
  m[Value(kR)] = Value(params.r);
  m[Value(kP)] = Value(params.p);
  m[Value(kCheck)] = Value(key_check(master, file_id));
  Value entry(std::move(m));
  Sealer s(std::move(master), Bytes(file_id.begin(), file_id.end()), entry);
  return {std::move(s), entry};
}

Sealer Sealer::open(std::string_view passphrase, ByteView file_id, const Value& entry) {
  auto get = [&entry](int key) -> const Value& {
    const Value* v = entry.find(Value(key));
    if (!v) throw StoreError("journal seal parameters are incomplete");
    return *v;
  };
  const Value &salt = get(kSalt), &log2n = get(kLog2N), &r = get(kR), &p = get(kP), &check = get(kCheck);
  if (!salt.is_bytes() || !log2n.is_unsigned() || !r.is_unsigned() || !p.is_unsigned() || !check.is_bytes() ||
      log2n.as_unsigned() > 255) {
    throw StoreError("journal seal parameters are malformed");
  }
  ScryptParams params{static_cast<uint8_t>(log2n.as_unsigned()), static_cast<uint32_t>(r.as_unsigned()),
                      static_cast<uint32_t>(p.as_unsigned())};
  crypto::SecretBytes master = scrypt(passphrase, salt.as_bytes(), params);
  if (!crypto::equal_ct(key_check(master, file_id), check.as_bytes())) {
    throw StoreError("wrong passphrase for the sealed store");
  }
  return Sealer(std::move(master), Bytes(file_id.begin(), file_id.end()), entry);
}

Sealer Sealer::rebind(ByteView file_id) const {
  Value::Map m = entry_.as_map();
  m[Value(kCheck)] = Value(key_check(master_, file_id));
  return Sealer(master_, Bytes(file_id.begin(), file_id.end()), Value(std::move(m)));
}

Bytes Sealer::seal(ByteView plaintext) const {
  // Random 96-bit nonces: far below the 2^32 records per key where collisions matter.
  Bytes nonce = random_bytes(kNonce);
  auto ct = crypto::aes256_gcm_seal(record_key_, nonce, file_id_, plaintext);
  if (!ct) throw StoreError("AES-256-GCM seal failed");
  Value::Map m;
  m[Value(1)] = Value(3);  // payload kind: sealed (see journal_records.h)
  m[Value(2)] = Value(nonce);
  m[Value(3)] = Value(std::move(*ct));
  return cbor::encode(Value(std::move(m)));
}

std::optional<Bytes> Sealer::open_record(ByteView nonce, ByteView ciphertext) const {
  if (nonce.size() != kNonce) return std::nullopt;
  return crypto::aes256_gcm_open(record_key_, nonce, file_id_, ciphertext);
}

}  // namespace vauth::store
