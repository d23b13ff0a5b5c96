// A vauth key opened by libfido2 (through libfido2_io), and RAII wrappers for
// libfido2's credential and assertion objects: shared by the libfido2 tests.
#pragma once

#include <doctest/doctest.h>
#include <fido.h>

#include <string>
#include <vector>

#include "tests/integration/libfido2_io.h"

namespace vauth::test {

class Libfido2Key {
 public:
  explicit Libfido2Key(ctap::Profile profile = {}, uint64_t seed = 42) : key_(std::move(profile), seed) {
    static int counter = 0;
    path_ = "vauth-loopback-" + std::to_string(++counter);
    register_key(path_, &key_);
    fido_init(0);
    dev_ = fido_dev_new();
    REQUIRE(fido_dev_set_io_functions(dev_, &kLoopbackIo) == FIDO_OK);
    REQUIRE(fido_dev_open(dev_, path_.c_str()) == FIDO_OK);
  }
  ~Libfido2Key() {
    fido_dev_close(dev_);
    fido_dev_free(&dev_);
    unregister_key(path_);
  }
  Libfido2Key(const Libfido2Key&) = delete;
  Libfido2Key& operator=(const Libfido2Key&) = delete;

  fido_dev_t* dev() { return dev_; }
  VirtualKey& key() { return key_; }

  // Re-opens the device (INIT again), as a client does after a replug.
  void reopen() {
    fido_dev_close(dev_);
    REQUIRE(fido_dev_open(dev_, path_.c_str()) == FIDO_OK);
  }

 private:
  VirtualKey key_;
  std::string path_;
  fido_dev_t* dev_ = nullptr;
};

using Blob = std::vector<unsigned char>;

struct Cred {
  fido_cred_t* c = fido_cred_new();
  Cred() = default;
  Cred(const Cred&) = delete;
  Cred& operator=(const Cred&) = delete;
  ~Cred() { fido_cred_free(&c); }
  Blob id() const { return {fido_cred_id_ptr(c), fido_cred_id_ptr(c) + fido_cred_id_len(c)}; }
  Blob pubkey() const { return {fido_cred_pubkey_ptr(c), fido_cred_pubkey_ptr(c) + fido_cred_pubkey_len(c)}; }
};

struct Assert {
  fido_assert_t* a = fido_assert_new();
  Assert() = default;
  Assert(const Assert&) = delete;
  Assert& operator=(const Assert&) = delete;
  ~Assert() { fido_assert_free(&a); }
};

}  // namespace vauth::test
