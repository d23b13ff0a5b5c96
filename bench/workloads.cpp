#include "bench/workloads.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "bench/ctap_requests.h"
#include "vauth/crypto/primitives.h"

namespace vauth::bench {
namespace {

namespace cmd = transport::ctaphid_cmd;
using crypto::Algorithm;

const std::string kRp = "bench.example";

struct Exchange {
  CtaphidClient& client;
  uint32_t cid;

  // One request; the reply payload, or nullopt on a CTAPHID error / timeout / wrong command.
  std::optional<Bytes> call(uint8_t command, ByteView payload) const {
    std::optional<Message> m = client.transact(cid, command, payload);
    if (!m || m->cmd != command) return std::nullopt;
    return std::move(m->payload);
  }
  Bytes must(uint8_t command, ByteView payload, const char* what) const {
    std::optional<Bytes> r = call(command, payload);
    if (!r) throw std::runtime_error(std::string(what) + ": no reply");
    if (command == cmd::kCbor && ctap_status(*r) != 0) {
      throw std::runtime_error(std::string(what) + ": CTAP status " + std::to_string(ctap_status(*r)));
    }
    return *r;
  }
};

Operation cbor_op(Exchange x, Bytes request) {
  return [x, request = std::move(request)] {
    std::optional<Bytes> r = x.call(cmd::kCbor, request);
    return r && r->size() > 1 && (*r)[0] == 0;
  };
}

Operation ping_op(Exchange x, size_t size) {
  Bytes payload(size);
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<uint8_t>(i * 7 + 1);
  return [x, payload = std::move(payload)] {
    std::optional<Bytes> r = x.call(cmd::kPing, payload);
    return r && *r == payload;
  };
}

Operation make_credential_op(Exchange x, Algorithm alg, bool resident) {
  const Bytes cdh(32, 0x5a);
  Bytes request = make_credential_request(kRp, Bytes(16, 0x42), alg, resident, cdh);
  const Bytes first = x.must(cmd::kCbor, request, "makeCredential");
  if (!credential_id_of(first)) throw std::runtime_error("makeCredential: the reply has no credential");
  return cbor_op(x, std::move(request));
}

Operation get_assertion_op(Exchange x, bool resident, const std::string& rp) {
  const Bytes cdh(32, 0x33);
  std::optional<Bytes> id;
  if (rp == kRp) {
    const Bytes made = x.must(cmd::kCbor, make_credential_request(kRp, Bytes(16, 0x24), Algorithm::ES256, resident, cdh),
                              "makeCredential (setup)");
    id = credential_id_of(made);
    if (!id) throw std::runtime_error("makeCredential (setup): no credential");
  }
  Bytes request = get_assertion_request(rp, cdh, resident ? nullptr : &*id);
  if (!is_assertion(x.must(cmd::kCbor, request, "getAssertion"))) {
    throw std::runtime_error("getAssertion: the reply is not an assertion");
  }
  return cbor_op(x, std::move(request));
}

Operation pin_token_op(Exchange x, const std::string& pin) {
  crypto::SystemRng rng;
  auto client = std::make_shared<PinClient>(rng);
  if (!client->accept_key_agreement(x.must(cmd::kCbor, client->key_agreement_request(), "getKeyAgreement"))) {
    throw std::runtime_error("getKeyAgreement: no usable key");
  }
  Bytes request = client->pin_token_request(pin);
  constexpr uint8_t kPinNotSet = 0x35;
  std::optional<Bytes> first = x.call(cmd::kCbor, request);
  if (first && ctap_status(*first) == kPinNotSet) x.must(cmd::kCbor, client->set_pin_request(pin), "setPIN");
  if (!client->pin_token(x.must(cmd::kCbor, request, "getPinToken"))) {
    throw std::runtime_error("getPinToken: no token in the reply");
  }
  return cbor_op(x, std::move(request));
}

Operation u2f_authenticate_op(Exchange x) {
  const Bytes challenge(32, 0x61), application = crypto::sha256(to_bytes("https://" + kRp));
  const Bytes reg = x.must(cmd::kMsg, u2f_register_apdu(challenge, application), "U2F register");
  std::optional<Bytes> handle = u2f_key_handle(reg);
  if (!handle) throw std::runtime_error("U2F register: no key handle");
  Bytes apdu = u2f_authenticate_apdu(challenge, application, *handle);
  if (!u2f_ok(x.must(cmd::kMsg, apdu, "U2F authenticate"))) throw std::runtime_error("U2F authenticate refused");
  return [x, apdu = std::move(apdu)] {
    std::optional<Bytes> r = x.call(cmd::kMsg, apdu);
    return r && u2f_ok(*r);
  };
}

}  // namespace

const std::vector<WorkloadInfo>& all_workloads() {
  static const std::vector<WorkloadInfo> list{
      {"getinfo", "authenticatorGetInfo", false, 0},
      {"ping-64", "CTAPHID_PING of 64 bytes (2 reports each way)", false, 0},
      {"ping-1024", "CTAPHID_PING of 1 KiB (18 reports each way)", false, 0},
      {"ping-7609", "CTAPHID_PING of 7609 bytes, the largest message (129 reports each way)", false, 0},
      {"mc-es256", "makeCredential, ES256, non-resident (wrapped ID)", false, 0},
      {"mc-es256-rk", "makeCredential, ES256, resident", false, 0},
      {"mc-eddsa", "makeCredential, EdDSA, non-resident", false, 0},
      {"mc-eddsa-rk", "makeCredential, EdDSA, resident", false, 0},
      {"ga-wrapped", "getAssertion with an allow list (wrapped ES256 ID)", false, 0},
      {"ga-resident", "getAssertion, discoverable, the RP's only credential", false, 0},
      {"u2f-auth", "U2F authenticate (enforce presence and sign)", false, 0},
      // Sets a PIN when the key has none, so it runs after the resident makeCredentials.
      {"pin-token", "clientPIN getPinToken (ECDH, PIN check, 2 retry-counter commits)", false, 0},
      {"ga-rk-10", "discoverable getAssertion, 10 resident credentials in the store", true, 10},
      {"ga-rk-1000", "discoverable getAssertion, 1,000 resident credentials", true, 1000},
      {"ga-rk-100000", "discoverable getAssertion, 100,000 resident credentials", true, 100000},
  };
  return list;
}

Operation prepare_workload(const std::string& name, CtaphidClient& client, uint32_t cid,
                           const std::string& resident_rp, const std::string& pin) {
  const Exchange x{client, cid};
  if (name == "getinfo") {
    const Bytes request{kGetInfo};
    x.must(cmd::kCbor, request, "getInfo");
    return cbor_op(x, request);
  }
  if (name.rfind("ping-", 0) == 0) return ping_op(x, std::stoul(name.substr(5)));
  if (name == "mc-es256") return make_credential_op(x, Algorithm::ES256, false);
  if (name == "mc-es256-rk") return make_credential_op(x, Algorithm::ES256, true);
  if (name == "mc-eddsa") return make_credential_op(x, Algorithm::EdDSA, false);
  if (name == "mc-eddsa-rk") return make_credential_op(x, Algorithm::EdDSA, true);
  if (name == "ga-wrapped") return get_assertion_op(x, false, kRp);
  if (name == "ga-resident") return get_assertion_op(x, true, kRp);
  if (name.rfind("ga-rk-", 0) == 0) return get_assertion_op(x, true, resident_rp);
  if (name == "pin-token") return pin_token_op(x, pin);
  if (name == "u2f-auth") return u2f_authenticate_op(x);
  throw std::runtime_error("no workload " + name);
}

uint64_t ping_every_size(CtaphidClient& client, uint32_t cid, size_t step) {
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= transport::kMaxMessageSize; n += std::max<size_t>(step, 1)) sizes.push_back(n);
  // Each packet boundary and its neighbours: where framing bugs live.
  for (size_t edge = transport::kInitPayload; edge <= transport::kMaxMessageSize; edge += transport::kContPayload) {
    for (size_t n : {edge - 1, edge, edge + 1}) {
      if (n <= transport::kMaxMessageSize) sizes.push_back(n);
    }
  }
  sizes.push_back(transport::kMaxMessageSize);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  uint64_t errors = 0;
  Bytes payload;
  for (size_t n : sizes) {
    payload.resize(n);
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<uint8_t>(i ^ n);
    std::optional<Message> m = client.transact(cid, cmd::kPing, payload);
    if (!m || m->cmd != cmd::kPing || m->payload != payload) ++errors;
  }
  return errors;
}

}  // namespace vauth::bench
