// The platform's side of the requests the benchmark and the soak test send:
// CTAP2 commands built with vauth::cbor, PIN protocol 1 with vauth::crypto,
// and U2F APDUs (FIDO U2F Raw Message Formats). Replies are checked enough to
// count an error (status, and the fields a client would use next).
#pragma once

#include <optional>
#include <string>

#include "vauth/base/bytes.h"
#include "vauth/cbor/value.h"
#include "vauth/crypto/keys.h"
#include "vauth/crypto/rng.h"

namespace vauth::bench {

constexpr uint8_t kMakeCredential = 0x01, kGetAssertion = 0x02, kGetInfo = 0x04, kClientPin = 0x06;

Bytes ctap_request(uint8_t command, const cbor::Value::Map& params);
Bytes make_credential_request(const std::string& rp_id, ByteView user_id, crypto::Algorithm alg, bool resident,
                              ByteView client_data_hash);
// An allow list with one ID when `allow` is set; a discoverable request otherwise.
Bytes get_assertion_request(const std::string& rp_id, ByteView client_data_hash, const Bytes* allow);

// The reply's status byte (0 = CTAP2_OK); 0xff for an empty reply.
inline uint8_t ctap_status(ByteView reply) { return reply.empty() ? 0xff : reply[0]; }
// makeCredential: the credential ID inside the attested credential data.
std::optional<Bytes> credential_id_of(ByteView make_credential_reply);
// getAssertion: true if the reply is OK and carries authData and a signature.
bool is_assertion(ByteView reply);

// PIN protocol 1, platform side (CTAP 2.0 §5.5.4, §5.5.7).
class PinClient {
 public:
  explicit PinClient(crypto::Rng& rng) : key_(crypto::PrivateKey::generate(crypto::Algorithm::ES256, rng)) {}
  Bytes key_agreement_request() const;
  // Derives the shared secret from a getKeyAgreement reply; false if it does not parse.
  bool accept_key_agreement(ByteView reply);
  Bytes pin_token_request(const std::string& pin) const;
  // setPIN (subcommand 3) for a key without a PIN.
  Bytes set_pin_request(const std::string& pin) const;
  // The decrypted pinToken from a getPinToken reply.
  std::optional<Bytes> pin_token(ByteView reply) const;

 private:
  cbor::Value::Map platform_key() const;

  crypto::PrivateKey key_;
  Bytes shared_;
};

// U2F: register (INS 0x01) and authenticate with "enforce user presence and sign" (INS 0x02, P1 0x03),
// extended-length APDUs.
Bytes u2f_register_apdu(ByteView challenge, ByteView application);
Bytes u2f_authenticate_apdu(ByteView challenge, ByteView application, ByteView key_handle);
// The key handle of a registration response (0x05 | point(65) | L | handle | cert | sig | 90 00).
std::optional<Bytes> u2f_key_handle(ByteView register_reply);
inline bool u2f_ok(ByteView reply) {
  return reply.size() >= 2 && reply[reply.size() - 2] == 0x90 && reply[reply.size() - 1] == 0x00;
}

}  // namespace vauth::bench
