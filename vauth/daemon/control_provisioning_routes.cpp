// Provisioning in the control API (docs/control-api.md "Provisioning"):
//   POST   /v1/devices/{n}/credentials                     add a credential (W3C "Add Credential")
//   GET    /v1/devices/{n}/credentials[/{id}]?include=privateKey   ... with private keys (W3C "Get Credentials")
//   GET    /v1/devices/{n}/export                          the whole device, secrets included
//   POST   /v1/devices/{n}/import                          become the exported device (replaces everything)
//   DELETE /v1/devices/{n}/pin                             forget the PIN
// Each request is validated completely (provisioning_json.cpp) and then committed
// in one store commit, so a refused request changes nothing and an accepted one
// is durable before the answer leaves.
#include <optional>

#include "vauth/crypto/primitives.h"
#include "vauth/ctap/credential_id.h"
#include "vauth/daemon/base64url.h"
#include "vauth/daemon/control_helpers.h"
#include "vauth/daemon/large_blob_entry.h"
#include "vauth/daemon/large_blob_orphans.h"
#include "vauth/daemon/provisioning_json.h"

namespace vauth::daemon {
namespace {

// Whether the target's query asks for private keys: "?include=privateKey". Any
// other query is refused, so a misspelt one does not silently export nothing.
constexpr size_t kLargeBlobKeyLength = 32;  // CTAP 2.1 §12.3

bool include_private_key(const ControlRequest& r) {
  const size_t q = r.target.find('?');
  if (q == std::string::npos) return false;
  const std::string query = r.target.substr(q + 1);
  if (query == "include=privateKey") return true;
  fail(400, "bad request", "the only query this resource takes is ?include=privateKey");
}

}  // namespace

std::optional<ControlResponse> ControlRoutes::provisioning_route(const ControlRequest& r, VirtualDevice& d,
                                                                 const std::vector<std::string>& rest) {
  const std::string& what = rest[0];
  if (what == "credentials" && rest.size() == 1 && r.method == "POST") return add_credential(d, parse_object(r));
  if (what == "credentials" && r.method == "GET" && include_private_key(r)) {
    const store::State& st = d.state();
    if (rest.size() == 1) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto* c : stored_credentials(st))
        list.push_back(credential_to_json(*c, st.sign_count, true, st.large_blob_array));
      events_.publish("credential.exported", {{"device", d.index()}, {"count", list.size()}});
      return ok(std::move(list));
    }
    const auto id = base64url_decode(rest[1]);
    const store::Credential* c = id ? st.find_any_credential(*id) : nullptr;
    if (!c || rest.size() > 2) {
      fail(404, "no such credential",
           "device " + std::to_string(d.index()) + " holds no credential " + rest[1].substr(0, 200));
    }
    events_.publish("credential.exported", {{"device", d.index()}, {"credentialId", rest[1]}});
    return ok(credential_to_json(*c, st.sign_count, true, st.large_blob_array));
  }
  if (rest.size() != 1) return std::nullopt;
  if (what == "export") {
    require_method(r, {"GET"});
    events_.publish("device.exported", {{"device", d.index()}});
    return ok(device_to_json(d.state()));
  }
  if (what == "import") {
    require_method(r, {"POST"});
    return import_device(d, parse_object(r));
  }
  if (what == "pin" && r.method == "DELETE") return clear_pin(d);
  return std::nullopt;
}

ControlResponse ControlRoutes::add_credential(VirtualDevice& d, const nlohmann::json& body) {
  const ctap::Profile& profile = d.authenticator().profile();
  auto parsed = credential_from_json(body, profile);
  if (!parsed) fail(400, "bad credential", parsed.error());
  store::Credential& c = parsed->credential;
  const store::State& st = d.state();
  const std::string id_text = base64url_encode(c.id);
  // The ID must name nothing this device knows: a stored credential, or a wrapped
  // ID this device made for the same RP (which carries its own key).
  const bool wrapped =
      ctap::unwrap_credential_id(st.master_secret, crypto::sha256(to_bytes(c.rp_id)), c.id).has_value();
  if (st.find_any_credential(c.id) || wrapped) {
    fail(400, "duplicate credential", "device " + std::to_string(d.index()) + " already has credential " + id_text);
  }
  std::optional<std::string> replaced;
  std::optional<Bytes> new_array;
  if (c.discoverable) {
    for (const auto* old : st.credentials_for_rp(c.rp_id)) {
      if (old->user_id != c.user_id) continue;
      replaced = base64url_encode(old->id);
      // The replaced credential's large-blob entries would stay behind unreadable.
      new_array = large_blob_array_without_removed(st, {old->id}, &c);
    }
    if (!replaced && st.credentials.size() >= profile.max_resident_credentials) {
      fail(409, "credential storage full",
           "device " + std::to_string(d.index()) + " holds " + std::to_string(st.credentials.size()) +
               " resident credentials already");
    }
  }
  // The blob goes into the array under the credential's largeBlobKey (one of 32
  // random bytes when none was given), replacing what that key held before.
  if (parsed->large_blob) {
    if (c.large_blob_key.empty()) c.large_blob_key = d.rng().bytes(kLargeBlobKeyLength);
    auto array = large_blob_array_with(new_array ? ByteView(*new_array) : ByteView(st.large_blob_array),
                                       c.large_blob_key, *parsed->large_blob, d.rng());
    if (!array) fail(409, "large-blob array unreadable", array.error());
    if (array->size() > profile.max_serialized_large_blob_array) {
      fail(400, "large blob too big",
           "the large-blob array would be " + std::to_string(array->size()) + " bytes; this device holds at most " +
               std::to_string(profile.max_serialized_large_blob_array));
    }
    new_array = std::move(*array);
  }
  c.created = st.next_credential_seq;
  std::vector<store::Mutation> batch{{store::change::PutCredential{c}}};
  // One global counter: raising it to the W3C signCount makes this credential's next
  // assertion report more than the relying party stored (and only raises the others').
  if (parsed->sign_count > st.sign_count) batch.push_back({store::change::SetSignCount{parsed->sign_count}});
  if (new_array) batch.push_back({store::change::SetLargeBlobArray{std::move(*new_array)}});
  // Atomic: the credential, its counter and the array with its blob and without
  // the replaced credential's, or none of them.
  d.store().commit(batch);
  nlohmann::json event = {
      {"device", d.index()}, {"credentialId", id_text}, {"rpId", c.rp_id}, {"isResidentCredential", c.discoverable}};
  if (replaced) event["replaced"] = *replaced;
  events_.publish("credential.added", event);
  nlohmann::json out = credential_to_json(*d.state().find_any_credential(c.id), d.state().sign_count, false);
  if (replaced) out["replaced"] = *replaced;
  return ControlResponse{201, std::move(out), {}};
}

ControlResponse ControlRoutes::import_device(VirtualDevice& d, const nlohmann::json& body) {
  auto mutations = device_import_mutations(body, d.authenticator().profile());
  if (!mutations) fail(400, "bad device document", mutations.error());
  d.store().commit(*mutations);  // one commit: after a crash, the old device or the imported one
  // Like a reset: PIN tokens, pending requests and channels of the old device end.
  d.power_cycle();
  const store::State& st = d.state();
  const size_t credentials = st.credentials.size() + st.non_discoverable.size();
  events_.publish("device.imported", {{"device", d.index()}, {"credentials", credentials}});
  return ok({{"device", d.index()},
             {"imported", true},
             {"credentials", credentials},
             {"pinSet", st.pin_hash.has_value()},
             {"signCount", st.sign_count}});
}

ControlResponse ControlRoutes::clear_pin(VirtualDevice& d) {
  const bool had_pin = d.state().pin_hash.has_value();
  if (had_pin) {
    d.store().commit(store::Mutation{store::change::ClearPin{}});
    // As for PUT .../pin: tokens issued under the old PIN stop working.
    d.power_cycle();
    events_.publish("device.pin-cleared", {{"device", d.index()}});
  }
  // Idempotent: asking a key without a PIN to forget it succeeds and changes nothing.
  return ok(
      {{"device", d.index()}, {"cleared", had_pin}, {"pin", {{"set", false}, {"retries", d.state().pin_retries}}}});
}

}  // namespace vauth::daemon
