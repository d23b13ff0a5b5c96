// base64url without padding (RFC 4648 §5): how WebAuthn and the W3C Automation
// API spell credential IDs and user handles, so the control API does too.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "vauth/base/bytes.h"

namespace vauth::daemon {

std::string base64url_encode(ByteView data);
// Accepts unpadded or padded input; nullopt for any other character or a bad length.
std::optional<Bytes> base64url_decode(std::string_view text);

}  // namespace vauth::daemon
