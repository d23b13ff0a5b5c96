#include "vauth/daemon/large_blob_entry.h"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

#include "vauth/cbor/codec.h"
#include "vauth/crypto/primitives.h"
#include "vauth/ctap/large_blobs.h"

namespace vauth::daemon {
namespace {

constexpr size_t kNonceLength = 12;
constexpr int kCiphertext = 1, kNonce = 2, kOrigSize = 3;
// Raw DEFLATE (RFC 1951): negative windowBits means no zlib header or trailer.
constexpr int kRawDeflateWindowBits = -15;
constexpr int kZlibWindowBits = 15;

Bytes deflate_raw(ByteView in) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, kRawDeflateWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  Bytes out(deflateBound(&z, static_cast<uLong>(in.size())));
  z.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct; it does not write the input
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  return out;
}

// Exactly `size` bytes inflated from one complete stream, or nullopt.
std::optional<Bytes> inflate_exactly(ByteView in, size_t size, int window_bits) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK) return std::nullopt;
  Bytes out(size + 1);  // one spare byte: a stream that inflates to more is refused
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const size_t produced = z.total_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != size) return std::nullopt;
  out.resize(size);
  return out;
}

Bytes associated_data(uint64_t orig_size) {
  Bytes aad = to_bytes("blob");
  for (int i = 0; i < 8; ++i) aad.push_back(static_cast<uint8_t>(orig_size >> (8 * i)));
  return aad;
}

// The compressed blob inside `entry` if it is a well-formed entry whose
// ciphertext authenticates under `key`: the entry is that key's.
std::optional<Bytes> decrypt_entry(const cbor::Value& entry, ByteView key) {
  const cbor::Value* ct = entry.find(kCiphertext);
  const cbor::Value* nonce = entry.find(kNonce);
  const cbor::Value* size = entry.find(kOrigSize);
  if (!ct || !nonce || !size || !ct->is_bytes() || !nonce->is_bytes() || !size->is_unsigned()) return std::nullopt;
  if (nonce->as_bytes().size() != kNonceLength) return std::nullopt;
  return crypto::aes256_gcm_open(key, nonce->as_bytes(), associated_data(size->as_unsigned()), ct->as_bytes());
}

// The blob `entry` holds if it is a well-formed entry that opens under `key`.
std::optional<Bytes> open_entry(const cbor::Value& entry, ByteView key) {
  const cbor::Value* size = entry.find(kOrigSize);
  if (!size || !size->is_unsigned() || size->as_unsigned() > kMaxLargeBlobSize) return std::nullopt;
  auto compressed = decrypt_entry(entry, key);
  if (!compressed) return std::nullopt;
  const auto orig_size = static_cast<size_t>(size->as_unsigned());
  // The spec's raw DEFLATE first; then the zlib wrapper (RFC 1950) that python-fido2
  // 0.9 and libfido2 before 1.11 write, which libfido2 still reads too.
  if (auto blob = inflate_exactly(*compressed, orig_size, kRawDeflateWindowBits)) return blob;
  return inflate_exactly(*compressed, orig_size, kZlibWindowBits);
}

// The entries of an intact array, or nullopt if it is not a CBOR array.
std::optional<cbor::Value::Array> entries(ByteView array) {
  if (array.empty()) return cbor::Value::Array{};
  const ByteView body = ctap::large_blob_array_body(array);
  if (body.empty()) return std::nullopt;
  auto decoded = cbor::decode(body);
  if (!decoded || !decoded->is_array()) return std::nullopt;
  return std::move(decoded->as_array());
}

}  // namespace

Expected<Bytes, std::string> large_blob_array_with(ByteView array, ByteView key, ByteView blob, crypto::Rng& rng) {
  auto list = entries(array);
  if (!list) return unexpected(std::string("the device's large-blob array is not a CBOR array vauth can edit"));
  std::erase_if(*list, [&](const cbor::Value& e) { return open_entry(e, key).has_value(); });
  const Bytes nonce = rng.bytes(kNonceLength);
  auto sealed = crypto::aes256_gcm_seal(key, nonce, associated_data(blob.size()), deflate_raw(blob));
  if (!sealed) return unexpected(std::string("AES-256-GCM refused the largeBlobKey"));
  list->push_back(cbor::Value::Map{
      {kCiphertext, std::move(*sealed)}, {kNonce, nonce}, {kOrigSize, static_cast<uint64_t>(blob.size())}});
  return ctap::serialized_large_blob_array(cbor::encode(cbor::Value(std::move(*list))));
}

std::optional<Bytes> large_blob_array_without(ByteView array, const std::vector<ByteView>& keys) {
  if (keys.empty()) return std::nullopt;
  auto list = entries(array);
  if (!list) return std::nullopt;
  const size_t before = list->size();
  // Authenticating under the key is what makes an entry the key's, whether or
  // not its content inflates.
  std::erase_if(*list, [&](const cbor::Value& e) {
    return std::any_of(keys.begin(), keys.end(), [&](ByteView k) { return decrypt_entry(e, k).has_value(); });
  });
  if (list->size() == before) return std::nullopt;
  return ctap::serialized_large_blob_array(cbor::encode(cbor::Value(std::move(*list))));
}

std::optional<Bytes> large_blob_in(ByteView array, ByteView key) {
  if (key.empty()) return std::nullopt;
  auto list = entries(array);
  if (!list) return std::nullopt;
  for (const cbor::Value& e : *list) {
    if (auto blob = open_entry(e, key)) return blob;
  }
  return std::nullopt;
}

}  // namespace vauth::daemon
