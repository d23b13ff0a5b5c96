// authenticatorLargeBlobs (CTAP 2.1 §6.10.2), get and set.
#include "vauth/ctap/large_blobs.h"

#include "vauth/crypto/primitives.h"
#include "vauth/ctap/commands.h"
#include "vauth/ctap/fields.h"
#include "vauth/ctap/pin_token.h"

namespace vauth::ctap {
namespace {

constexpr int kGet = 1, kSet = 2, kOffset = 3, kLength = 4, kPinUvAuthParam = 5, kPinUvAuthProtocol = 6;
constexpr int kRespConfig = 1;
constexpr size_t kTruncatedHashLength = 16;
// The smallest array: one CBOR byte and the hash.
constexpr size_t kMinimumArrayLength = 1 + kTruncatedHashLength;
// The CTAPHID and CBOR overhead a fragment must leave room for (§6.10.1 maxFragmentLength).
constexpr size_t kFragmentOverhead = 64;

Bytes truncated_hash(ByteView data) {
  Bytes h = crypto::sha256(data);
  h.resize(kTruncatedHashLength);
  return h;
}

size_t max_fragment_length(const Session& s) {
  return s.profile.max_message_size > kFragmentOverhead ? s.profile.max_message_size - kFragmentOverhead : 0;
}

Bytes current_array(const Session& s) {
  return s.state().large_blob_array.empty() ? initial_large_blob_array() : s.state().large_blob_array;
}

Response get(const Session& s, uint64_t count, uint64_t offset) {
  if (count > max_fragment_length(s)) return error(Status::InvalidLength);
  const Bytes array = current_array(s);
  if (offset > array.size()) return error(Status::InvalidParameter);
  const size_t n = static_cast<size_t>(std::min<uint64_t>(count, array.size() - offset));
  Bytes fragment(array.begin() + static_cast<std::ptrdiff_t>(offset),
                 array.begin() + static_cast<std::ptrdiff_t>(offset + n));
  return Response{Status::Ok, cbor::Value(cbor::Value::Map{{kRespConfig, std::move(fragment)}})};
}

// On a key protected by user verification (a PIN or an enrolled finger) or with alwaysUv
// on (§6.10.2), each fragment must be authorised by a token with the lbw permission over
// 32×0xff || h'0c00' || uint32LittleEndian(offset) || SHA-256(fragment).
Status authorize_fragment(Session& s, Fields& f, uint64_t offset, const Bytes& fragment) {
  const Bytes* param = f.bytes(kPinUvAuthParam, false);
  auto version = f.integer(kPinUvAuthProtocol, false);
  if (!f.ok()) return f.error();
  if (!s.protected_by_uv() && !s.always_uv()) return Status::Ok;
  if (!param) return Status::PuatRequired;
  if (!version) return Status::MissingParameter;
  if (!pin_protocol(*version)) return Status::InvalidParameter;
  Bytes message(32, 0xff);
  message.push_back(command::kLargeBlobs);
  message.push_back(0x00);
  const auto off = static_cast<uint32_t>(offset);
  for (int i = 0; i < 4; ++i) message.push_back(static_cast<uint8_t>(off >> (8 * i)));
  append(message, crypto::sha256(fragment));
  if (Status st = verify_pin_uv_auth_param(s, *version, *param, message); st != Status::Ok) return st;
  return require_permission(s, permission::kLargeBlobWrite, nullptr);
}

Response set(Session& s, Fields& f, const Bytes& fragment, uint64_t offset, std::optional<int64_t> length) {
  if (fragment.size() > max_fragment_length(s)) return error(Status::InvalidLength);
  LargeBlobWrite& w = s.large_blob_write;
  if (offset == 0) {
    if (!length) return error(Status::InvalidParameter);
    if (*length < 0) return error(Status::InvalidParameter);
    if (static_cast<uint64_t>(*length) > s.profile.max_serialized_large_blob_array) {
      return error(Status::LargeBlobStorageFull);
    }
    if (static_cast<uint64_t>(*length) < kMinimumArrayLength) return error(Status::InvalidParameter);
  } else if (length) {
    return error(Status::InvalidParameter);
  }
  const uint64_t expected_next = offset == 0 ? 0 : (w.active ? w.expected_next_offset : UINT64_MAX);
  if (offset != expected_next) return error(Status::InvalidSeq);
  if (Status st = authorize_fragment(s, f, offset, fragment); st != Status::Ok) return error(st);
  const uint64_t expected_length = offset == 0 ? static_cast<uint64_t>(*length) : w.expected_length;
  if (offset + fragment.size() > expected_length) return error(Status::InvalidParameter);

  if (offset == 0) {
    w = LargeBlobWrite{true, {}, static_cast<size_t>(expected_length), 0};
    w.buffer.reserve(w.expected_length);
  }
  append(w.buffer, fragment);
  w.expected_next_offset = w.buffer.size();
  if (w.expected_next_offset < w.expected_length) return Response{};

  Bytes array = std::move(w.buffer);
  w = LargeBlobWrite{};
  if (!large_blob_array_intact(array)) return error(Status::IntegrityFailure);
  s.store.commit(store::Mutation{store::change::SetLargeBlobArray{std::move(array)}});
  return Response{};
}

}  // namespace

Bytes initial_large_blob_array() {
  const Bytes empty_array{0x80};
  return serialized_large_blob_array(empty_array);
}

Bytes serialized_large_blob_array(ByteView cbor_array) {
  Bytes array(cbor_array.begin(), cbor_array.end());
  append(array, truncated_hash(cbor_array));
  return array;
}

ByteView large_blob_array_body(ByteView array) {
  return large_blob_array_intact(array) ? array.first(array.size() - kTruncatedHashLength) : ByteView{};
}

bool large_blob_array_intact(ByteView array) {
  if (array.size() < kMinimumArrayLength) return false;
  const size_t body = array.size() - kTruncatedHashLength;
  return crypto::equal_ct(truncated_hash(array.first(body)), array.subspan(body));
}

Response large_blobs(Session& s, const cbor::Value::Map& params) {
  Fields f(params);
  const cbor::Value* get_value = f.any(kGet);
  const Bytes* fragment = f.bytes(kSet, false);
  auto offset = f.integer(kOffset, false);
  auto length = f.integer(kLength, false);
  if (get_value && !get_value->is_unsigned()) return error(Status::CborUnexpectedType);
  if (!f.ok()) return error(f.error());
  if (!offset || *offset < 0) return error(Status::InvalidParameter);
  if ((get_value != nullptr) == (fragment != nullptr)) return error(Status::InvalidParameter);
  if (get_value) {
    if (length) return error(Status::InvalidParameter);
    return get(s, get_value->as_unsigned(), static_cast<uint64_t>(*offset));
  }
  return set(s, f, *fragment, static_cast<uint64_t>(*offset), length);
}

}  // namespace vauth::ctap
