#include "vauth/ctap/status.h"

namespace vauth::ctap {

const char* to_string(Status s) {
  switch (s) {
    case Status::Ok: return "CTAP2_OK";
    case Status::InvalidCommand: return "CTAP1_ERR_INVALID_COMMAND";
    case Status::InvalidParameter: return "CTAP1_ERR_INVALID_PARAMETER";
    case Status::InvalidLength: return "CTAP1_ERR_INVALID_LENGTH";
    case Status::InvalidSeq: return "CTAP1_ERR_INVALID_SEQ";
    case Status::Timeout: return "CTAP1_ERR_TIMEOUT";
    case Status::ChannelBusy: return "CTAP1_ERR_CHANNEL_BUSY";
    case Status::LockRequired: return "CTAP1_ERR_LOCK_REQUIRED";
    case Status::InvalidChannel: return "CTAP1_ERR_INVALID_CHANNEL";
    case Status::CborUnexpectedType: return "CTAP2_ERR_CBOR_UNEXPECTED_TYPE";
    case Status::InvalidCbor: return "CTAP2_ERR_INVALID_CBOR";
    case Status::MissingParameter: return "CTAP2_ERR_MISSING_PARAMETER";
    case Status::LimitExceeded: return "CTAP2_ERR_LIMIT_EXCEEDED";
    case Status::UnsupportedExtension: return "CTAP2_ERR_UNSUPPORTED_EXTENSION";
    case Status::FpDatabaseFull: return "CTAP2_ERR_FP_DATABASE_FULL";
    case Status::LargeBlobStorageFull: return "CTAP2_ERR_LARGE_BLOB_STORAGE_FULL";
    case Status::CredentialExcluded: return "CTAP2_ERR_CREDENTIAL_EXCLUDED";
    case Status::Processing: return "CTAP2_ERR_PROCESSING";
    case Status::InvalidCredential: return "CTAP2_ERR_INVALID_CREDENTIAL";
    case Status::UserActionPending: return "CTAP2_ERR_USER_ACTION_PENDING";
    case Status::OperationPending: return "CTAP2_ERR_OPERATION_PENDING";
    case Status::NoOperations: return "CTAP2_ERR_NO_OPERATIONS";
    case Status::UnsupportedAlgorithm: return "CTAP2_ERR_UNSUPPORTED_ALGORITHM";
    case Status::OperationDenied: return "CTAP2_ERR_OPERATION_DENIED";
    case Status::KeyStoreFull: return "CTAP2_ERR_KEY_STORE_FULL";
    case Status::NotBusy: return "CTAP2_ERR_NOT_BUSY";
    case Status::NoOperationPending: return "CTAP2_ERR_NO_OPERATION_PENDING";
    case Status::UnsupportedOption: return "CTAP2_ERR_UNSUPPORTED_OPTION";
    case Status::InvalidOption: return "CTAP2_ERR_INVALID_OPTION";
    case Status::KeepaliveCancel: return "CTAP2_ERR_KEEPALIVE_CANCEL";
    case Status::NoCredentials: return "CTAP2_ERR_NO_CREDENTIALS";
    case Status::UserActionTimeout: return "CTAP2_ERR_USER_ACTION_TIMEOUT";
    case Status::NotAllowed: return "CTAP2_ERR_NOT_ALLOWED";
    case Status::PinInvalid: return "CTAP2_ERR_PIN_INVALID";
    case Status::PinBlocked: return "CTAP2_ERR_PIN_BLOCKED";
    case Status::PinAuthInvalid: return "CTAP2_ERR_PIN_AUTH_INVALID";
    case Status::PinAuthBlocked: return "CTAP2_ERR_PIN_AUTH_BLOCKED";
    case Status::PinNotSet: return "CTAP2_ERR_PIN_NOT_SET";
    case Status::PuatRequired: return "CTAP2_ERR_PUAT_REQUIRED";
    case Status::PinPolicyViolation: return "CTAP2_ERR_PIN_POLICY_VIOLATION";
    case Status::PinTokenExpired: return "CTAP2_ERR_PIN_TOKEN_EXPIRED";
    case Status::RequestTooLarge: return "CTAP2_ERR_REQUEST_TOO_LARGE";
    case Status::ActionTimeout: return "CTAP2_ERR_ACTION_TIMEOUT";
    case Status::UpRequired: return "CTAP2_ERR_UP_REQUIRED";
    case Status::UvBlocked: return "CTAP2_ERR_UV_BLOCKED";
    case Status::IntegrityFailure: return "CTAP2_ERR_INTEGRITY_FAILURE";
    case Status::InvalidSubcommand: return "CTAP2_ERR_INVALID_SUBCOMMAND";
    case Status::UvInvalid: return "CTAP2_ERR_UV_INVALID";
    case Status::UnauthorizedPermission: return "CTAP2_ERR_UNAUTHORIZED_PERMISSION";
    case Status::Other: return "CTAP1_ERR_OTHER";
  }
  return "CTAP_STATUS_UNKNOWN";
}

}  // namespace vauth::ctap
