#include "vauth/ctap/fields.h"

namespace vauth::ctap {

const cbor::Value* Fields::lookup(const cbor::Value& key, bool required) {
  auto it = map_.find(key);
  if (it == map_.end()) {
    if (required) fail(Status::MissingParameter);
    return nullptr;
  }
  return &it->second;
}

const cbor::Value* Fields::any(const cbor::Value& key) const {
  auto it = map_.find(key);
  return it == map_.end() ? nullptr : &it->second;
}

const Bytes* Fields::bytes(const cbor::Value& key, bool required) {
  const cbor::Value* v = lookup(key, required);
  if (!v) return nullptr;
  if (!v->is_bytes()) {
    fail(Status::CborUnexpectedType);
    return nullptr;
  }
  return &v->as_bytes();
}

const std::string* Fields::text(const cbor::Value& key, bool required) {
  const cbor::Value* v = lookup(key, required);
  if (!v) return nullptr;
  if (!v->is_text()) {
    fail(Status::CborUnexpectedType);
    return nullptr;
  }
  return &v->as_text();
}

const cbor::Value::Map* Fields::map(const cbor::Value& key, bool required) {
  const cbor::Value* v = lookup(key, required);
  if (!v) return nullptr;
  if (!v->is_map()) {
    fail(Status::CborUnexpectedType);
    return nullptr;
  }
  return &v->as_map();
}

const cbor::Value::Array* Fields::array(const cbor::Value& key, bool required) {
  const cbor::Value* v = lookup(key, required);
  if (!v) return nullptr;
  if (!v->is_array()) {
    fail(Status::CborUnexpectedType);
    return nullptr;
  }
  return &v->as_array();
}

std::optional<int64_t> Fields::integer(const cbor::Value& key, bool required) {
  const cbor::Value* v = lookup(key, required);
  if (!v) return std::nullopt;
  if (!v->is_integer()) {
    fail(Status::CborUnexpectedType);
    return std::nullopt;
  }
  if (!v->fits_int64()) {
    fail(Status::InvalidParameter);
    return std::nullopt;
  }
  return v->as_int();
}

std::optional<bool> Fields::boolean(const cbor::Value& key, bool required) {
  const cbor::Value* v = lookup(key, required);
  if (!v) return std::nullopt;
  if (!v->is_bool()) {
    fail(Status::CborUnexpectedType);
    return std::nullopt;
  }
  return v->as_bool();
}

Status parse_descriptor_list(const cbor::Value::Array& list, std::vector<CredentialDescriptor>& out) {
  out.clear();
  out.reserve(list.size());
  for (const cbor::Value& entry : list) {
    if (!entry.is_map()) return Status::CborUnexpectedType;
    Fields f(entry.as_map());
    const std::string* type = f.text("type", true);
    const Bytes* id = f.bytes("id", true);
    f.array("transports", false);
    if (!f.ok()) return f.error();
    out.push_back({*type, *id});
  }
  return Status::Ok;
}

Status parse_options(const cbor::Value::Map* options, Options& out) {
  if (!options) return Status::Ok;
  for (const auto& [key, value] : *options) {
    if (!key.is_text()) return Status::CborUnexpectedType;
    if (!value.is_bool()) return Status::CborUnexpectedType;
    const std::string& name = key.as_text();
    if (name == "rk") out.rk = value.as_bool();
    else if (name == "up") out.up = value.as_bool();
    else if (name == "uv") out.uv = value.as_bool();
    // Options this authenticator does not know are ignored (CTAP 2.1 §6.1.2).
  }
  return Status::Ok;
}

}  // namespace vauth::ctap
