#include "vauth/ctap/fault_handler.h"

#include <algorithm>
#include <memory>

#include "vauth/cbor/codec.h"
#include "vauth/ctap/command_names.h"
#include "vauth/ctap/status.h"

namespace vauth::ctap {
namespace {

using faults::Action;

constexpr uint16_t kSwConditionsNotSatisfied = 0x6985;

// Where each command keeps its subCommand and extensions (CTAP 2.1 §6).
std::optional<int> subcommand_key(uint8_t cmd) {
  switch (cmd) {
    case command::kClientPin: return 0x02;
    case command::kBioEnrollment: return 0x02;
    case command::kCredentialManagement:
    case command::kCredentialManagementPreview:
    case command::kConfig: return 0x01;
  }
  return std::nullopt;
}

std::optional<int> extensions_key(uint8_t cmd) {
  if (cmd == command::kMakeCredential) return 0x06;
  if (cmd == command::kGetAssertion) return 0x04;
  return std::nullopt;
}

bool is_response_fault(Action a) {
  return a == Action::BadSignature || a == Action::MalformedCbor || a == Action::NonCanonicalCbor ||
         a == Action::MissingField || a == Action::BrokenChain;
}

bool is_auth_data_fault(Action a) {
  return a == Action::BadRpIdHash || a == Action::FlipUp || a == Action::FlipUv || a == Action::CounterFreeze ||
         a == Action::CounterBack || a == Action::ExtraExtension;
}

void flip_last_byte(cbor::Value* v) {
  if (v && v->is_bytes() && !v->as_bytes().empty()) v->as_bytes().back() ^= 0x01;
}

cbor::Value* field(cbor::Value::Map& m, const cbor::Value& key) {
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

// The key a missing-field fault drops by default: one the client cannot do without.
int default_missing_key(uint8_t cmd, const cbor::Value::Map& body) {
  if (cmd == command::kMakeCredential) return 1;  // fmt
  if (cmd == command::kGetAssertion || cmd == command::kGetNextAssertion) return 2;  // authData
  if (cmd == command::kGetInfo) return 1;  // versions
  for (const auto& [k, v] : body) {
    if (k.is_unsigned()) return static_cast<int>(k.as_unsigned());
  }
  return 1;
}

Bytes status_only(uint8_t status) { return Bytes{status}; }

Bytes sw_only(uint16_t sw) {
  Bytes out;
  put_u16_be(out, sw);
  return out;
}

}  // namespace

faults::Call describe_ctap2_request(ByteView request) {
  faults::Call call;
  static thread_local std::string name;  // Call holds a view; one request is described at a time
  name = request.empty() ? "(empty)" : command_name(request[0]);
  call.command = name;
  if (request.size() < 2) return call;
  const auto sub_key = subcommand_key(request[0]);
  const auto ext_key = extensions_key(request[0]);
  if (!sub_key && !ext_key) return call;
  auto params = cbor::decode(request.subspan(1));
  if (!params || !params->is_map()) return call;
  auto& m = params->as_map();
  if (sub_key) {
    if (const cbor::Value* v = field(m, cbor::Value(*sub_key)); v && v->is_unsigned()) call.subcommand = v->as_unsigned();
  }
  if (ext_key) {
    if (const cbor::Value* v = field(m, cbor::Value(*ext_key)); v && v->is_map()) {
      for (const auto& [k, unused] : v->as_map()) {
        if (k.is_text()) call.extensions.push_back(k.as_text());
      }
    }
  }
  return call;
}

Bytes mutate_ctap2_response(Bytes response, uint8_t cmd, const std::vector<faults::Fired>& fired) {
  if (response.size() < 2 || response[0] != 0x00) return response;  // only successful answers with a body
  auto decoded = cbor::decode(ByteView(response).subspan(1));
  if (!decoded || !decoded->is_map()) return response;
  cbor::Value::Map& body = decoded->as_map();
  bool truncate = false, reverse = false;
  for (const faults::Fired& f : fired) {
    switch (f.action) {
      case Action::BadSignature:
        if (cmd == command::kMakeCredential) {
          if (cbor::Value* st = field(body, cbor::Value(3)); st && st->is_map()) flip_last_byte(field(st->as_map(), "sig"));
        } else {
          flip_last_byte(field(body, cbor::Value(3)));
        }
        break;
      case Action::BrokenChain:
        // The leaf still parses and its key still verifies the attestation
        // signature, but its own signature no longer chains to the CA.
        if (cbor::Value* st = field(body, cbor::Value(3)); st && st->is_map()) {
          if (cbor::Value* x5c = field(st->as_map(), "x5c"); x5c && x5c->is_array() && !x5c->as_array().empty()) {
            flip_last_byte(&x5c->as_array().front());
          }
        }
        break;
      case Action::MissingField: {
        const int key = f.value ? static_cast<int>(*f.value) : default_missing_key(cmd, body);
        body.erase(cbor::Value(key));
        break;
      }
      case Action::MalformedCbor: truncate = true; break;
      case Action::NonCanonicalCbor: reverse = true; break;
      default: break;
    }
  }
  Bytes out{0x00};
  append(out, reverse ? cbor::encode_reversed_maps(*decoded) : cbor::encode(*decoded));
  if (truncate) out.pop_back();  // the last item ends early: no longer well-formed CBOR
  return out;
}

FaultHandler::~FaultHandler() {
  for (TimerQueue::TimerId id : delays_) timers_.cancel(id);
}

void FaultHandler::deliver(Reply reply, Bytes response, const std::vector<faults::Fired>& fired) {
  int64_t delay = 0;
  for (const faults::Fired& f : fired) {
    if (f.action == Action::Delay) delay += f.value.value_or(0);
  }
  if (delay == 0) return reply(std::move(response));
  auto id = std::make_shared<TimerQueue::TimerId>(0);
  *id = timers_.call_after(Duration(delay), [this, id, reply = std::move(reply), response = std::move(response)] {
    std::erase(delays_, *id);
    reply(response);
  });
  delays_.push_back(*id);
}

void FaultHandler::handle_cbor(ByteView request, Reply reply) {
  if (!plan_.has_rules(faults::Layer::Ctap)) {
    auth_data_.disarm();
    return inner_.handle_cbor(request, std::move(reply));
  }
  const uint8_t cmd = request.empty() ? 0 : request[0];
  const std::vector<faults::Fired> fired = plan_.consult(faults::Layer::Ctap, describe_ctap2_request(request));
  if (const faults::Fired* f = faults::find(fired, Action::Status)) {
    return deliver(std::move(reply), status_only(static_cast<uint8_t>(f->value.value_or(0x7f))), fired);
  }
  if (faults::find(fired, Action::Stall)) {
    stalled_ = Stalled{std::move(reply), status_only(static_cast<uint8_t>(Status::KeepaliveCancel))};
    return;
  }
  std::vector<Action> auth_data;
  bool mutate = false;
  for (const faults::Fired& f : fired) {
    if (is_auth_data_fault(f.action)) auth_data.push_back(f.action);
    mutate |= is_response_fault(f.action);
  }
  auth_data_.arm(std::move(auth_data));
  inner_.handle_cbor(request, [this, cmd, mutate, fired, reply = std::move(reply)](Bytes response) mutable {
    auth_data_.disarm();
    if (mutate) response = mutate_ctap2_response(std::move(response), cmd, fired);
    deliver(std::move(reply), std::move(response), fired);
  });
}

void FaultHandler::handle_msg(ByteView apdu, Reply reply) {
  if (!plan_.has_rules(faults::Layer::U2f)) return inner_.handle_msg(apdu, std::move(reply));
  const std::string name = u2f_instruction_name(apdu);
  faults::Call call;
  call.command = name;
  const std::vector<faults::Fired> fired = plan_.consult(faults::Layer::U2f, call);
  if (const faults::Fired* f = faults::find(fired, Action::Status)) {
    return deliver(std::move(reply), sw_only(static_cast<uint16_t>(f->value.value_or(0x6f00))), fired);
  }
  if (faults::find(fired, Action::Stall)) {
    stalled_ = Stalled{std::move(reply), sw_only(kSwConditionsNotSatisfied)};
    return;
  }
  const bool bad_signature = faults::find(fired, Action::BadSignature) != nullptr;
  inner_.handle_msg(apdu, [this, bad_signature, fired, reply = std::move(reply)](Bytes response) mutable {
    // Register and authenticate responses both end with the signature, then SW 90 00.
    if (bad_signature && response.size() > 8 && response[response.size() - 2] == 0x90 && response.back() == 0x00) {
      response[response.size() - 3] ^= 0x01;
    }
    deliver(std::move(reply), std::move(response), fired);
  });
}

void FaultHandler::cancel() {
  if (stalled_) {
    Stalled s = std::move(*stalled_);
    stalled_.reset();
    return s.reply(std::move(s.on_cancel));
  }
  inner_.cancel();
}

}  // namespace vauth::ctap
