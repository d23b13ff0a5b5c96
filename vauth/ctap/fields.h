// Typed access to the fields of a CTAP2 request map, with the errors the spec
// names: a missing required member is CTAP2_ERR_MISSING_PARAMETER, a member of
// the wrong CBOR type is CTAP2_ERR_CBOR_UNEXPECTED_TYPE.
#pragma once

#include <optional>
#include <string>

#include "vauth/cbor/value.h"
#include "vauth/ctap/status.h"

namespace vauth::ctap {

class Fields {
 public:
  explicit Fields(const cbor::Value::Map& map) : map_(map) {}

  // Each getter returns the field (or nullptr when absent and optional) and
  // records the first error; check error() once after reading every field.
  const Bytes* bytes(const cbor::Value& key, bool required);
  const std::string* text(const cbor::Value& key, bool required);
  const cbor::Value::Map* map(const cbor::Value& key, bool required);
  const cbor::Value::Array* array(const cbor::Value& key, bool required);
  std::optional<int64_t> integer(const cbor::Value& key, bool required);
  std::optional<bool> boolean(const cbor::Value& key, bool required);
  const cbor::Value* any(const cbor::Value& key) const;

  Status error() const { return error_; }
  bool ok() const { return error_ == Status::Ok; }

 private:
  const cbor::Value* lookup(const cbor::Value& key, bool required);
  void fail(Status s) {
    if (error_ == Status::Ok) error_ = s;
  }
  const cbor::Value::Map& map_;
  Status error_ = Status::Ok;
};

// PublicKeyCredentialDescriptor {"type": text, "id": bytes, "transports"?: [text]}.
struct CredentialDescriptor {
  std::string type;
  Bytes id;
};
// Parses an allowList/excludeList; descriptors of other types are kept (callers
// skip them) but malformed entries are errors.
Status parse_descriptor_list(const cbor::Value::Array& list, std::vector<CredentialDescriptor>& out);

// The "options" map: text keys with boolean values.
struct Options {
  std::optional<bool> rk, up, uv;
};
Status parse_options(const cbor::Value::Map* options, Options& out);

}  // namespace vauth::ctap
