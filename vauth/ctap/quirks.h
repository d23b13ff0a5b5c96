// The quirks of Profile::quirks, as the small decisions the command code asks
// about. Each returns "carry on" (Status::Ok / false) unless its quirk is on,
// so a guard in make_credential.cpp or get_assertion.cpp is one line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vauth/cbor/value.h"
#include "vauth/ctap/credential_id.h"
#include "vauth/ctap/fields.h"
#include "vauth/ctap/profile.h"
#include "vauth/ctap/status.h"

namespace vauth::ctap {

// `--quirk NAME[=VALUE]`: turns one quirk on in `profile` (docs/faults.md has
// the names). Returns an error message for an unknown name or a bad value.
std::optional<std::string> apply_quirk(Profile& profile, std::string_view text);
// Every quirk name apply_quirk() knows, for help texts.
std::vector<std::string> quirk_names();

// reject_large_lists: an allowList / excludeList with more than one entry.
Status quirk_check_list(const Quirks& q, const std::vector<CredentialDescriptor>& list);
// reject_silent: getAssertion with up=false.
Status quirk_check_silent(const Quirks& q, bool user_presence);
// invalid_credential_before_touch: getAssertion whose allowList matched nothing.
Status quirk_check_no_match(const Quirks& q, bool has_allow_list, bool found);
// reject_empty_display_name: makeCredential's user entity without a displayName.
Status quirk_check_display_name(const Quirks& q, const std::string& display_name);
// reject_extensions: a makeCredential / getAssertion request carrying any extension.
Status quirk_check_extensions(const Quirks& q, const cbor::Value::Map* extensions);
// u2f_invisible_to_ctap2: a U2F key handle offered to a CTAP2 command.
bool quirk_hides_credential(const Quirks& q, const CredentialSecret& secret);
// truncate_user_name: the stored copy of a user name, cut at a byte count.
void quirk_truncate_user_name(const Quirks& q, std::string& name);
// omit_user_entity / omit_single_credential / never_include_credential: trims an assertion response map.
void quirk_trim_assertion(const Quirks& q, size_t allow_list_size, cbor::Value::Map& response);

}  // namespace vauth::ctap
