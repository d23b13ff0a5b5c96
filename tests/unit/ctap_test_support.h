// Test harness for the authenticator (vauth/ctap): a MemoryStore, a seeded RNG,
// a manual clock with its timer queue and a ControlledPresence around one
// Authenticator, plus helpers that play the platform's side — building CTAP2
// requests, decoding replies, parsing authenticator data and running PIN
// protocol 1 from the client end with vauth::crypto primitives only.
//
// The helpers are written from the specifications (CTAP 2.0/2.1, WebAuthn,
// FIDO U2F raw message formats), not from the authenticator's own code, so a
// bug in an encoder there cannot be mirrored by the decoder here.
#pragma once

#include <doctest/doctest.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"
#include "vauth/base/bytes.h"
#include "vauth/base/clock.h"
#include "vauth/base/timer_queue.h"
#include "vauth/cbor/codec.h"
#include "vauth/cbor/value.h"
#include "vauth/crypto/keys.h"
#include "vauth/crypto/primitives.h"
#include "vauth/crypto/rng.h"
#include "vauth/crypto/x509.h"
#include "vauth/ctap/authenticator.h"
#include "vauth/ctap/presence.h"
#include "vauth/ctap/profile.h"
#include "vauth/ctap/status.h"
#include "vauth/ctap/user_verifier.h"

namespace doctest {
template <>
struct StringMaker<vauth::ctap::Status> {
  static String convert(vauth::ctap::Status s) {
    static const char* hex = "0123456789abcdef";
    const auto v = static_cast<uint8_t>(s);
    std::string out = vauth::ctap::to_string(s);
    out += " (0x";
    out += hex[v >> 4];
    out += hex[v & 0xf];
    out += ")";
    return String(out.c_str());
  }
};
}  // namespace doctest

namespace vauth::ctaptest {

using ctap::Status;
using Map = cbor::Value::Map;
using Array = cbor::Value::Array;
using namespace std::chrono_literals;

// CTAP2 command bytes, spelled out here (CTAP 2.0 §5 / 2.1 §6).
constexpr uint8_t kMakeCredential = 0x01, kGetAssertion = 0x02, kGetInfo = 0x04, kClientPin = 0x06,
                  kReset = 0x07, kGetNextAssertion = 0x08, kSelection = 0x0b;

// Authenticator-data flag bits (WebAuthn §6.1).
constexpr uint8_t kFlagUP = 0x01, kFlagUV = 0x04, kFlagAT = 0x40, kFlagED = 0x80;

// ---------------------------------------------------------------------------
// Replies

struct Response {
  bool replied = false;        // the Reply callback ran
  Bytes raw;                   // the whole reply: status byte || CBOR
  Status status = Status::Other;
  std::optional<cbor::Value> body;
  bool body_decoded = true;    // false if the bytes after the status did not decode

  bool ok() const { return replied && status == Status::Ok; }
  // body[key], or nullptr.
  const cbor::Value* get(const cbor::Value& key) const { return body ? body->find(key) : nullptr; }
};

inline Response parse_reply(const Bytes& raw) {
  Response r;
  r.replied = true;
  r.raw = raw;
  if (raw.empty()) {
    r.body_decoded = false;
    return r;
  }
  r.status = static_cast<Status>(raw[0]);
  if (raw.size() > 1) {
    auto decoded = cbor::decode(ByteView(raw).subspan(1));
    if (decoded) {
      r.body = std::move(*decoded);
    } else {
      r.body_decoded = false;
    }
  }
  return r;
}

// A request that may be answered later (presence in Wait mode).
struct Pending {
  std::shared_ptr<std::optional<Bytes>> slot = std::make_shared<std::optional<Bytes>>();
  std::shared_ptr<int> calls = std::make_shared<int>(0);
  bool done() const { return slot->has_value(); }
  int reply_count() const { return *calls; }
  Response get() const { return done() ? parse_reply(**slot) : Response{}; }
  ctap::MessageHandler::Reply reply() const {
    return [slot = slot, calls = calls](Bytes b) {
      ++*calls;
      *slot = std::move(b);
    };
  }
};

// ---------------------------------------------------------------------------
// The authenticator under test

struct Harness {
  explicit Harness(ctap::Profile profile = {}, uint64_t seed = 1,
                   ctap::ControlledPresence::Mode mode = ctap::ControlledPresence::Mode::Approve)
      : rng(seed), presence(timers, mode), uv(timers) {
    auth = std::make_unique<ctap::Authenticator>(
        ctap::Environment{store, rng, timers, presence, std::move(profile), &uv});
  }

  // Raw request bytes in, whatever came back (synchronously) out.
  Pending start_raw(const Bytes& request) {
    Pending p;
    auth->handle_cbor(request, p.reply());
    return p;
  }
  Pending start(uint8_t cmd, const Map& params) {
    Bytes req{cmd};
    append(req, cbor::encode(cbor::Value(params)));
    return start_raw(req);
  }
  Pending start(uint8_t cmd) { return start_raw(Bytes{cmd}); }

  Response call_raw(const Bytes& request) { return start_raw(request).get(); }
  Response call(uint8_t cmd, const Map& params) { return start(cmd, params).get(); }
  // Commands without parameters (getInfo, reset, getNextAssertion, selection).
  Response call(uint8_t cmd) { return start(cmd).get(); }

  // CTAPHID_MSG: the APDU reply, or empty if none came synchronously.
  Bytes msg(const Bytes& apdu) {
    Pending p;
    auth->handle_msg(apdu, p.reply());
    return p.done() ? **p.slot : Bytes{};
  }

  // Moves virtual time and runs whatever fell due.
  void advance(Duration d) {
    clock.advance(d);
    timers.run_due();
  }

  const store::State& state() const { return store.state(); }

  ManualClock clock;
  TimerQueue timers{clock};
  store::MemoryStore store;
  crypto::SeededRng rng;
  ctap::ControlledPresence presence;
  ctap::ControlledUserVerifier uv;  // the fingerprint sensor (Match unless a test says otherwise)
  std::unique_ptr<ctap::Authenticator> auth;
};

// ---------------------------------------------------------------------------
// Request builders

inline Bytes cdh(uint8_t fill = 0x11) { return Bytes(32, fill); }

inline Map descriptor(const Bytes& id, std::string type = "public-key") {
  return Map{{"id", id}, {"type", std::move(type)}};
}

struct MakeCredentialRequest {
  Bytes client_data_hash = cdh();
  std::string rp_id = "example.com";
  std::string rp_name = "Example";
  Bytes user_id = {0x01, 0x02, 0x03, 0x04};
  std::string user_name = "alice@example.com";
  std::string user_display_name = "Alice";
  std::vector<int> algorithms = {-7};
  std::optional<Array> exclude_list;
  std::optional<Map> extensions;
  std::optional<Map> options;
  std::optional<Bytes> pin_auth;
  std::optional<int> pin_protocol;

  MakeCredentialRequest& rk(bool v = true) {
    if (!options) options = Map{};
    (*options)["rk"] = v;
    return *this;
  }

  Map build() const {
    Array params;
    for (int a : algorithms) params.emplace_back(Map{{"alg", a}, {"type", "public-key"}});
    Map user{{"id", user_id}};
    if (!user_name.empty()) user["name"] = user_name;
    if (!user_display_name.empty()) user["displayName"] = user_display_name;
    Map m;
    m[1] = client_data_hash;
    m[2] = Map{{"id", rp_id}, {"name", rp_name}};
    m[3] = std::move(user);
    m[4] = std::move(params);
    if (exclude_list) m[5] = *exclude_list;
    if (extensions) m[6] = *extensions;
    if (options) m[7] = *options;
    if (pin_auth) m[8] = *pin_auth;
    if (pin_protocol) m[9] = *pin_protocol;
    return m;
  }
};

struct GetAssertionRequest {
  std::string rp_id = "example.com";
  Bytes client_data_hash = cdh(0x22);
  std::optional<Array> allow_list;
  std::optional<Map> options;
  std::optional<Bytes> pin_auth;
  std::optional<int> pin_protocol;

  GetAssertionRequest& allow(const Bytes& id) {
    if (!allow_list) allow_list = Array{};
    allow_list->emplace_back(descriptor(id));
    return *this;
  }
  GetAssertionRequest& option(const char* name, bool v) {
    if (!options) options = Map{};
    (*options)[name] = v;
    return *this;
  }

  Map build() const {
    Map m;
    m[1] = rp_id;
    m[2] = client_data_hash;
    if (allow_list) m[3] = *allow_list;
    if (options) m[5] = *options;
    if (pin_auth) m[6] = *pin_auth;
    if (pin_protocol) m[7] = *pin_protocol;
    return m;
  }
};

// ---------------------------------------------------------------------------
// Authenticator data (WebAuthn §6.1) and COSE keys, parsed independently.

inline std::optional<crypto::PublicKey> public_key_from_cose(const cbor::Value& cose) {
  if (!cose.is_map()) return std::nullopt;
  const cbor::Value* kty = cose.find(1);
  const cbor::Value* alg = cose.find(3);
  const cbor::Value* crv = cose.find(-1);
  const cbor::Value* x = cose.find(-2);
  if (!kty || !alg || !crv || !x || !kty->is_integer() || !alg->is_integer() || !crv->is_integer() ||
      !x->is_bytes()) {
    return std::nullopt;
  }
  if (kty->as_int() == 2 && alg->as_int() == -7 && crv->as_int() == 1) {
    const cbor::Value* y = cose.find(-3);
    if (!y || !y->is_bytes()) return std::nullopt;
    return crypto::PublicKey::p256(x->as_bytes(), y->as_bytes());
  }
  if (kty->as_int() == 1 && alg->as_int() == -8 && crv->as_int() == 6) {
    return crypto::PublicKey::ed25519(x->as_bytes());
  }
  return std::nullopt;
}

struct AuthData {
  Bytes rp_id_hash;
  uint8_t flags = 0;
  uint32_t sign_count = 0;
  // Attested credential data (present when AT is set).
  Bytes aaguid;
  Bytes credential_id;
  std::optional<cbor::Value> cose_key;
  std::optional<crypto::PublicKey> public_key;
  std::optional<cbor::Value> extensions;  // present when ED is set

  bool up() const { return flags & kFlagUP; }
  bool uv() const { return flags & kFlagUV; }
  bool at() const { return flags & kFlagAT; }
};

// nullopt if the bytes are not well-formed authenticator data. With ED set, the
// extensions must be one CBOR map that ends the data.
inline std::optional<AuthData> parse_auth_data(ByteView b) {
  if (b.size() < 37) return std::nullopt;
  AuthData a;
  a.rp_id_hash.assign(b.begin(), b.begin() + 32);
  a.flags = b[32];
  a.sign_count = get_u32_be(b.data() + 33);
  ByteView rest = b.subspan(37);
  const bool ed = a.flags & kFlagED;
  if (!(a.flags & kFlagAT)) {
    if (!ed) {
      if (!rest.empty()) return std::nullopt;
      return a;
    }
    auto ext = cbor::decode(rest);
    if (!ext || !ext->is_map()) return std::nullopt;
    a.extensions = std::move(*ext);
    return a;
  }
  if (rest.size() < 18) return std::nullopt;
  a.aaguid.assign(rest.begin(), rest.begin() + 16);
  const size_t len = get_u16_be(rest.data() + 16);
  rest = rest.subspan(18);
  if (rest.size() < len) return std::nullopt;
  a.credential_id.assign(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(len));
  rest = rest.subspan(len);
  if (ed) {
    // The COSE key, then the extensions map: the decoder takes exactly one item,
    // so find the one split where both halves decode.
    for (size_t k = 1; k < rest.size(); ++k) {
      auto key = cbor::decode(rest.first(k));
      if (!key) continue;
      auto ext = cbor::decode(rest.subspan(k));
      if (!ext || !ext->is_map()) return std::nullopt;
      a.extensions = std::move(*ext);
      rest = rest.first(k);
      break;
    }
    if (!a.extensions) return std::nullopt;
  }
  auto key = cbor::decode(rest);  // the COSE key must be all that is left
  if (!key) return std::nullopt;
  a.cose_key = std::move(*key);
  a.public_key = public_key_from_cose(*a.cose_key);
  return a;
}

inline Bytes rp_hash(std::string_view rp_id) { return crypto::sha256(to_bytes(rp_id)); }

// ---------------------------------------------------------------------------
// Results of makeCredential / getAssertion, unpacked.

struct Credential {
  Bytes id;
  crypto::PublicKey public_key;
  AuthData auth_data;
  Bytes raw_auth_data;
  std::string fmt;
  cbor::Value att_stmt;
};

// Unpacks a successful makeCredential reply; fails the current test otherwise.
inline std::optional<Credential> unpack_credential(const Response& r) {
  REQUIRE_MESSAGE(r.replied, "makeCredential did not reply");
  REQUIRE_MESSAGE(r.status == Status::Ok, "makeCredential failed: ", r.status);
  REQUIRE(r.body_decoded);
  REQUIRE(r.body.has_value());
  const cbor::Value* fmt = r.get(1);
  const cbor::Value* ad = r.get(2);
  const cbor::Value* st = r.get(3);
  REQUIRE(fmt);
  REQUIRE(ad);
  REQUIRE(st);
  REQUIRE(fmt->is_text());
  REQUIRE(ad->is_bytes());
  REQUIRE(st->is_map());
  auto parsed = parse_auth_data(ad->as_bytes());
  REQUIRE_MESSAGE(parsed.has_value(), "authData does not parse: ", to_hex(ad->as_bytes()));
  REQUIRE(parsed->at());
  REQUIRE(parsed->public_key.has_value());
  return Credential{parsed->credential_id, *parsed->public_key, *parsed, ad->as_bytes(), fmt->as_text(), *st};
}

inline Credential make_credential(Harness& h, const MakeCredentialRequest& req = {}) {
  return *unpack_credential(h.call(kMakeCredential, req.build()));
}

struct Assertion {
  Bytes credential_id;
  Bytes raw_auth_data;
  AuthData auth_data;
  Bytes signature;
  std::optional<Map> user;
  std::optional<uint64_t> number_of_credentials;
};

inline Assertion unpack_assertion(const Response& r) {
  REQUIRE_MESSAGE(r.replied, "getAssertion did not reply");
  REQUIRE_MESSAGE(r.status == Status::Ok, "getAssertion failed: ", r.status);
  REQUIRE(r.body_decoded);
  REQUIRE(r.body.has_value());
  Assertion a;
  const cbor::Value* cred = r.get(1);
  const cbor::Value* ad = r.get(2);
  const cbor::Value* sig = r.get(3);
  REQUIRE(cred);
  REQUIRE(ad);
  REQUIRE(sig);
  REQUIRE(cred->is_map());
  const cbor::Value* id = cred->find("id");
  const cbor::Value* type = cred->find("type");
  REQUIRE(id);
  REQUIRE(id->is_bytes());
  REQUIRE(type);
  CHECK(*type == cbor::Value("public-key"));
  a.credential_id = id->as_bytes();
  REQUIRE(ad->is_bytes());
  a.raw_auth_data = ad->as_bytes();
  auto parsed = parse_auth_data(a.raw_auth_data);
  REQUIRE_MESSAGE(parsed.has_value(), "authData does not parse: ", to_hex(a.raw_auth_data));
  a.auth_data = *parsed;
  REQUIRE(sig->is_bytes());
  a.signature = sig->as_bytes();
  if (const cbor::Value* u = r.get(4)) {
    REQUIRE(u->is_map());
    a.user = u->as_map();
  }
  if (const cbor::Value* n = r.get(5)) {
    REQUIRE(n->is_unsigned());
    a.number_of_credentials = n->as_unsigned();
  }
  return a;
}

inline bool verifies(const crypto::PublicKey& key, const Assertion& a, ByteView client_data_hash) {
  return key.verify(concat(a.raw_auth_data, client_data_hash), a.signature);
}

// ---------------------------------------------------------------------------
// X.509 helpers (OpenSSL directly, independent of vauth::crypto's issuer code).

// True if `cert_der` carries a valid signature by `issuer_der`'s key and names it as issuer.
inline bool certificate_signed_by(ByteView cert_der, ByteView issuer_der) {
  const unsigned char* p = cert_der.data();
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(cert_der.size()));
  const unsigned char* q = issuer_der.data();
  X509* issuer = d2i_X509(nullptr, &q, static_cast<long>(issuer_der.size()));
  bool ok = false;
  if (cert && issuer) {
    EVP_PKEY* key = X509_get0_pubkey(issuer);
    ok = key && X509_verify(cert, key) == 1 &&
         X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)) == 0;
  }
  X509_free(cert);
  X509_free(issuer);
  return ok;
}

// The length of the DER TLV at the start of `b` (for splitting a U2F registration response).
inline std::optional<size_t> der_length(ByteView b) {
  if (b.size() < 2 || b[0] != 0x30) return std::nullopt;
  if (b[1] < 0x80) return 2 + size_t{b[1]};
  const size_t n = b[1] & 0x7f;
  if (n == 0 || n > 3 || b.size() < 2 + n) return std::nullopt;
  size_t len = 0;
  for (size_t i = 0; i < n; ++i) len = (len << 8) | b[2 + i];
  return 2 + n + len;
}

// ---------------------------------------------------------------------------
// PIN protocol 1, platform side (CTAP 2.0 §5.5.4-5.5.8).

class PinClient {
 public:
  explicit PinClient(Harness& h, uint64_t seed = 0x5eed)
      : h_(h), rng_(seed), key_(crypto::PrivateKey::generate(crypto::Algorithm::ES256, rng_)) {}

  // getKeyAgreement, then ECDH and SHA-256 (sharedSecret = SHA-256(Z.x)).
  Response refresh() {
    Response r = h_.call(kClientPin, Map{{1, 1}, {2, 2}});
    if (!r.ok()) return r;
    const cbor::Value* ka = r.get(1);
    REQUIRE_MESSAGE(ka, "getKeyAgreement reply lacks keyAgreement (0x01)");
    REQUIRE(ka->is_map());
    const cbor::Value* x = ka->find(-2);
    const cbor::Value* y = ka->find(-3);
    REQUIRE(x);
    REQUIRE(y);
    REQUIRE(x->is_bytes());
    REQUIRE(y->is_bytes());
    auto peer = crypto::PublicKey::p256(x->as_bytes(), y->as_bytes());
    REQUIRE_MESSAGE(peer.has_value(), "authenticator key agreement point is not on P-256");
    auto z = key_.ecdh_x(*peer);
    REQUIRE(z.has_value());
    shared_ = crypto::sha256(*z);
    authenticator_key_ = ka->as_map();
    return r;
  }

  const Bytes& shared_secret() const { return shared_; }
  const Map& authenticator_key() const { return authenticator_key_; }

  Map platform_key() const {
    const auto& pub = key_.public_key();
    return Map{{1, 2}, {3, -25}, {-1, 1}, {-2, pub.x()}, {-3, pub.y()}};
  }

  Bytes encrypt(ByteView plain) const {
    auto c = crypto::aes256_cbc_encrypt(shared_, Bytes(16, 0), plain);
    REQUIRE(c.has_value());
    return *c;
  }
  std::optional<Bytes> decrypt(ByteView cipher) const { return crypto::aes256_cbc_decrypt(shared_, Bytes(16, 0), cipher); }

  static Bytes left16_hmac(ByteView key, ByteView msg) {
    Bytes mac = crypto::hmac_sha256(key, msg);
    mac.resize(16);
    return mac;
  }
  // pinAuth for makeCredential/getAssertion: LEFT(HMAC-SHA-256(pinToken, clientDataHash), 16).
  static Bytes pin_auth(ByteView token, ByteView client_data_hash) { return left16_hmac(token, client_data_hash); }

  // The PIN's UTF-8 bytes, zero padded to at least 64 bytes (a multiple of 16).
  static Bytes pad_pin(ByteView pin) {
    Bytes out(pin.begin(), pin.end());
    size_t size = std::max<size_t>(64, (out.size() + 15) / 16 * 16);
    out.resize(size, 0);
    return out;
  }
  static Bytes pin_hash16(ByteView pin) {
    Bytes h = crypto::sha256(pin);
    h.resize(16);
    return h;
  }

  // setPIN (subcommand 3) with an already padded PIN.
  Response set_pin_padded(const Bytes& padded, bool refresh_first = true) {
    if (refresh_first) REQUIRE(refresh().ok());
    const Bytes new_pin_enc = encrypt(padded);
    return h_.call(kClientPin, Map{{1, 1}, {2, 3}, {3, platform_key()}, {4, left16_hmac(shared_, new_pin_enc)},
                                   {5, new_pin_enc}});
  }
  Response set_pin(std::string_view pin, bool refresh_first = true) {
    return set_pin_padded(pad_pin(to_bytes(pin)), refresh_first);
  }

  // changePIN (subcommand 4).
  Response change_pin(std::string_view old_pin, std::string_view new_pin, bool refresh_first = true) {
    if (refresh_first) REQUIRE(refresh().ok());
    const Bytes new_pin_enc = encrypt(pad_pin(to_bytes(new_pin)));
    const Bytes pin_hash_enc = encrypt(pin_hash16(to_bytes(old_pin)));
    return h_.call(kClientPin, Map{{1, 1},
                                   {2, 4},
                                   {3, platform_key()},
                                   {4, left16_hmac(shared_, concat(new_pin_enc, pin_hash_enc))},
                                   {5, new_pin_enc},
                                   {6, pin_hash_enc}});
  }

  // getPINToken (subcommand 5), reply as is.
  Response get_pin_token_raw(std::string_view pin, bool refresh_first = true) {
    if (refresh_first) {
      Response k = refresh();
      REQUIRE(k.ok());
    }
    const Bytes pin_hash_enc = encrypt(pin_hash16(to_bytes(pin)));
    return h_.call(kClientPin, Map{{1, 1}, {2, 5}, {3, platform_key()}, {6, pin_hash_enc}});
  }
  // The decrypted pinToken, or nullopt (the status is in last_status()).
  std::optional<Bytes> get_pin_token(std::string_view pin, bool refresh_first = true) {
    Response r = get_pin_token_raw(pin, refresh_first);
    last_status_ = r.status;
    if (!r.ok()) return std::nullopt;
    const cbor::Value* enc = r.get(2);
    REQUIRE_MESSAGE(enc, "getPINToken reply lacks pinToken (0x02)");
    REQUIRE(enc->is_bytes());
    auto token = decrypt(enc->as_bytes());
    REQUIRE(token.has_value());
    return token;
  }
  Status last_status() const { return last_status_; }

  Response get_retries() { return h_.call(kClientPin, Map{{1, 1}, {2, 1}}); }

 private:
  Harness& h_;
  crypto::SeededRng rng_;
  crypto::PrivateKey key_;
  Bytes shared_;
  Map authenticator_key_;
  Status last_status_ = Status::Other;
};

// ---------------------------------------------------------------------------
// U2F (FIDO U2F Raw Message Formats): APDU builders.

// CLA INS P1 P2 [Lc data] [Le] with one-byte Lc/Le (Lc 1..255).
inline Bytes apdu_short(uint8_t ins, uint8_t p1, const Bytes& data, bool with_le = true) {
  Bytes a;
  a.reserve(4 + 1 + data.size() + 1);
  for (uint8_t b : {uint8_t{0x00}, ins, p1, uint8_t{0x00}}) a.push_back(b);
  if (!data.empty()) a.push_back(static_cast<uint8_t>(data.size()));
  for (uint8_t b : data) a.push_back(b);
  if (with_le) a.push_back(0x00);
  return a;
}

// CLA INS P1 P2 [00 Lc1 Lc2 data [Le1 Le2]] or CLA INS P1 P2 00 Le1 Le2.
inline Bytes apdu_extended(uint8_t ins, uint8_t p1, const Bytes& data, bool with_le = true) {
  Bytes a;
  a.reserve(4 + 3 + data.size() + 2);
  for (uint8_t b : {uint8_t{0x00}, ins, p1, uint8_t{0x00}}) a.push_back(b);
  if (!data.empty()) {
    a.push_back(0x00);
    a.push_back(static_cast<uint8_t>(data.size() >> 8));
    a.push_back(static_cast<uint8_t>(data.size()));
    for (uint8_t b : data) a.push_back(b);
    if (with_le) {
      a.push_back(0x00);
      a.push_back(0x00);
    }
  } else if (with_le) {
    for (int i = 0; i < 3; ++i) a.push_back(0x00);
  }
  return a;
}

inline uint16_t status_word(const Bytes& reply) {
  REQUIRE_MESSAGE(reply.size() >= 2, "APDU reply shorter than a status word");
  return get_u16_be(reply.data() + reply.size() - 2);
}

inline Bytes data_of(const Bytes& reply) {
  REQUIRE(reply.size() >= 2);
  return Bytes(reply.begin(), reply.end() - 2);
}

}  // namespace vauth::ctaptest
