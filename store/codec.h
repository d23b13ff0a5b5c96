// The CBOR form of the state model, shared by journal records and snapshots.
//
// Every structure is a map with small integer keys. A reader ignores keys it
// does not know and takes an absent key as the field's default, so new fields
// (credProtect, credBlob, largeBlobKey, minPinLength, ...) are added by giving
// them the next free key: no format version bump, and an older build still opens
// the file (it drops only the fields it does not know). Strings are stored as
// byte strings: CTAP truncates user names at 64 bytes, possibly inside a UTF-8
// sequence, and such a name must not make the store unreadable.
//
// Decoding throws StoreError (without an offset; the journal adds it).
#pragma once

#include "store/state.h"
#include "vauth/cbor/value.h"

namespace vauth::store::codec {

cbor::Value encode(const Credential& c);
Credential decode_credential(const cbor::Value& v);

cbor::Value encode(const Attestation& a);
Attestation decode_attestation(const cbor::Value& v);

cbor::Value encode(const AuthenticatorConfig& c);
AuthenticatorConfig decode_config(const cbor::Value& v);

cbor::Value encode(const Enrollment& e);
Enrollment decode_enrollment(const cbor::Value& v);

cbor::Value encode(const Mutation& m);
Mutation decode_mutation(const cbor::Value& v);

// Everything in State except the credentials (a snapshot carries those in parts).
cbor::Value encode_scalars(const State& s);
// Resets `s` to the encoded scalars and no credentials.
void decode_scalars(const cbor::Value& v, State& s);

}  // namespace vauth::store::codec
