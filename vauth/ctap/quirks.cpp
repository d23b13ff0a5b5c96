#include "vauth/ctap/quirks.h"

#include <array>
#include <charconv>

namespace vauth::ctap {
namespace {

struct BoolQuirk {
  const char* name;
  bool Quirks::*field;
};
constexpr std::array kBoolQuirks = {
    BoolQuirk{"invalid-credential-before-touch", &Quirks::invalid_credential_before_touch},
    BoolQuirk{"reject-large-lists", &Quirks::reject_large_lists},
    BoolQuirk{"reject-silent", &Quirks::reject_silent},
    BoolQuirk{"omit-user-entity", &Quirks::omit_user_entity},
    BoolQuirk{"omit-single-credential", &Quirks::omit_single_credential},
    BoolQuirk{"reject-empty-display-name", &Quirks::reject_empty_display_name},
    BoolQuirk{"u2f-invisible-to-ctap2", &Quirks::u2f_invisible_to_ctap2},
    BoolQuirk{"reject-extensions", &Quirks::reject_extensions},
    BoolQuirk{"attested-data-in-assertion", &Quirks::attested_data_in_assertion},
    BoolQuirk{"always-ep-att", &Quirks::always_ep_att},
    BoolQuirk{"never-include-credential", &Quirks::never_include_credential},
};
constexpr size_t kDefaultUserNameLimit = 64;

std::optional<bool> parse_bool(std::string_view v) {
  if (v == "true" || v == "1" || v == "on" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "off" || v == "no") return false;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> apply_quirk(Profile& profile, std::string_view text) {
  const size_t eq = text.find('=');
  const std::string_view name = text.substr(0, eq);
  const std::optional<std::string_view> value =
      eq == std::string_view::npos ? std::nullopt : std::optional<std::string_view>(text.substr(eq + 1));
  auto flag = [&](bool& field) -> std::optional<std::string> {
    auto b = value ? parse_bool(*value) : std::optional<bool>(true);
    if (!b) return "quirk " + std::string(name) + " wants true or false";
    field = *b;
    return std::nullopt;
  };
  for (const BoolQuirk& q : kBoolQuirks) {
    if (name == q.name) return flag(profile.quirks.*q.field);
  }
  if (name == "no-credentials-immediately") return flag(profile.no_credentials_immediately);
  if (name == "truncate-user-name") {
    size_t n = kDefaultUserNameLimit;
    if (value) {
      const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
      if (ec != std::errc() || end != value->data() + value->size() || n > 1024) {
        return std::string("quirk truncate-user-name wants a byte count from 0 to 1024");
      }
    }
    profile.quirks.truncate_user_name = n;
    return std::nullopt;
  }
  return "unknown quirk \"" + std::string(name) + "\"";
}

std::vector<std::string> quirk_names() {
  std::vector<std::string> out;
  for (const BoolQuirk& q : kBoolQuirks) out.push_back(q.name);
  out.push_back("no-credentials-immediately");
  out.push_back("truncate-user-name[=N]");
  return out;
}

Status quirk_check_list(const Quirks& q, const std::vector<CredentialDescriptor>& list) {
  return q.reject_large_lists && list.size() > 1 ? Status::LimitExceeded : Status::Ok;
}

Status quirk_check_silent(const Quirks& q, bool user_presence) {
  return q.reject_silent && !user_presence ? Status::UnsupportedOption : Status::Ok;
}

Status quirk_check_no_match(const Quirks& q, bool has_allow_list, bool found) {
  return q.invalid_credential_before_touch && has_allow_list && !found ? Status::InvalidCredential : Status::Ok;
}

Status quirk_check_display_name(const Quirks& q, const std::string& display_name) {
  return q.reject_empty_display_name && display_name.empty() ? Status::MissingParameter : Status::Ok;
}

Status quirk_check_extensions(const Quirks& q, const cbor::Value::Map* extensions) {
  return q.reject_extensions && extensions && !extensions->empty() ? Status::UnsupportedExtension : Status::Ok;
}

bool quirk_hides_credential(const Quirks& q, const CredentialSecret& secret) {
  return q.u2f_invisible_to_ctap2 && (secret.flags & credential_flag::kU2f);
}

void quirk_truncate_user_name(const Quirks& q, std::string& name) {
  // Deliberately byte-wise: a multi-byte UTF-8 character may be cut in half, as some keys do.
  if (q.truncate_user_name != 0 && name.size() > q.truncate_user_name) name.resize(q.truncate_user_name);
}

void quirk_trim_assertion(const Quirks& q, size_t allow_list_size, cbor::Value::Map& response) {
  if (q.omit_user_entity) response.erase(cbor::Value(4));
  // CTAP 2.1 §6.2.2 lets a key omit the credential when the allowList had exactly one entry.
  if (q.omit_single_credential && allow_list_size == 1) response.erase(cbor::Value(1));
  // Invalid unless the allowList had exactly one entry: the client cannot tell which credential signed.
  if (q.never_include_credential) response.erase(cbor::Value(1));
}

}  // namespace vauth::ctap
