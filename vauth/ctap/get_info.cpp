// authenticatorGetInfo (CTAP 2.1 §6.4). Only what is implemented is advertised.
#include "vauth/ctap/commands.h"
#include "vauth/ctap/get_info_profile.h"

namespace vauth::ctap {

Response get_info(const Session& s) {
  const Profile& p = s.profile;
  cbor::Value::Array versions;
  if (p.u2f) versions.emplace_back("U2F_V2");
  versions.emplace_back("FIDO_2_0");

  cbor::Value::Map options{{"plat", false},
                           {"rk", p.resident_keys},
                           {"up", true},
                           {"clientPin", s.pin_set()},
                           {"pinUvAuthToken", true},
                           {"credMgmt", p.resident_keys},
                           {"makeCredUvNotRqd", p.make_cred_uv_not_required}};

  cbor::Value::Array algorithms;
  for (crypto::Algorithm a : p.algorithms) {
    algorithms.emplace_back(cbor::Value::Map{{"alg", static_cast<int32_t>(a)}, {"type", "public-key"}});
  }

  cbor::Value::Map info;
  info[0x01] = std::move(versions);
  info[0x02] = cbor::Value::Array{"credProtect"};  // extensions (CTAP 2.1 §12.1)
  info[0x03] = Bytes(p.aaguid.begin(), p.aaguid.end());
  info[0x04] = std::move(options);
  info[0x05] = p.max_message_size;
  info[0x06] = cbor::Value::Array{2, 1};  // pinUvAuthProtocols, most preferred first
  info[0x07] = p.max_credential_count_in_list;
  info[0x08] = p.max_credential_id_length;
  info[0x09] = cbor::Value::Array{"usb"};
  info[0x0a] = std::move(algorithms);
  shape_info_for_profile(p, info);  // what the persona advertises
  return Response{Status::Ok, cbor::Value(std::move(info))};
}

}  // namespace vauth::ctap
