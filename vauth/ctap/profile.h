// What kind of key this authenticator pretends to be. Quirks and limits are
// data here, not forks in the command code (personas build on this; issue #6).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vauth/base/clock.h"
#include "vauth/crypto/keys.h"

namespace vauth::ctap {

enum class AttestationMode {
  Batch,  // "packed" with the batch certificate chained to vauth's attestation CA
  Self,   // "packed" self attestation (signed by the credential key, no x5c)
  None,   // "none"
};

// Behaviours of real keys that relying parties and clients must survive
// (after Chromium's VirtualCtap2Device::Config), each off by default. Each is
// one guard in the command code calling vauth/ctap/quirks.h; docs/faults.md
// lists what a client sees.
struct Quirks {
  bool invalid_credential_before_touch = false;  // getAssertion: no allowList match → INVALID_CREDENTIAL at once
  bool reject_large_lists = false;               // allow/exclude lists longer than one → LIMIT_EXCEEDED
  bool reject_silent = false;                    // getAssertion up=false → UNSUPPORTED_OPTION
  bool omit_user_entity = false;                 // assertions never carry the user entity
  bool omit_single_credential = false;           // an allowList of one: assertion without the credential (key 1)
  bool reject_empty_display_name = false;        // makeCredential without user.displayName → MISSING_PARAMETER
  bool u2f_invisible_to_ctap2 = false;           // U2F key handles are unknown to CTAP2 commands
  size_t truncate_user_name = 0;                 // store user name/displayName cut to N bytes (0: off), UTF-8 or not
  bool reject_extensions = false;           // makeCredential/getAssertion with any extension → UNSUPPORTED_EXTENSION
  bool attested_data_in_assertion = false;  // getAssertion authData carries attested credential data (AT set)
  bool always_ep_att = false;               // makeCredential always claims enterprise attestation (epAtt true)
  bool never_include_credential = false;    // assertions never carry the credential, whatever the allowList
};

struct Profile {
  // A fixed AAGUID that identifies vauth (a random UUIDv4 chosen once for the project).
  std::array<uint8_t, 16> aaguid{0x5b, 0x7c, 0x1d, 0x2e, 0x8a, 0x3f, 0x4c, 0x61,
                                 0x9e, 0x07, 0x2f, 0x4b, 0x8d, 0x6a, 0x1c, 0x35};
  // In order of preference when a request offers several.
  std::vector<crypto::Algorithm> algorithms{crypto::Algorithm::ES256, crypto::Algorithm::EdDSA,
                                            crypto::Algorithm::ES384, crypto::Algorithm::RS256};
  AttestationMode attestation = AttestationMode::Batch;
  bool u2f = true;                       // CTAP1/U2F over CTAPHID_MSG
  bool resident_keys = true;
  size_t max_resident_credentials = 100'000;
  size_t max_message_size = 7609;        // getInfo maxMsgSize (the CTAPHID maximum)
  size_t max_credential_count_in_list = 32;
  size_t max_credential_id_length = 128;
  // getInfo makeCredUvNotRqd: a PIN-protected key still makes non-discoverable
  // credentials without user verification (what clients expect of 2.1 keys).
  bool make_cred_uv_not_required = true;
  size_t min_pin_length = 4;             // in Unicode code points (CTAP 2.0 minimum: 4)
  uint8_t max_pin_retries = 8;
  // authenticatorReset only within this long after power-up (real keys: 10 s);
  // zero allows it at any time, which is what CI usually wants.
  Duration reset_window{0};
  // How long authenticatorGetNextAssertion may follow getAssertion (CTAP: 30 s).
  Duration next_assertion_window{30'000};
  // pinUvAuthToken lifetime (CTAP 2.1 §6.5.2.1): unused tokens expire after the
  // initial usage limit, every token after the maximum usage period.
  Duration token_initial_usage_limit{30'000};
  Duration token_max_usage{600'000};
  // When nothing matches an allow list, real keys first wait for a touch and
  // then say NO_CREDENTIALS (no silent probing). True answers at once.
  bool no_credentials_immediately = false;
  // credBlob (CTAP 2.1 §12.2): the longest blob stored with a discoverable
  // credential (getInfo maxCredBlobLength; the spec's minimum is 32).
  size_t max_cred_blob_length = 32;
  // authenticatorLargeBlobs (CTAP 2.1 §6.10): the largest serialized large-blob
  // array (getInfo maxSerializedLargeBlobArray, at least 1024); 0 turns the
  // command and the largeBlobKey extension off.
  size_t max_serialized_large_blob_array = 4096;

  // Built-in user verification: a simulated fingerprint sensor (user_verifier.h)
  // with bio enrollment. Capable is not configured: getInfo says "uv": true only
  // once a finger is enrolled. Off: no "uv", "bioEnroll" or uvModality at all.
  bool built_in_uv = true;
  uint8_t max_uv_retries = 8;                 // uvRetries after a match or a correct PIN
  uint8_t preferred_platform_uv_attempts = 3;  // getInfo preferredPlatformUVAttempts
  uint8_t bio_samples_required = 4;           // enrollCaptureNextSample readings per finger
  size_t max_fingerprints = 5;                // then FP_DATABASE_FULL
  size_t max_template_friendly_name = 64;     // bytes of UTF-8
  // authenticatorConfig (getInfo "authnrCfg", "setMinPINLength", "alwaysUv").
  bool authenticator_config = true;
  size_t max_rp_ids_for_set_min_pin_length = 8;
  // Enterprise attestation (getInfo "ep", present only when supported; enabled
  // through authenticatorConfig). Vendor-facilitated (enterpriseAttestation 1)
  // is given only to these RP IDs; platform-managed (2) to any RP.
  bool enterprise_attestation = true;
  std::vector<std::string> enterprise_attestation_rp_ids;
  // CTAP 2.2 persistentPinUvAuthToken: the pcmr permission (read-only credential
  // management with a token that outlives power cycles; getInfo "perCredMgmtRO").
  bool persistent_cred_mgmt_ro = true;
  // CTAP 2.2 PIN complexity policy: enforced from the start (otherwise only once
  // setMinPINLength turns it on), and the URL getInfo gives for it (empty: none).
  bool pin_complexity_policy = false;
  std::string pin_complexity_policy_url;

  // ---- Persona switches (issue #6; set by vauth/daemon/personas/*.toml) ----
  // What the key advertises and serves beyond the fields above. The defaults
  // mean "everything vauth implements"; a persona narrows them. Command code
  // consults them: authenticator.cpp (ctap2, commands), client_pin.cpp and
  // pin_token.cpp (pin_protocols, pin_uv_auth_token), make_credential.cpp
  // (extension_enabled); get_info_profile.cpp reshapes getInfo to match.
  bool ctap2 = true;  // CTAPHID_CBOR served; false: a U2F-only key (INIT without CAP_CBOR)
  // CTAP2 command bytes served (others: CTAP1_ERR_INVALID_COMMAND); nullopt: all.
  std::optional<std::vector<uint8_t>> commands;
  std::vector<int64_t> pin_protocols{2, 1};  // served and advertised, most preferred first
  // CTAP 2.1 pinUvAuthTokens with permissions (clientPIN 0x06/0x09, getInfo pinUvAuthToken).
  bool pin_uv_auth_token = true;
  std::optional<std::vector<std::string>> versions;    // getInfo versions; nullopt: what vauth implements
  std::optional<std::vector<std::string>> extensions;  // advertised and honoured; nullopt: all implemented
  std::vector<std::string> transports{"usb"};          // getInfo transports
  std::optional<uint64_t> firmware_version = 0x00010000;  // getInfo firmwareVersion (0x0E); nullopt: omitted

  bool command_enabled(uint8_t command) const {
    return !commands || std::find(commands->begin(), commands->end(), command) != commands->end();
  }
  bool extension_enabled(std::string_view name) const {
    return !extensions || std::find(extensions->begin(), extensions->end(), name) != extensions->end();
  }
  bool pin_protocol_enabled(int64_t version) const {
    return std::find(pin_protocols.begin(), pin_protocols.end(), version) != pin_protocols.end();
  }
  // ---- end of persona switches ----

  Quirks quirks;
};

}  // namespace vauth::ctap
