// CTAP status codes (CTAP 2.1 §8.2 "Status codes") and CTAP2 command bytes.
#pragma once

#include <cstdint>

namespace vauth::ctap {

enum class Status : uint8_t {
  Ok = 0x00,
  InvalidCommand = 0x01,
  InvalidParameter = 0x02,
  InvalidLength = 0x03,
  InvalidSeq = 0x04,
  Timeout = 0x05,
  ChannelBusy = 0x06,
  LockRequired = 0x0a,
  InvalidChannel = 0x0b,
  CborUnexpectedType = 0x11,
  InvalidCbor = 0x12,
  MissingParameter = 0x14,
  LimitExceeded = 0x15,
  UnsupportedExtension = 0x16,
  FpDatabaseFull = 0x17,
  LargeBlobStorageFull = 0x18,
  CredentialExcluded = 0x19,
  Processing = 0x21,
  InvalidCredential = 0x22,
  UserActionPending = 0x23,
  OperationPending = 0x24,
  NoOperations = 0x25,
  UnsupportedAlgorithm = 0x26,
  OperationDenied = 0x27,
  KeyStoreFull = 0x28,
  NotBusy = 0x29,
  NoOperationPending = 0x2a,
  UnsupportedOption = 0x2b,
  InvalidOption = 0x2c,
  KeepaliveCancel = 0x2d,
  NoCredentials = 0x2e,
  UserActionTimeout = 0x2f,
  NotAllowed = 0x30,
  PinInvalid = 0x31,
  PinBlocked = 0x32,
  PinAuthInvalid = 0x33,
  PinAuthBlocked = 0x34,
  PinNotSet = 0x35,
  PuatRequired = 0x36,  // CTAP 2.0: PIN_REQUIRED
  PinPolicyViolation = 0x37,
  PinTokenExpired = 0x38,
  RequestTooLarge = 0x39,
  ActionTimeout = 0x3a,
  UpRequired = 0x3b,
  UvBlocked = 0x3c,
  IntegrityFailure = 0x3d,
  InvalidSubcommand = 0x3e,
  UvInvalid = 0x3f,
  UnauthorizedPermission = 0x40,
  Other = 0x7f,
};

// "CTAP2_ERR_PIN_INVALID" style names, for traces and test messages.
const char* to_string(Status s);

// authenticator API command bytes (CTAP 2.1 §6).
namespace command {
constexpr uint8_t kMakeCredential = 0x01, kGetAssertion = 0x02, kGetInfo = 0x04, kClientPin = 0x06,
                  kReset = 0x07, kGetNextAssertion = 0x08, kBioEnrollment = 0x09,
                  kCredentialManagement = 0x0a, kSelection = 0x0b, kLargeBlobs = 0x0c, kConfig = 0x0d;
// The FIDO_2_1_PRE spelling of credential management, still sent by libfido2 1.12
// to keys that advertise "credentialMgmtPreview".
constexpr uint8_t kCredentialManagementPreview = 0x41;
// Likewise FIDO_2_1_PRE's bio enrollment, which libfido2 1.12 always sends.
constexpr uint8_t kBioEnrollmentPreview = 0x40;
}  // namespace command

}  // namespace vauth::ctap
